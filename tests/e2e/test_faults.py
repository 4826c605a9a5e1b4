"""A real localdruid stopped, then frozen past the timeout, under a browser: every chart and the
datasource page show the cause in an error panel, and reloading after localdruid is back draws
the charts again, with nothing restarted on the site."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from explorer.models import Dashboard, DashboardItem
from tests.e2e.conftest import screenshot
from tests.explorer import test_faults
from tests.explorer.conftest import TIMESERIES, TOPN, make_query
from tests.localdruid.harness import LocalDruid

# The site's fault fixtures: a localdruid of the test's own, and a short DRUID_TIMEOUT_MS.
own_druid = test_faults.own_druid
short_timeout = test_faults.short_timeout


def _expect_drawn(page: Page, charts: int) -> None:
    expect(page.locator("[data-chart] svg")).to_have_count(charts)
    expect(page.locator("[data-status][role=alert]")).to_have_count(0)


def test_pages_show_error_panels_and_recover_when_localdruid_is_back(
    login: Callable[[User], Page],
    users: dict[str, User],
    own_druid: LocalDruid,
    short_timeout: int,
) -> None:
    alice = users["alice"]
    board = Dashboard.objects.create(owner=alice, slug="board", title="Board")
    for position, (slug, definition) in enumerate([("daily", TIMESERIES), ("top", TOPN)]):
        saved = make_query(alice, slug, definition, title=slug.title(), cache_ttl=0)
        DashboardItem.objects.create(dashboard=board, saved_query=saved, position=position)
    page = login(alice)
    page.goto("/dashboards/board/")
    _expect_drawn(page, 2)

    own_druid.stop()
    page.reload()
    panels = page.locator("[data-status]")
    expect(panels).to_contain_text([f"Cannot reach Druid at {own_druid.url}"] * 2)
    expect(panels.first).to_have_attribute("role", "alert")
    expect(page.locator("[data-chart] svg")).to_have_count(0)
    page.goto("/datasources/edits/")
    expect(page.get_by_role("alert")).to_contain_text("Druid could not be asked: Cannot reach")
    screenshot(page, "test_faults_stopped")

    own_druid.start()
    page.goto("/charts/daily/")
    _expect_drawn(page, 1)

    assert own_druid.proc is not None
    os.kill(own_druid.proc.pid, signal.SIGSTOP)
    try:
        page.reload()
        status = page.locator("[data-status]")
        expect(status).to_have_attribute("role", "alert")
        expect(status).to_contain_text(f"did not answer within {short_timeout} ms")
        expect(page.locator("[data-chart] svg")).to_have_count(0)
        screenshot(page, "test_faults_timeout")
    finally:
        os.kill(own_druid.proc.pid, signal.SIGCONT)

    page.goto("/dashboards/board/")
    _expect_drawn(page, 2)
