"""The Druid JSON each saved-query shape sends, pinned by golden files (tests/explorer/golden).
Run with UPDATE_GOLDEN=1 to rewrite them after an intended change, and review the diff."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from explorer.models import SavedQuery
from explorer.services import saved_query_druid_json
from tests.explorer.conftest import GROUPBY, TIMESERIES, TOPN

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2024, 5, 17, 10, 37, 12, tzinfo=UTC)

SHAPES: dict[str, dict[str, Any]] = {
    "timeseries_absolute": TIMESERIES,
    "timeseries_relative_hourly": {
        **TIMESERIES,
        "interval": "P1D",
        "granularity": "hour",
        "descending": True,
        "context": {"skipEmptyBuckets": True},
    },
    "timeseries_period_zone": {
        **TIMESERIES,
        "interval": "P7D/now",
        "granularity": {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"},
        "filter": {
            "type": "and",
            "fields": [
                {"type": "selector", "dimension": "channel", "value": "en"},
                {"type": "not", "field": {"type": "null", "column": "page"}},
            ],
        },
    },
    "topn_numeric": TOPN,
    "topn_inverted_filtered_agg": {
        **TOPN,
        "metric": {"type": "inverted", "metric": "en"},
        "aggregations": [
            {
                "type": "filtered",
                "name": "en",
                "filter": {"type": "selector", "dimension": "channel", "value": "en"},
                "aggregator": {"type": "count", "name": "en"},
            }
        ],
    },
    "groupby_having_limit": GROUPBY,
    "groupby_virtual_columns_extra": {
        **GROUPBY,
        "extra": {
            "virtualColumns": [{"type": "expression", "name": "v", "expression": "added * 2"}]
        },
    },
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_generated_druid_json_matches_golden(name: str) -> None:
    saved = SavedQuery(slug=name, title=name, **SHAPES[name])
    generated = saved_query_druid_json(saved_query=saved, now=NOW)
    path = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(json.dumps(generated, indent=2, sort_keys=False) + "\n")
    assert path.exists(), f"run with UPDATE_GOLDEN=1 to create {path}"
    assert generated == json.loads(path.read_text())
