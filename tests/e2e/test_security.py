"""Values from Druid are text: markup in a dimension value (or a title) shows, and runs nothing."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User
from playwright.sync_api import ConsoleMessage, Dialog, Page, expect

from explorer.models import Visibility
from tests.e2e.conftest import fresh_datasource, screenshot
from tests.explorer.conftest import make_query
from tests.localdruid.harness import LocalDruid, inline_task

SCRIPT = "<script>window.__xss = 1; console.log('xss ran')</script>"
IMAGE = '"><img src=x onerror="window.__xss = 2; alert(\'xss\')">'


def test_markup_in_druid_values_shows_as_text_and_runs_nothing(
    login: Callable[[User], Page], users: dict[str, User], druid: LocalDruid
) -> None:
    datasource = fresh_datasource("e2e_xss")
    rows = [
        {"timestamp": "2024-01-01T00:00:00Z", "channel": SCRIPT, "page": IMAGE, "added": 30},
        {"timestamp": "2024-01-01T00:00:00Z", "channel": IMAGE, "page": SCRIPT, "added": 20},
        {"timestamp": "2024-01-01T00:00:00Z", "channel": "plain", "page": "P", "added": 10},
    ]
    druid.ingest(
        inline_task(
            datasource,
            rows,
            dimensions=["channel", "page"],
            metrics=[{"type": "longSum", "name": "added", "fieldName": "added"}],
        )
    )
    base = {
        "datasource": datasource,
        "interval": "2024-01-01/2024-01-02",
        "granularity": "all",
        "aggregations": [{"type": "longSum", "name": "added", "fieldName": "added"}],
    }
    topn = {
        **base,
        "query_type": "topN",
        "dimensions": ["channel"],
        "metric": "added",
        "threshold": 3,
    }
    groupby = {**base, "query_type": "groupBy", "dimensions": ["channel", "page"]}
    title = f"Evil {IMAGE}"
    make_query(
        users["alice"], "evil-top", topn, Visibility.PRIVATE, title=title, description=SCRIPT
    )
    make_query(users["alice"], "evil-table", groupby, title="Evil table")

    page = login(users["alice"])
    dialogs: list[str] = []
    console: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def log(message: ConsoleMessage) -> None:
        console.append(message.text)

    page.on("dialog", dismiss)
    page.on("console", log)

    page.goto("/charts/evil-top/")
    expect(page.locator("[data-chart] .bar-label")).to_have_text([SCRIPT, IMAGE, "plain"])
    expect(page.locator("[data-chart] svg title").first).to_have_text(title)
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("[data-table] td", has_text=SCRIPT)).to_have_count(1)
    screenshot(page, "test_markup_topn")

    page.goto("/charts/evil-table/")
    table = page.locator("[data-chart] table")
    expect(table.locator("td", has_text=SCRIPT)).to_have_count(2)
    expect(table.locator("td", has_text=IMAGE)).to_have_count(2)

    page.goto("/")
    expect(page.locator(".card h2", has_text=title)).to_have_count(1)
    expect(page.locator(".card svg.sparkline rect.spark-bar")).not_to_have_count(0)

    assert page.evaluate("window.__xss") is None
    assert page.locator("main img, main script").count() == 0
    assert dialogs == []
    assert not [text for text in console if "xss" in text]
