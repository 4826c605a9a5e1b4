"""A dashboard in a browser: every chart drawn, one set of controls for all of them."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from explorer.models import Dashboard, DashboardItem
from tests.e2e.conftest import (
    CHANNELS,
    TRAFFIC_GROUPBY,
    TRAFFIC_TIMESERIES,
    TRAFFIC_TOPN,
    api_get,
    screenshot,
)
from tests.explorer.conftest import make_query


def test_dashboard_draws_all_its_charts_under_shared_controls(
    login: Callable[[User], Page], users: dict[str, User], traffic: str
) -> None:
    alice = users["alice"]
    board = Dashboard.objects.create(owner=alice, slug="overview", title="Overview")
    charts = [
        (make_query(alice, "traffic", TRAFFIC_TIMESERIES, title="Traffic by hour"), 12),
        (make_query(alice, "top-channels", TRAFFIC_TOPN, title="Top channels"), 6),
        (make_query(alice, "deleted", TRAFFIC_GROUPBY, title="Deleted by channel"), 6),
        (make_query(users["carol"], "carols", TRAFFIC_TOPN, title="Carol's own"), 4),
    ]
    for position, (saved, width) in enumerate(charts):
        DashboardItem.objects.create(
            dashboard=board, saved_query=saved, position=position, width=width
        )

    page = login(alice)
    page.goto("/dashboards/overview/")
    panels = page.locator("[data-panel]")
    expect(panels.locator("h2")).to_have_text(
        ["Traffic by hour", "Top channels", "Deleted by channel"]
    )
    expect(page.get_by_text("A chart on this dashboard is not shared with you.")).to_be_visible()
    expect(panels.locator("[data-chart] svg")).to_have_count(3)
    traffic_dots = panels.nth(0).locator('.points[data-series="added"] circle.point')
    expect(traffic_dots).to_have_count(len(api_get(page, "/api/queries/traffic/results/")["rows"]))
    expect(panels.nth(1).locator(".bar-label")).to_have_text(CHANNELS[:5])
    expect(panels.nth(2).locator(".bar-label")).to_have_count(len(CHANNELS))
    expect(panels.locator("[data-run-meta]")).to_have_text([re.compile("^Ran at ")] * 3)
    screenshot(page, "test_dashboard_as_saved")

    # One range for every chart, kept in the URL.
    page.get_by_label("Time range").select_option("PT6H")
    expect(page).to_have_url(re.compile(r"/dashboards/overview/\?range=PT6H$"))
    six_hours = api_get(page, "/api/queries/traffic/results/", interval="PT6H")["rows"]
    expect(traffic_dots).to_have_count(len(six_hours))
    top = api_get(page, "/api/queries/top-channels/results/", interval="PT6H")["rows"]
    expect(panels.nth(1).locator(".bar-label")).to_have_text([row[1] for row in top])

    page.reload()
    expect(page.get_by_label("Time range")).to_have_value("PT6H")
    expect(traffic_dots).to_have_count(len(six_hours))
