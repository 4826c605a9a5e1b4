"""CSV rendering of a result table ({columns, rows}) for downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer


class ResultCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if isinstance(data, dict) and "columns" in data:
            writer.writerow([c["name"] for c in data["columns"]])
            writer.writerows(["" if v is None else v for v in row] for row in data["rows"])
        return out.getvalue().encode(self.charset)
