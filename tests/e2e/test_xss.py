"""Stored definitions, Druid's values and Druid's error messages reach every page only as text:
markup shows literally, runs nothing, adds no element, and a `javascript:` URL never becomes a
link. Checked in a real browser on the catalogue, chart pages, a dashboard, the datasource pages
and the error panels."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Dialog, Page, expect

from explorer.models import Dashboard, DashboardItem, Tag, Visibility
from tests.e2e.conftest import fresh_datasource, screenshot
from tests.explorer.conftest import make_query
from tests.localdruid.harness import LocalDruid, inline_task

# Each payload marks what it would inject with an id, so a hit in the DOM is unambiguous.
SCRIPT = "<script id=\"xss-script\">window.__xss = 1; alert('script')</script>"
IMAGE = '"><img id="xss-img" src=x onerror="window.__xss = 2; alert(\'img\')">'
JS_URL = "javascript:window.__xss=3;alert('url')//"
SVG = '<svg id="xss-svg" onload="window.__xss = 4; alert(\'svg\')"></svg>'
PAYLOADS = [SCRIPT, IMAGE, JS_URL, SVG]
INJECTED = "#xss-script, #xss-img, #xss-svg, #xss-err"

HOSTILE_LINKS = """() => [...document.querySelectorAll('[href], [src], [action], [formaction]')]
  .flatMap((el) => ['href', 'xlink:href', 'src', 'action', 'formaction']
    .map((name) => el.getAttribute(name)).filter(Boolean))
  .filter((url) => /^\\s*(javascript|data|vbscript):/i.test(url))"""


class Watch:
    """What a page must never do: open a dialog, set window.__xss, or log from a payload."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._dismiss)

    def _dismiss(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_inert(self, where: str) -> None:
        page = self.page
        page.wait_for_load_state("networkidle")
        assert self.dialogs == [], (where, self.dialogs)
        assert page.evaluate("window.__xss") is None, where
        assert page.locator(INJECTED).count() == 0, where
        assert page.evaluate(HOSTILE_LINKS) == [], where


@pytest.fixture
def hostile(druid: LocalDruid) -> str:
    """A datasource whose dimension values are the payloads."""
    datasource = fresh_datasource("e2e_hostile")
    rows = [
        {"timestamp": "2024-01-01T00:00:00Z", "channel": value, "page": PAYLOADS[-1 - n]}
        | {"added": 40 - n}
        for n, value in enumerate(PAYLOADS)
    ]
    druid.ingest(
        inline_task(
            datasource,
            rows,
            dimensions=["channel", "page"],
            metrics=[{"type": "longSum", "name": "added", "fieldName": "added"}],
        )
    )
    return datasource


@pytest.fixture
def druid_with_markup_errors() -> Iterator[str]:
    """A fake Druid (fault injection) whose every error message is markup."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = json.dumps(
                {
                    "error": "Unknown exception",
                    "errorMessage": f'{SCRIPT} <b id="xss-err">bold</b> {IMAGE} {JS_URL}',
                    "errorClass": "java.lang.RuntimeException",
                    "host": None,
                }
            ).encode()
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _definitions(datasource: str) -> tuple[dict[str, Any], dict[str, Any]]:
    base = {
        "datasource": datasource,
        "interval": "2024-01-01/2024-01-02",
        "granularity": "all",
        "aggregations": [{"type": "longSum", "name": "added", "fieldName": "added"}],
    }
    topn = {**base, "query_type": "topN", "dimensions": ["channel"], "metric": "added"}
    groupby = {**base, "query_type": "groupBy", "dimensions": ["channel", "page"]}
    return {**topn, "threshold": 10}, {**groupby, "chart_type": "table"}


def test_stored_text_and_druid_values_are_text_on_every_page(
    login: Callable[[User], Page], users: dict[str, User], hostile: str
) -> None:
    topn, groupby = _definitions(hostile)
    title = f"Evil {IMAGE} {SCRIPT}"
    description = f"{SVG} see {JS_URL} {IMAGE}"
    tags = [Tag.objects.create(name=name) for name in (SCRIPT, JS_URL, IMAGE)]
    top = make_query(
        users["alice"],
        "evil-top",
        topn,
        Visibility.EVERYONE,
        title=title,
        description=description,
    )
    top.tags.set(tags)
    table = make_query(users["alice"], "evil-table", groupby, title=JS_URL, description=SCRIPT)
    board = Dashboard.objects.create(
        owner=users["alice"], slug="evil-board", title=f"Board {SCRIPT}", description=IMAGE
    )
    DashboardItem.objects.create(dashboard=board, saved_query=top, position=1)
    DashboardItem.objects.create(dashboard=board, saved_query=table, position=2)

    page = login(users["alice"])
    watch = Watch(page)

    page.goto("/charts/evil-top/")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".description")).to_have_text(description)
    expect(page.locator("[data-chart] .bar-label")).to_contain_text(PAYLOADS)  # + a <title>
    expect(page.locator("[data-table] td", has_text=JS_URL)).to_have_count(1)
    expect(page.locator("a", has_text=SCRIPT)).to_have_count(1)  # the tag, as a plain link
    watch.assert_inert("chart page (topN)")
    screenshot(page, "test_xss_chart")

    page.goto("/charts/evil-table/")
    expect(page.get_by_role("heading", level=1)).to_have_text(JS_URL)
    cells = page.locator("[data-chart] table td")
    for value in PAYLOADS:
        expect(cells.filter(has_text=value)).to_have_count(2)
    watch.assert_inert("chart page (table)")

    page.goto("/")
    expect(page.locator(".card h2")).to_have_text(sorted([title, JS_URL]))
    expect(page.locator(".card .tags a")).to_have_text(sorted([SCRIPT, JS_URL, IMAGE]))
    expect(page.locator("select[name=tag] option")).to_have_count(4)
    watch.assert_inert("catalogue")
    page.locator(".card .tags a", has_text=JS_URL).click()
    expect(page.locator(".card h2")).to_have_text([title])
    watch.assert_inert("catalogue filtered by a tag")

    page.goto("/dashboards/evil-board/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Board {SCRIPT}")
    expect(page.locator("[data-dashboard] .description")).to_have_text(IMAGE)
    expect(page.locator("[data-panel] h2")).to_have_text([title, JS_URL])
    expect(page.locator("[data-panel]").nth(0).locator(".bar-label")).to_contain_text(PAYLOADS)
    watch.assert_inert("dashboard")
    page.goto("/dashboards/")
    expect(page.locator(".card h2")).to_have_text([f"Board {SCRIPT}"])
    watch.assert_inert("dashboard list")

    page.goto(f"/datasources/{hostile}/")
    expect(page.locator("main li a")).to_have_text(sorted([title, JS_URL]))
    watch.assert_inert("datasource page")
    screenshot(page, "test_xss_datasource")


def test_druid_error_messages_with_markup_show_as_text(
    login: Callable[[User], Page],
    users: dict[str, User],
    settings: Any,
    hostile: str,
    druid_with_markup_errors: str,
) -> None:
    topn, _ = _definitions(hostile)
    make_query(users["alice"], "evil-top", topn, title="Top")
    settings.DRUID_URL = druid_with_markup_errors
    page = login(users["alice"])
    watch = Watch(page)

    page.goto("/charts/evil-top/")
    status = page.locator("[data-status]")
    expect(status).to_have_attribute("role", "alert")
    expect(status).to_contain_text(f'{SCRIPT} <b id="xss-err">bold</b> {IMAGE} {JS_URL}')
    watch.assert_inert("chart error panel")
    screenshot(page, "test_xss_error_panel")

    page.goto(f"/datasources/{hostile}/")
    expect(page.get_by_role("alert")).to_contain_text(f"Druid could not be asked: {SCRIPT}")
    watch.assert_inert("datasource error panel")

    # Field errors echo what was sent: still text.
    settings.DRUID_URL = "http://127.0.0.1:9"
    page.goto(f"/charts/evil-top/?granularity={IMAGE}&interval={SCRIPT}")
    expect(status).to_have_attribute("role", "alert")
    watch.assert_inert("field errors")
