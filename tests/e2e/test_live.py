"""Auto-refresh in a browser: new data ingested into Druid shows up as new points by itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.e2e.conftest import fresh_datasource, iso
from tests.explorer.conftest import make_query
from tests.localdruid.harness import LocalDruid, inline_task

METRICS = [{"type": "longSum", "name": "added", "fieldName": "added"}]


def edits_at(datasource: str, moment: datetime, *, append: bool) -> dict:
    rows = [
        {"timestamp": iso(moment), "channel": "en", "added": 12},
        {"timestamp": iso(moment), "channel": "fr", "added": 5},
    ]
    return inline_task(datasource, rows, dimensions=["channel"], metrics=METRICS, append=append)


def test_auto_refresh_adds_points_for_new_data(
    login: Callable[[User], Page], users: dict[str, User], druid: LocalDruid
) -> None:
    datasource = fresh_datasource("e2e_live")
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    druid.ingest(edits_at(datasource, minute - timedelta(minutes=3), append=False))
    definition = {
        "query_type": "timeseries",
        "datasource": datasource,
        "interval": "PT1H",
        "granularity": "minute",
        "aggregations": METRICS,
    }
    # No result cache: each refresh must reach Druid to see what was just ingested.
    make_query(
        users["alice"], "live", definition, title="Live edits", refresh_interval=5, cache_ttl=0
    )
    page = login(users["alice"])
    refreshes: list[str] = []
    page.on("request", lambda request: "since=" in request.url and refreshes.append(request.url))
    page.goto("/charts/live/")

    expect(page.get_by_label("Auto-refresh")).to_have_value("5")  # the saved refresh interval
    dots = page.locator('[data-chart] .points[data-series="added"] circle.point')
    expect(dots).to_have_count(1)

    # A later minute arrives in Druid; within a refresh or two it is on the chart.
    druid.ingest(edits_at(datasource, datetime.now(UTC) - timedelta(seconds=1), append=True))
    expect(dots).to_have_count(2, timeout=15_000)
    expect(page.locator("[data-table] tbody tr")).to_have_count(2)
    assert refreshes  # refreshes asked only for buckets from the last one on
