"""Keyboard use, dark mode, and the token page's copy button, in a browser."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from rest_framework.authtoken.models import Token

from tests.e2e.conftest import TRAFFIC_TIMESERIES, TRAFFIC_TOPN, api_get, screenshot
from tests.explorer.conftest import make_query

MAX_TABS = 40


def test_range_select_is_reachable_by_tab_and_changes_with_the_keyboard(
    login: Callable[[User], Page], users: dict[str, User], traffic: str
) -> None:
    make_query(users["alice"], "traffic", TRAFFIC_TIMESERIES, title="Traffic by hour")
    page = login(users["alice"])
    page.goto("/charts/traffic/")
    dots = page.locator('[data-chart] .points[data-series="added"] circle.point')
    expect(dots).not_to_have_count(0)

    time_range = page.get_by_label("Time range")
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if time_range.evaluate("element => element === document.activeElement"):
            break
    expect(time_range).to_be_focused()
    # The focus is visible: the site's focus ring, not the browser's faint default.
    assert time_range.evaluate("element => getComputedStyle(element).outlineStyle") == "solid"

    page.keyboard.press("ArrowDown")  # "Last 15 minutes"
    page.keyboard.press("ArrowDown")  # "Last hour"
    expect(page).to_have_url(re.compile(r"\?range=PT1H$"))
    last_hour = api_get(page, "/api/queries/traffic/results/", interval="PT1H")["rows"]
    expect(dots).to_have_count(len([row for row in last_hour if row[1] is not None]))
    expect(page.locator("[data-table] tbody tr")).to_have_count(len(last_hour))


def test_dark_mode_follows_the_system(
    login: Callable[[User], Page], users: dict[str, User], traffic: str
) -> None:
    make_query(users["alice"], "traffic", TRAFFIC_TIMESERIES, title="Traffic by hour")
    make_query(users["alice"], "top", TRAFFIC_TOPN, title="Top channels")
    page = login(users["alice"])
    page.emulate_media(color_scheme="dark")
    page.goto("/charts/traffic/")
    expect(page.locator("[data-chart] circle.point").first).to_be_visible()

    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(18, 20, 24)"
    tick = page.locator("[data-chart] .axis-y text").first
    assert tick.evaluate("element => getComputedStyle(element).fill") == "rgb(232, 234, 237)"
    line = page.locator('[data-chart] path.series-line[data-series="added"]')
    assert line.evaluate("element => getComputedStyle(element).stroke") == "rgb(138, 180, 248)"
    screenshot(page, "test_dark_mode_chart")

    page.goto("/")
    expect(page.locator(".card svg.sparkline path, .card svg.sparkline rect")).not_to_have_count(0)
    screenshot(page, "test_dark_mode_catalogue")


def test_copy_the_api_token(login: Callable[[User], Page], users: dict[str, User]) -> None:
    page = login(users["alice"])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/token/")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("[data-copy-status]")).to_have_text("Copied to the clipboard.")
    token = Token.objects.get(user=users["alice"]).key
    assert page.evaluate("navigator.clipboard.readText()") == token
