"""Auto-refresh in a browser: new data ingested or streamed into Druid shows up as new points."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from explorer.demo import demo_seed
from explorer.models import SavedQuery
from tests.e2e.conftest import fresh_datasource, iso
from tests.explorer.conftest import make_query
from tests.localdruid.harness import ROOT, LocalDruid, inline_task

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


def _latest_point(page: Page) -> tuple[int, str]:
    """How many per-second points the web-stream chart shows, and the newest one's time."""
    times = page.locator('[data-chart] .points[data-series="count"] circle.point').evaluate_all(
        "(dots) => dots.map((dot) => dot.getAttribute('data-time'))"
    )
    return len(times), max(times, default="")


def test_the_web_stream_chart_draws_new_points_as_events_stream_in(
    login: Callable[[User], Page], users: dict[str, User], druid: LocalDruid
) -> None:
    """The published example, fed by the demo's own generator through streaming pushes."""
    demo_seed(username="demo")
    datasource = fresh_datasource("e2e_webstream")
    SavedQuery.objects.filter(datasource="webstream").update(datasource=datasource)
    generator = subprocess.Popen(
        [sys.executable, "-m", "localdruid", "generate", "webstream", "--url", druid.url,
         "--datasource", datasource, "--rate", "30", "--duration", "60", "--quiet"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        page = login(users["alice"])
        page.goto("/charts/web-stream-events-per-second/")
        expect(page.get_by_label("Auto-refresh")).to_have_value("5")
        dots = page.locator('[data-chart] .points[data-series="count"] circle.point')
        expect(dots.first).to_be_attached(timeout=15_000)
        count, newest = _latest_point(page)
        # Without a reload, the next refreshes add the seconds that arrived since.
        page.wait_for_function(
            """([count, newest]) => {
                const dots = [...document.querySelectorAll(
                    '[data-chart] .points[data-series="count"] circle.point')];
                const times = dots.map((dot) => dot.getAttribute('data-time')).sort();
                return dots.length > count && times[times.length - 1] > newest;
            }""",
            arg=[count, newest],
            timeout=20_000,
        )
        assert _latest_point(page)[1] > newest
    finally:
        generator.send_signal(signal.SIGINT)
        generator.wait(timeout=30)
    assert generator.returncode == 0
