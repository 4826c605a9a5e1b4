"""Management commands run_query and druid_check, against the real engine."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.explorer.conftest import TOPN, make_query
from tests.localdruid.harness import free_port

pytestmark = pytest.mark.django_db


def test_run_query_json_and_csv(users: dict[str, User]) -> None:
    make_query(users["alice"], "top", TOPN)
    out = io.StringIO()
    call_command("run_query", "top", stdout=out)
    assert json.loads(out.getvalue())["rows"][0][1:] == ["en", 135]
    out = io.StringIO()
    call_command("run_query", "top", "--format", "csv", stdout=out)
    assert out.getvalue().splitlines()[:2] == [
        "timestamp,channel,added",
        "2024-01-01T00:10:00.000Z,en,135",
    ]
    with pytest.raises(CommandError, match="No saved query"):
        call_command("run_query", "nope")


def test_druid_check(settings: Any) -> None:
    out = io.StringIO()
    call_command("druid_check", stdout=out)
    assert "reachable" in out.getvalue() and "edits" in out.getvalue()
    settings.DRUID_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CommandError, match="Cannot reach Druid"):
        call_command("druid_check")
