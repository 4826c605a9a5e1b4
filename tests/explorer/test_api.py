"""The REST API against a real localdruid: results per query type, CSV, overrides, caching,
create/update with validation, preview, import/export, datasources, runs, tokens, schema."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from explorer.models import QueryRun, SavedQuery, Visibility
from tests.datasets import INTERVAL
from tests.explorer.conftest import GROUPBY, TIMESERIES, TOPN, api, make_query
from tests.localdruid.harness import free_port

pytestmark = pytest.mark.django_db


def _results(user: User, slug: str, **params: Any) -> Any:
    resp = api(user).get(f"/api/queries/{slug}/results/", params)
    assert resp.status_code == 200, resp.content
    return resp.json()


def test_timeseries_results_tidy_shape(users: dict[str, User]) -> None:
    make_query(users["alice"], "daily")
    result = _results(users["alice"], "daily")
    assert result["columns"] == [
        {"name": "timestamp", "type": "time"},
        {"name": "rows", "type": "long"},
        {"name": "added", "type": "long"},
        {"name": "per_row", "type": "double"},
    ]
    assert result["rows"] == [
        ["2024-01-01T00:00:00.000Z", 4, 43, 10.75],
        ["2024-01-02T00:00:00.000Z", 2, 103, 51.5],
    ]
    meta = result["meta"]
    assert meta["interval"] == INTERVAL
    assert meta["druid_query"]["queryType"] == "timeseries"
    assert meta["cached"] is False and meta["duration_ms"] >= 0


def test_topn_and_groupby_results(users: dict[str, User]) -> None:
    make_query(users["alice"], "top", TOPN)
    assert _results(users["alice"], "top")["rows"] == [
        ["2024-01-01T00:10:00.000Z", "en", 135],
        ["2024-01-01T00:10:00.000Z", "fr", 7],
    ]
    make_query(users["alice"], "grouped", GROUPBY)
    grouped = _results(users["alice"], "grouped")
    assert [c["name"] for c in grouped["columns"]] == [
        "timestamp",
        "channel",
        "page",
        "rows",
        "added",
    ]
    assert grouped["rows"] == [
        ["2024-01-01T00:00:00.000Z", "en", "A", 2, 110],
        ["2024-01-01T00:00:00.000Z", "en", "B", 1, 25],
    ]


def test_csv_download(users: dict[str, User]) -> None:
    make_query(users["alice"], "top", TOPN)
    resp = api(users["alice"]).get("/api/queries/top/results/", {"format": "csv"})
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/csv")
    assert resp["Content-Disposition"].startswith('attachment; filename="top-')
    assert resp.content.decode().splitlines() == [
        "timestamp,channel,added",
        "2024-01-01T00:10:00.000Z,en,135",
        "2024-01-01T00:10:00.000Z,fr,7",
    ]


def test_overrides(users: dict[str, User]) -> None:
    make_query(users["alice"], "daily")
    hourly = _results(users["alice"], "daily", granularity="hour")
    assert len(hourly["rows"]) == 10
    one_day = _results(users["alice"], "daily", interval="2024-01-02/P1D")
    assert [r[0] for r in one_day["rows"]] == ["2024-01-02T00:00:00.000Z"]
    since = _results(users["alice"], "daily", granularity="hour", since="2024-01-02T04:30:00Z")
    assert [r[0] for r in since["rows"]] == ["2024-01-02T04:00:00.000Z", "2024-01-02T05:00:00.000Z"]
    zone = _results(
        users["alice"],
        "daily",
        granularity='{"type": "period", "period": "P1D", "timeZone": "Asia/Tokyo"}',
    )
    assert zone["rows"][0][0] == "2024-01-01T00:00:00.000+09:00"
    make_query(users["alice"], "top", TOPN)
    assert len(_results(users["alice"], "top", threshold=3)["rows"]) == 3


@pytest.mark.parametrize(
    "params",
    [
        {"granularity": "fortnightly"},
        {"granularity": "{not json"},
        {"interval": "yesterday"},
        {"threshold": "0"},
        {"threshold": "many"},
        {"since": "not a time"},
    ],
)
def test_bad_overrides_answer_400(users: dict[str, User], params: dict[str, str]) -> None:
    make_query(users["alice"], "daily")
    resp = api(users["alice"]).get("/api/queries/daily/results/", params)
    assert resp.status_code == 400, resp.content
    assert resp.json()


def test_threshold_only_for_topn(users: dict[str, User]) -> None:
    make_query(users["alice"], "daily")
    resp = api(users["alice"]).get("/api/queries/daily/results/", {"threshold": 3})
    assert resp.status_code == 400
    assert "threshold" in resp.json()["errors"]


def test_second_call_comes_from_the_cache(users: dict[str, User], settings: Any) -> None:
    make_query(users["alice"], "daily")
    first = _results(users["alice"], "daily")
    # With Druid out of reach, only the cache can answer.
    settings.DRUID_URL = f"http://127.0.0.1:{free_port()}"
    second = _results(users["alice"], "daily")
    assert second["meta"]["cached"] is True and second["rows"] == first["rows"]
    assert list(QueryRun.objects.values_list("cached", flat=True).order_by("id")) == [False, True]
    refreshed = api(users["alice"]).get("/api/queries/daily/results/", {"refresh": "1"})
    assert refreshed.status_code == 503


def test_no_cache_when_ttl_is_zero(users: dict[str, User]) -> None:
    make_query(users["alice"], "daily", cache_ttl=0)
    _results(users["alice"], "daily")
    assert _results(users["alice"], "daily")["meta"]["cached"] is False


def test_create_validates_every_field_and_saves_nothing_when_invalid(
    users: dict[str, User],
) -> None:
    client = api(users["alice"])
    body = {
        "title": "Bad",
        "slug": "bad",
        **TIMESERIES,
        "aggregations": [{"type": "longSumm", "name": "x", "fieldName": "added"}],
        "interval": "last tuesday",
    }
    resp = client.post("/api/queries/", body, format="json")
    assert resp.status_code == 400
    errors = resp.json()["errors"]
    assert "aggregations" in errors and "interval" in errors
    assert not SavedQuery.objects.filter(slug="bad").exists()

    body = {
        "title": "Good",
        "slug": "good",
        "tags": ["daily", "edits"],
        "visibility": "groups",
        "shared_groups": ["analysts"],
        **TIMESERIES,
    }
    resp = client.post("/api/queries/", body, format="json")
    assert resp.status_code == 201, resp.content
    created = resp.json()
    assert created["owner"] == "alice" and sorted(created["tags"]) == ["daily", "edits"]
    assert created["shared_groups"] == ["analysts"]
    assert created["urls"]["results"].endswith("/api/queries/good/results/")

    resp = client.patch("/api/queries/good/", {"threshold": 5, "query_type": "topN"}, format="json")
    assert resp.status_code == 400  # a topN needs one dimension and a metric
    assert SavedQuery.objects.get(slug="good").query_type == "timeseries"
    resp = client.patch(
        "/api/queries/good/", {"title": "Better", "granularity": "hour"}, format="json"
    )
    assert resp.status_code == 200 and resp.json()["granularity"] == "hour"


def test_list_search_filters_and_ordering(users: dict[str, User]) -> None:
    alice, bob = users["alice"], users["bob"]
    make_query(alice, "edits-by-day", title="Edits by day", visibility=Visibility.EVERYONE)
    make_query(alice, "top-channels", TOPN, title="Top channels", visibility=Visibility.EVERYONE)
    make_query(bob, "bobs-groups", GROUPBY, title="Bob's groups", visibility=Visibility.EVERYONE)
    client = api(users["carol"])
    listing = client.get("/api/queries/").json()
    assert listing["count"] == 3
    assert [q["slug"] for q in listing["results"]] == [
        "bobs-groups",
        "edits-by-day",
        "top-channels",
    ]
    assert [
        q["slug"] for q in client.get("/api/queries/", {"search": "channel"}).json()["results"]
    ] == ["top-channels"]
    assert [q["slug"] for q in client.get("/api/queries/", {"owner": "bob"}).json()["results"]] == [
        "bobs-groups"
    ]
    assert [
        q["slug"] for q in client.get("/api/queries/", {"query_type": "topN"}).json()["results"]
    ] == ["top-channels"]
    ordered = client.get("/api/queries/", {"ordering": "-title"}).json()["results"]
    assert ordered[0]["slug"] == "top-channels"


def test_preview_runs_an_unsaved_definition_or_raw_query(users: dict[str, User]) -> None:
    client = api(users["alice"])
    resp = client.post("/api/queries/preview/", TOPN, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["rows"][0][1:] == ["en", 135]
    raw = {
        "queryType": "timeseries",
        "dataSource": "edits",
        "intervals": [INTERVAL],
        "granularity": "all",
        "aggregations": [{"type": "count", "name": "n"}],
    }
    assert client.post("/api/queries/preview/", {"query": raw}, format="json").json()["rows"] == [
        ["2024-01-01T00:10:00.000Z", 6]
    ]
    bad = client.post("/api/queries/preview/", {**TOPN, "metric": "nope"}, format="json")
    assert bad.status_code == 400 and "metric" in bad.json()["errors"]
    assert SavedQuery.objects.count() == 0


def test_import_and_export_round_trip(users: dict[str, User]) -> None:
    raw = {
        "queryType": "groupBy",
        "dataSource": "edits",
        "intervals": [INTERVAL],
        "granularity": {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"},
        "dimensions": ["channel", {"type": "default", "dimension": "page", "outputName": "p"}],
        "filter": {"type": "not", "field": {"type": "selector", "dimension": "page", "value": "D"}},
        "aggregations": [{"type": "count", "name": "rows"}],
        "postAggregations": [
            {
                "type": "arithmetic",
                "name": "twice",
                "fn": "*",
                "fields": [
                    {"type": "fieldAccess", "fieldName": "rows"},
                    {"type": "constant", "value": 2},
                ],
            }
        ],
        "having": {"type": "greaterThan", "aggregation": "rows", "value": 0},
        "limitSpec": {"type": "default", "limit": 10, "columns": ["p"]},
        "context": {"priority": 5},
        "virtualColumns": [],
    }
    client = api(users["alice"])
    resp = client.post(
        "/api/queries/import/",
        {"query": raw, "title": "Imported", "slug": "imported"},
        format="json",
    )
    assert resp.status_code == 201, resp.content
    exported = client.get("/api/queries/imported/druid/").json()
    assert exported == raw
    again = client.post(
        "/api/queries/import/", {"query": raw, "title": "Again", "slug": "imported"}, format="json"
    )
    assert again.status_code == 400
    broken = client.post(
        "/api/queries/import/",
        {"query": {**raw, "queryType": "scan"}, "title": "X", "slug": "x"},
        format="json",
    )
    assert broken.status_code == 400 and "query_type" in broken.json()["errors"]


def test_druid_json_resolves_relative_intervals(users: dict[str, User]) -> None:
    make_query(users["alice"], "recent", {**TIMESERIES, "interval": "PT6H", "granularity": "hour"})
    exported = api(users["alice"]).get("/api/queries/recent/druid/").json()
    start, end = exported["intervals"][0].split("/")
    assert start.endswith(":00:00.000Z") and end.endswith(":00:00.000Z")
    assert "PT6H" not in str(exported)


def test_datasources(users: dict[str, User]) -> None:
    client = api(users["alice"])
    assert {"name": "edits"} in client.get("/api/datasources/").json()
    detail = client.get("/api/datasources/edits/").json()
    assert [d["name"] for d in detail["dimensions"]] == ["channel", "page", "user"]
    assert {m["name"] for m in detail["metrics"]} == {
        "count",
        "added",
        "deleted",
        "added_d",
        "user_unique",
    }
    assert (detail["min_time"], detail["max_time"], detail["rows"]) == (
        "2024-01-01T00:10:00.000Z",
        "2024-01-02T05:00:00.000Z",
        6,
    )
    assert client.get("/api/datasources/nope/").status_code == 404


def test_run_history_is_per_user(users: dict[str, User]) -> None:
    make_query(users["alice"], "daily", visibility=Visibility.EVERYONE)
    _results(users["alice"], "daily")
    _results(users["bob"], "daily")
    runs = api(users["alice"]).get("/api/runs/").json()["results"]
    assert len(runs) == 1 and runs[0]["saved_query"] == "daily"
    assert runs[0]["druid_query"]["dataSource"] == "edits" and runs[0]["status"] == 200


def test_token_show_rotate_and_use(users: dict[str, User]) -> None:
    client = api(users["alice"])
    first = client.get("/api/token/").json()["token"]
    assert client.get("/api/token/").json()["token"] == first
    rotated = client.post("/api/token/").json()["token"]
    assert rotated != first and Token.objects.get(user=users["alice"]).key == rotated
    with_token = APIClient()
    with_token.credentials(HTTP_AUTHORIZATION=f"Token {rotated}")
    assert with_token.get("/api/queries/").status_code == 200
    with_token.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert with_token.get("/api/queries/").status_code == 401


def test_openapi_schema_is_valid_and_documents_errors(users: dict[str, User]) -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    results = schema["paths"]["/api/queries/{slug}/results/"]["get"]["responses"]
    assert {"200", "400", "401", "404", "502", "503", "504"} <= set(results)
    assert api(users["alice"]).get("/api/schema/").status_code == 200
    docs = APIClient()
    docs.force_login(users["alice"])
    assert docs.get("/api/docs/").status_code == 200


def test_results_are_throttled_per_user(users: dict[str, User], monkeypatch: Any) -> None:
    from explorer.api.views import ResultsThrottle

    monkeypatch.setattr(ResultsThrottle, "THROTTLE_RATES", {"results": "3/min"})
    make_query(users["alice"], "daily", visibility=Visibility.EVERYONE)
    alice, bob = api(users["alice"]), api(users["bob"])
    assert [alice.get("/api/queries/daily/results/").status_code for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]
    # Another user has their own allowance.
    assert bob.get("/api/queries/daily/results/").status_code == 200
    # Reading definitions is not throttled.
    assert alice.get("/api/queries/daily/").status_code == 200
