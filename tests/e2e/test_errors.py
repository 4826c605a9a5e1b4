"""Failures in a browser: the API's own message in a visible error panel, never a blank chart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.e2e.conftest import TRAFFIC_TIMESERIES, TRAFFIC_TOPN, screenshot
from tests.explorer.conftest import make_query
from tests.localdruid.harness import free_port


def test_error_panel_when_druid_is_unreachable(
    login: Callable[[User], Page], users: dict[str, User], settings: Any
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings.DRUID_URL = nowhere  # nothing listens there
    make_query(users["alice"], "traffic", TRAFFIC_TIMESERIES, title="Traffic by hour")
    make_query(users["alice"], "top", TRAFFIC_TOPN, title="Top channels")
    page = login(users["alice"])
    page.goto("/charts/traffic/")

    status = page.locator("[data-status]")
    expect(status).to_be_visible()
    expect(status).to_have_attribute("role", "alert")
    expect(status).to_contain_text(f"Cannot reach Druid at {nowhere}")
    expect(page.locator("[data-chart] svg")).to_have_count(0)
    expect(page.get_by_role("button", name="Export SVG")).to_be_disabled()
    screenshot(page, "test_error_unreachable")

    # The catalogue stays usable: its previews quietly say there is none.
    page.goto("/")
    expect(page.locator(".card svg.sparkline .no-preview")).to_have_text(["no preview"] * 2)


def test_error_panel_lists_the_apis_field_errors(
    login: Callable[[User], Page], users: dict[str, User], traffic: str
) -> None:
    make_query(users["alice"], "traffic", TRAFFIC_TIMESERIES, title="Traffic by hour")
    page = login(users["alice"])
    page.goto("/charts/traffic/?granularity=fortnightly")

    status = page.locator("[data-status]")
    expect(status).to_contain_text("The definition is not valid.")
    expect(status.locator("li")).to_contain_text(["granularity: "])
