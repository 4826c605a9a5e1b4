"""The admin: authors create, validate, preview and import saved queries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from explorer.models import SavedQuery
from tests.datasets import INTERVAL
from tests.explorer.conftest import TOPN, make_query

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(users: dict[str, User]) -> Client:
    staff = users["staff"]
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    return client


def _form(**fields: Any) -> dict[str, Any]:
    data = {
        "title": "Top channels",
        "slug": "top-channels",
        "description": "",
        "visibility": "private",
        "query_type": "topN",
        "datasource": "edits",
        "interval": INTERVAL,
        "granularity": '"all"',
        "dimensions": '["channel"]',
        "metric": '"added"',
        "threshold": "5",
        "filter": "null",
        "aggregations": json.dumps(TOPN["aggregations"]),
        "post_aggregations": "[]",
        "having": "null",
        "limit_spec": "null",
        "context": "{}",
        "extra": "{}",
        "chart_type": "bar",
        "refresh_interval": "0",
        "value_format": "",
        "cache_ttl": "60",
    }
    data.update(fields)
    return data


def test_add_form_suggests_druids_datasources(author: Client, users: dict[str, User]) -> None:
    page = author.get("/admin/explorer/savedquery/add/").content.decode()
    assert '<datalist id="datasource-options">' in page and '<option value="edits">' in page


def test_invalid_definition_shows_field_messages_and_saves_nothing(
    author: Client, users: dict[str, User]
) -> None:
    data = _form(
        owner=users["staff"].pk,
        metric='"nope"',
        aggregations='[{"type": "longSum", "name": "added"}]',
    )
    resp = author.post("/admin/explorer/savedquery/add/", data)
    assert resp.status_code == 200
    page = resp.content.decode()
    assert "fieldName" in page and "nope" in page
    assert not SavedQuery.objects.exists()


def test_valid_definition_saves_and_shows_its_druid_json(
    author: Client, users: dict[str, User]
) -> None:
    resp = author.post("/admin/explorer/savedquery/add/", _form(owner=users["staff"].pk))
    assert resp.status_code == 302, resp.content.decode()[:3000]
    saved = SavedQuery.objects.get(slug="top-channels")
    page = author.get(f"/admin/explorer/savedquery/{saved.pk}/change/").content.decode()
    assert "&quot;queryType&quot;: &quot;topN&quot;" in page
    assert "<code>channel</code>" in page  # the datasource's dimensions, from Druid
    assert 'id="druid-preview"' in page


def test_datasource_stays_free_text_when_druid_is_down(
    author: Client, users: dict[str, User], settings: Any
) -> None:
    from tests.localdruid.harness import free_port

    settings.DRUID_URL = f"http://127.0.0.1:{free_port()}"
    page = author.get("/admin/explorer/savedquery/add/").content.decode()
    assert 'name="datasource"' in page and '<option value="edits">' not in page
    resp = author.post(
        "/admin/explorer/savedquery/add/",
        _form(owner=users["staff"].pk, datasource="not-yet-in-druid"),
    )
    assert resp.status_code == 302


def test_import_druid_json(author: Client) -> None:
    raw = {
        "queryType": "topN",
        "dataSource": "edits",
        "intervals": [INTERVAL],
        "granularity": "all",
        "dimension": "page",
        "metric": "n",
        "threshold": 3,
        "aggregations": [{"type": "count", "name": "n"}],
    }
    assert "Import Druid JSON" in author.get("/admin/explorer/savedquery/").content.decode()
    bad = author.post(
        "/admin/explorer/savedquery/import/",
        {"query": json.dumps({**raw, "threshold": -1}), "title": "T", "slug": "t"},
    )
    assert bad.status_code == 200 and "threshold" in bad.content.decode()
    resp = author.post(
        "/admin/explorer/savedquery/import/",
        {"query": json.dumps(raw), "title": "Pages", "slug": "pages"},
    )
    assert resp.status_code == 302
    assert SavedQuery.objects.get(slug="pages").dimensions == ["page"]


def test_list_filters_and_search(author: Client, users: dict[str, User]) -> None:
    make_query(users["alice"], "alpha", title="Alpha edits")
    make_query(users["bob"], "beta", TOPN, title="Beta top")
    page = author.get("/admin/explorer/savedquery/", {"q": "beta"}).content.decode()
    assert "Beta top" in page and "Alpha edits" not in page
    page = author.get("/admin/explorer/savedquery/", {"query_type__exact": "topN"}).content
    assert b"Beta top" in page and b"Alpha edits" not in page
