"""Browser tests: pytest-django's live server, the session's real localdruid, and Playwright
driving Debian's Chromium. Fixtures: the browser, a page per test (screenshot kept, JavaScript
errors fail the test), logging in, and the datasets the pages chart."""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, Page, sync_playwright

from tests.explorer.conftest import (  # noqa: F401  (shared fixtures)
    _run_log_at_once,
    druid_settings,
    users,
)
from tests.localdruid.harness import LocalDruid, inline_task

CHROMIUM = "/usr/bin/chromium"
# Without these Chromium dials out (updates, sync, metrics) on a network that has none.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
TIMEOUT_MS = 10_000

# Channels of the traffic dataset, busiest first: each one's hourly `added` is 10 x its weight
# plus the same daily wave for all, so that the totals order them exactly like this.
CHANNELS = ["en", "de", "fr", "ja", "es", "it", "pt"]
TRAFFIC_HOURS = 48


@pytest.fixture(scope="package")
def browser(django_db_setup: Any) -> Iterator[Browser]:
    """One Chromium for the e2e tests, closed when they are done. Playwright's sync API keeps an
    asyncio loop running on this thread meanwhile, so Django's ORM must be told that its
    synchronous use here is fine; the test database is set up before that loop starts."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Each test makes its users afresh; the production hasher would spend seconds on them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def screenshot(page: Page, name: str) -> None:
    """Keep a full-page picture of what the test saw, under test-output/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.fixture
def page_errors() -> list[str]:
    return []


@pytest.fixture
def page(
    browser: Browser, live_server: Any, request: pytest.FixtureRequest, page_errors: list[str]
) -> Iterator[Page]:
    """A fresh browser context on the live server; its last view is kept as a screenshot."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        color_scheme="light",
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.on("pageerror", lambda exc: page_errors.append(str(exc)))
    yield tab
    screenshot(tab, request.node.name)
    context.close()
    assert not page_errors, f"JavaScript errors on the page: {page_errors}"


@pytest.fixture
def login(page: Page, live_server: Any) -> Callable[[User], Page]:
    """Log a user in by handing the browser a real session cookie (the form has its own test)."""

    def log_in(user: User) -> Page:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )
        return page

    return log_in


def api_get(page: Page, path: str, **params: Any) -> dict[str, Any]:
    """Ask the API as the logged-in browser user (same cookies), as the page itself would."""
    response = page.request.get(path, params=params)
    assert response.ok, response.text()
    return response.json()


# -- datasets --------------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def traffic_rows(end: datetime) -> list[dict[str, Any]]:
    """One row per channel and hour over the 48 hours before the hour holding `end`."""
    last_hour = end.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    rows = []
    for hour_index in range(TRAFFIC_HOURS):
        hour = last_hour - timedelta(hours=TRAFFIC_HOURS - 1 - hour_index)
        wave = round(6 + 5 * math.sin(2 * math.pi * hour_index / 24))
        for rank, channel in enumerate(CHANNELS):
            weight = len(CHANNELS) - rank
            rows.append(
                {
                    "timestamp": iso(hour + timedelta(minutes=7 * weight)),
                    "channel": channel,
                    "added": weight * 10 + wave,
                    "deleted": hour_index % 3,
                }
            )
    return rows


METRICS = [
    {"type": "count", "name": "count"},
    {"type": "longSum", "name": "added", "fieldName": "added"},
    {"type": "longSum", "name": "deleted", "fieldName": "deleted"},
]


@pytest.fixture(scope="session")
def traffic(druid: LocalDruid) -> str:
    """`e2e_traffic`: hourly edits per channel over the last two days (relative to now)."""
    druid.ingest(
        inline_task(
            "e2e_traffic",
            traffic_rows(datetime.now(UTC)),
            dimensions=["channel"],
            metrics=METRICS,
        )
    )
    return "e2e_traffic"


def fresh_datasource(prefix: str) -> str:
    """A datasource name no other test uses (the engine is shared by the whole session)."""
    return f"{prefix}_{random.randrange(16**8):08x}"


# Saved query definitions on e2e_traffic.
TRAFFIC_TIMESERIES: dict[str, Any] = {
    "query_type": "timeseries",
    "datasource": "e2e_traffic",
    "interval": "P2D",
    "granularity": "hour",
    "aggregations": METRICS[1:],
}
TRAFFIC_TOPN: dict[str, Any] = {
    "query_type": "topN",
    "datasource": "e2e_traffic",
    "interval": "P3D",
    "granularity": "all",
    "dimensions": ["channel"],
    "metric": "added",
    "threshold": 5,
    "aggregations": [{"type": "longSum", "name": "added", "fieldName": "added"}],
}
TRAFFIC_GROUPBY: dict[str, Any] = {
    "query_type": "groupBy",
    "datasource": "e2e_traffic",
    "interval": "P3D",
    "granularity": "all",
    "dimensions": ["channel"],
    "aggregations": [{"type": "longSum", "name": "deleted", "fieldName": "deleted"}],
}
