"""The catalogue in a browser: logging in through the form, the cards one may see, sparklines."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from explorer.models import Visibility
from tests.e2e.conftest import TRAFFIC_GROUPBY, TRAFFIC_TIMESERIES, TRAFFIC_TOPN, screenshot
from tests.explorer.conftest import PASSWORD, make_query


def test_log_in_and_see_exactly_the_charts_one_may_see(
    page: Page, live_server: Any, users: dict[str, User], traffic: str
) -> None:
    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    make_query(alice, "alice-traffic", TRAFFIC_TIMESERIES, title="Traffic by hour")
    make_query(alice, "alice-channels", TRAFFIC_TOPN, title="Top channels")
    make_query(
        alice,
        "alice-nothing",
        {**TRAFFIC_TIMESERIES, "datasource": "e2e_none"},
        title="Nothing here",
    )
    make_query(bob, "bob-shared", TRAFFIC_GROUPBY, Visibility.EVERYONE, title="Deletions")
    make_query(bob, "bob-private", TRAFFIC_TIMESERIES, title="Bob's own")
    make_query(
        carol,
        "carol-analysts",
        TRAFFIC_TOPN,
        Visibility.GROUPS,
        ("analysts",),
        title="For analysts",
    )

    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    screenshot(page, "test_log_in_form")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Charts")
    titles = page.locator(".card h2")
    expect(titles).to_have_text(["Deletions", "Nothing here", "Top channels", "Traffic by hour"])
    expect(page.get_by_text("4 charts")).to_be_visible()

    # Sparklines: a line for the time series, a bar per top channel, a quiet note when empty.
    expect(page.locator("[data-slug=alice-traffic] svg.sparkline path.spark-line")).to_have_count(1)
    expect(page.locator("[data-slug=alice-channels] svg.sparkline rect.spark-bar")).to_have_count(5)
    expect(page.locator("[data-slug=alice-nothing] svg.sparkline .no-preview")).to_have_text(
        "no data"
    )
    expect(page.locator("[data-slug=bob-shared] svg.sparkline rect.spark-bar")).to_have_count(
        len(["en", "de", "fr", "ja", "es", "it", "pt"])
    )
