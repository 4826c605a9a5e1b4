"""The inline datasource over real HTTP: rows in the query, typed by columnTypes, read as one
segment over all time; query types whose answer is not known to be Druid's answer 501."""

from __future__ import annotations

from typing import Any

from tests.localdruid.harness import LocalDruid

ERROR_KEYS = {"error", "errorMessage", "errorClass", "host"}
PAGES = {
    "type": "inline",
    "columnNames": ["k", "v"],
    "columnTypes": ["string", "string"],
    "rows": [["Wikipedia:Vandalismusmeldung", "inline!"]],
}
# __time from its column; numbers as Druid reads a typed column (truncated, null if unparseable).
EVENTS = {
    "type": "inline",
    "columnNames": ["__time", "city", "n"],
    "columnTypes": ["LONG", "STRING", "LONG"],
    "rows": [
        [0, "Oslo", "7"],
        [3_600_000, "Lyon", 2.9],
        [86_400_000, "Oslo", None],
        [90_000_000, None, "x"],
    ],
}
DAYS = "1970-01-01/1970-01-03"


def query(kind: str, datasource: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "queryType": kind,
        "dataSource": datasource,
        "intervals": [DAYS],
        "granularity": "all",
        **fields,
    }


def test_inline_group_by_as_in_druids_integration_test(druid: LocalDruid) -> None:
    # ITWikipediaQueryTest: the universal timestamp is the interval start; an unknown
    # dimension is null.
    result = druid.query(
        query(
            "groupBy",
            PAGES,
            intervals=["0000-01-01T00:00:00.000/3000-01-01T00:00:00.000"],
            dimensions=["k", "v", "nonexistent"],
            aggregations=[{"type": "count", "name": "rows"}],
        )
    )
    assert result == [
        {
            "version": "v1",
            "timestamp": "0000-01-01T00:00:00.000Z",
            "event": {
                "k": "Wikipedia:Vandalismusmeldung",
                "v": "inline!",
                "nonexistent": None,
                "rows": 1,
            },
        }
    ]


def test_inline_timeseries_reads_time_and_typed_values(druid: LocalDruid) -> None:
    aggregations = [
        {"type": "count", "name": "rows"},
        {"type": "longSum", "name": "n", "fieldName": "n"},
    ]
    result = druid.query(query("timeseries", EVENTS, granularity="day", aggregations=aggregations))
    assert result == [
        {"timestamp": "1970-01-01T00:00:00.000Z", "result": {"rows": 2, "n": 9}},
        {"timestamp": "1970-01-02T00:00:00.000Z", "result": {"rows": 2, "n": None}},
    ]
    # The one segment spans all time: every bucket of the query interval answers.
    later = query("timeseries", EVENTS, intervals=["2024-01-01/2024-01-03"], granularity="day")
    assert druid.query({**later, "aggregations": aggregations}) == [
        {"timestamp": "2024-01-01T00:00:00.000Z", "result": {"rows": 0, "n": None}},
        {"timestamp": "2024-01-02T00:00:00.000Z", "result": {"rows": 0, "n": None}},
    ]


def test_inline_topn_and_search(druid: LocalDruid) -> None:
    top = query(
        "topN",
        EVENTS,
        dimension="city",
        metric="rows",
        threshold=2,
        aggregations=[{"type": "count", "name": "rows"}],
    )
    assert druid.query(top) == [
        {
            "timestamp": "1970-01-01T00:00:00.000Z",
            "result": [{"city": "Oslo", "rows": 2}, {"city": None, "rows": 1}],
        }
    ]
    found = druid.query(query("search", EVENTS, query={"type": "contains", "value": "o"}))
    # The segment's data interval is eternity, so its start stamps the result.
    assert found == [
        {
            "timestamp": "-146136543-09-08T08:23:32.096Z",
            "result": [
                {"dimension": "city", "value": "Lyon", "count": 1},
                {"dimension": "city", "value": "Oslo", "count": 2},
            ],
        }
    ]


def test_inline_errors(druid: LocalDruid) -> None:
    untyped = {key: value for key, value in EVENTS.items() if key != "columnTypes"}
    for datasource, kind, status in (
        (EVENTS, "timeBoundary", 501),
        (EVENTS, "scan", 501),
        (untyped, "timeseries", 501),
        ({**EVENTS, "columnTypes": ["LONG", "COMPLEX<json>", "LONG"]}, "timeseries", 501),
        ({**EVENTS, "rows": [[0, "Oslo"]]}, "timeseries", 400),
        ({**EVENTS, "columnTypes": ["LONG"]}, "timeseries", 400),
        ({**EVENTS, "rows": [[0, "Oslo", 10**30]]}, "timeseries", 400),
    ):
        resp = druid.post(query(kind, datasource))
        assert resp.status_code == status, (datasource, kind, resp.text)
        assert set(resp.json()) >= ERROR_KEYS


def test_inline_without_rows_is_one_empty_segment(druid: LocalDruid) -> None:
    empty = {**EVENTS, "rows": []}
    assert druid.query(query("timeseries", empty)) == [
        {"timestamp": "1970-01-01T00:00:00.000Z", "result": {}}
    ]
    assert druid.query(query("search", empty)) == [
        {"timestamp": "-146136543-09-08T08:23:32.096Z", "result": []}
    ]


def test_inline_search_limit_that_cuts_rows_is_unsupported(druid: LocalDruid) -> None:
    # Row-based segments have no indexes: Druid's cursor stops midway, with partial counts.
    resp = druid.post(query("search", EVENTS, limit=1))
    assert resp.status_code == 501 and resp.json()["error"] == "Unsupported query"


def test_inline_numbers_beyond_range_read_as_java_does(druid: LocalDruid) -> None:
    huge = {
        "type": "inline",
        "columnNames": ["d", "n"],
        "columnTypes": ["DOUBLE", "LONG"],
        "rows": [[10**400, 1e300]],
    }
    aggregations = [
        {"type": "doubleSum", "name": "d", "fieldName": "d"},
        {"type": "longSum", "name": "n", "fieldName": "n"},
    ]
    result = druid.query(query("timeseries", huge, aggregations=aggregations))
    assert result[0]["result"] == {"d": "Infinity", "n": 2**63 - 1}
