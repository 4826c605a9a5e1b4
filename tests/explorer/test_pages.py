"""Pages (server side): login required, what each user sees, and the context charts are given."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from explorer.models import Dashboard, DashboardItem, Visibility
from tests.explorer.conftest import GROUPBY, TOPN, make_query

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/charts/q/",
    "/dashboards/",
    "/dashboards/board/",
    "/datasources/",
    "/datasources/edits/",
    "/token/",
]


def browser(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def content(users: dict[str, User]) -> None:
    alice = users["alice"]
    q = make_query(alice, "q", title="Daily edits", visibility=Visibility.EVERYONE)
    private = make_query(alice, "private", TOPN, title="Alice's secret chart")
    board = Dashboard.objects.create(
        owner=alice, slug="board", title="Board", visibility=Visibility.EVERYONE
    )
    DashboardItem.objects.create(dashboard=board, saved_query=q, position=1, width=12)
    DashboardItem.objects.create(dashboard=board, saved_query=private, position=2)


@pytest.mark.parametrize("url", PAGES)
def test_every_page_needs_login(url: str, content: None) -> None:
    resp = browser(None).get(url)
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders_for_a_user(url: str, content: None, users: dict[str, User]) -> None:
    resp = browser(users["bob"]).get(url)
    assert resp.status_code == 200
    assert b"<main" in resp.content


def test_catalogue_lists_exactly_the_visible_charts(content: None, users: dict[str, User]) -> None:
    page = browser(users["bob"]).get("/").content.decode()
    assert "Daily edits" in page and "secret" not in page
    page = browser(users["alice"]).get("/").content.decode()
    assert "Daily edits" in page and "Alice&#x27;s secret chart" in page
    mine = browser(users["bob"]).get("/", {"mine": "1"}).content.decode()
    assert "No charts match" in mine


def test_catalogue_filters_sort_and_paginate(users: dict[str, User]) -> None:
    for n in range(15):
        make_query(
            users["alice"], f"chart-{n:02d}", GROUPBY if n % 2 else TOPN, title=f"Chart {n:02d}"
        )
    client = browser(users["alice"])
    first = client.get("/").content.decode()
    assert "Page 1 of 2" in first and "Chart 00" in first and "Chart 14" not in first
    second = client.get("/", {"page": 2}).content.decode()
    assert "Chart 14" in second
    grouped = client.get("/", {"type": "groupBy"}).content.decode()
    assert "Chart 01" in grouped and "Chart 00" not in grouped
    newest = client.get("/", {"sort": "-updated"}).content.decode()
    assert newest.index("Chart 14") < newest.index("Chart 13")


def test_empty_catalogue_explains_how_to_create_a_query(users: dict[str, User]) -> None:
    page = browser(users["staff"]).get("/").content.decode()
    assert "No charts yet" in page and "/admin/explorer/savedquery/add/" in page


def test_chart_page_passes_its_config_as_json(content: None, users: dict[str, User]) -> None:
    resp = browser(users["bob"]).get("/charts/q/")
    config = json.loads(
        resp.content.decode()
        .split('id="chart-config" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert config["resultsUrl"] == "/api/queries/q/results/"
    assert config["queryType"] == "timeseries" and config["title"] == "Daily edits"
    page = resp.content.decode()
    assert "&quot;queryType&quot;: &quot;timeseries&quot;" in page  # the Druid JSON panel
    assert "pydruid" in page and "curl -H" in page
    assert browser(users["bob"]).get("/charts/private/").status_code == 404


def test_dashboard_hides_charts_the_user_may_not_see(content: None, users: dict[str, User]) -> None:
    page = browser(users["bob"]).get("/dashboards/board/").content.decode()
    assert "Daily edits" in page and "secret" not in page
    assert "not shared with you" in page
    assert 'id="panel-config-1"' in page


def test_stored_text_reaches_pages_only_as_text(users: dict[str, User]) -> None:
    evil = '<script>window.__xss=1</script>"><img src=x onerror=alert(1)>'
    make_query(users["alice"], "evil", title=evil, description=evil, visibility=Visibility.EVERYONE)
    for url in ("/", "/charts/evil/"):
        page = browser(users["bob"]).get(url).content.decode()
        assert "<script>window.__xss" not in page and "<img src=x" not in page
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page


def test_token_page_shows_and_rotates(users: dict[str, User]) -> None:
    client = browser(users["alice"])
    first = client.get("/token/").context["token"].key
    assert client.post("/token/").status_code == 302
    assert client.get("/token/").context["token"].key != first


def test_datasource_pages_show_druid_metadata_or_an_error(
    users: dict[str, User], settings: Any
) -> None:
    client = browser(users["alice"])
    listing = client.get("/datasources/").content.decode()
    assert ">edits<" in listing
    detail = client.get("/datasources/edits/").content.decode()
    assert "channel" in detail and "longSum" in detail
    assert client.get("/datasources/nope/").status_code == 404
    from tests.localdruid.harness import free_port

    settings.DRUID_URL = f"http://127.0.0.1:{free_port()}"
    down = client.get("/datasources/").content.decode()
    assert "Druid could not be asked" in down and "Cannot reach Druid" in down
