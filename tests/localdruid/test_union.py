"""The union datasource over real HTTP: every query type over several tables with different
columns, unknown members, segment metadata per table, errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.localdruid.harness import LocalDruid, inline_task

ERROR_KEYS = {"error", "errorMessage", "errorClass", "host"}
INTERVAL = "2024-06-01/2024-06-03"
METRICS = [
    {"type": "count", "name": "n"},
    {"type": "longSum", "name": "added", "fieldName": "added"},
]


@pytest.fixture(scope="session")
def tables(druid: LocalDruid) -> tuple[str, str]:
    """`union_a` has city and country on June 1; `union_b` has city and lang on June 1 and 2."""
    a = [
        {"timestamp": "2024-06-01T01:00:00Z", "city": "Paris", "country": "FR", "added": 3},
        {"timestamp": "2024-06-01T03:00:00Z", "city": "Lyon", "country": "FR", "added": 4},
    ]
    b = [
        {"timestamp": "2024-06-01T02:00:00Z", "city": "Paris", "lang": "fr", "added": 10},
        {"timestamp": "2024-06-02T05:00:00Z", "city": "Oslo", "lang": "no", "added": 1},
    ]
    druid.ingest(inline_task("union_a", a, dimensions=["city", "country"], metrics=METRICS))
    druid.ingest(inline_task("union_b", b, dimensions=["city", "lang"], metrics=METRICS))
    return "union_a", "union_b"


def union(*members: Any) -> dict[str, Any]:
    return {"type": "union", "dataSources": list(members)}


def base(tables: tuple[str, str], kind: str, **fields: Any) -> dict[str, Any]:
    query = {
        "queryType": kind,
        "dataSource": union(*tables),
        "intervals": [INTERVAL],
        "granularity": "all",
    }
    query.update(fields)
    return query


def totals(druid: LocalDruid, datasource: Any, **fields: Any) -> Any:
    return druid.query(
        {
            "queryType": "timeseries",
            "dataSource": datasource,
            "intervals": [INTERVAL],
            "granularity": "all",
            "aggregations": [
                {"type": "count", "name": "rows"},
                {"type": "longSum", "name": "added", "fieldName": "added"},
            ],
            **fields,
        }
    )


def test_union_timeseries_adds_up_the_tables(druid: LocalDruid, tables: tuple[str, str]) -> None:
    assert totals(druid, union(*tables)) == [
        {"timestamp": "2024-06-01T01:00:00.000Z", "result": {"rows": 4, "added": 18}}
    ]
    by_day = totals(druid, union(*tables), granularity="day")
    assert by_day == [
        {"timestamp": "2024-06-01T00:00:00.000Z", "result": {"rows": 3, "added": 17}},
        {"timestamp": "2024-06-02T00:00:00.000Z", "result": {"rows": 1, "added": 1}},
    ]


def test_union_reads_missing_columns_as_null(druid: LocalDruid, tables: tuple[str, str]) -> None:
    only_a = {"type": "selector", "dimension": "country", "value": "FR"}
    assert totals(druid, union(*tables), filter=only_a)[0]["result"] == {"rows": 2, "added": 7}
    no_country = {"type": "null", "column": "country"}
    assert totals(druid, union(*tables), filter=no_country)[0]["result"] == {
        "rows": 2,
        "added": 11,
    }
    query = base(
        tables,
        "groupBy",
        dimensions=["country", "lang"],
        aggregations=[{"type": "longSum", "name": "added", "fieldName": "added"}],
    )
    assert [r["event"] for r in druid.query(query)] == [
        {"country": None, "lang": "fr", "added": 10},
        {"country": None, "lang": "no", "added": 1},
        {"country": "FR", "lang": None, "added": 7},
    ]
    assert {r["timestamp"] for r in druid.query(query)} == {"2024-06-01T00:00:00.000Z"}


def test_union_topn(druid: LocalDruid, tables: tuple[str, str]) -> None:
    query = base(
        tables,
        "topN",
        dimension="city",
        metric="added",
        threshold=2,
        aggregations=[{"type": "longSum", "name": "added", "fieldName": "added"}],
    )
    assert druid.query(query) == [
        {
            "timestamp": "2024-06-01T01:00:00.000Z",
            "result": [{"city": "Paris", "added": 13}, {"city": "Lyon", "added": 4}],
        }
    ]


def test_union_search_uses_each_segments_own_dimensions(
    druid: LocalDruid, tables: tuple[str, str]
) -> None:
    query = base(tables, "search", query={"type": "insensitive_contains", "value": "o"})
    assert druid.query(query) == [
        {
            "timestamp": "2024-06-01T00:00:00.000Z",
            "result": [
                {"dimension": "city", "value": "Lyon", "count": 1},
                {"dimension": "city", "value": "Oslo", "count": 1},
                {"dimension": "lang", "value": "no", "count": 1},
            ],
        }
    ]


def test_union_time_boundary(druid: LocalDruid, tables: tuple[str, str]) -> None:
    query = {"queryType": "timeBoundary", "dataSource": union(*tables)}
    assert druid.query(query) == [
        {
            "timestamp": "2024-06-01T01:00:00.000Z",
            "result": {
                "minTime": "2024-06-01T01:00:00.000Z",
                "maxTime": "2024-06-02T05:00:00.000Z",
            },
        }
    ]


def test_union_segment_metadata_names_each_table(
    druid: LocalDruid, tables: tuple[str, str]
) -> None:
    query = base(tables, "segmentMetadata", analysisTypes=["cardinality"])
    result = druid.query(query)
    # Segment ids are <table>_<start>_<end>_<version>: each names its own table.
    day1 = "2024-06-01T00:00:00.000Z_2024-06-02T00:00:00.000Z_"
    day2 = "2024-06-02T00:00:00.000Z_2024-06-03T00:00:00.000Z_"
    expected = [f"union_a_{day1}", f"union_b_{day1}", f"union_b_{day2}"]
    assert sorted(r["id"][: len(expected[0])] for r in result) == expected
    columns = {r["id"][: len(expected[0])]: set(r["columns"]) for r in result}
    assert columns[expected[0]] == {"__time", "city", "country", "n", "added"}
    assert columns[expected[1]] == {"__time", "city", "lang", "n", "added"}
    merged = druid.query({**query, "merge": True})
    assert len(merged) == 1 and merged[0]["numRows"] == 4
    assert merged[0]["columns"]["city"]["cardinality"] == 3
    assert set(merged[0]["columns"]) == {"__time", "city", "country", "lang", "n", "added"}


def test_union_ignores_unknown_tables(druid: LocalDruid, tables: tuple[str, str]) -> None:
    a, b = tables
    with_unknown = union(a, "union_missing", b, {"type": "table", "name": "union_missing_too"})
    assert totals(druid, with_unknown) == totals(druid, union(a, b))
    assert totals(druid, union(a, "union_missing")) == totals(druid, a)
    assert totals(druid, union("union_missing", "union_missing_too")) == totals(
        druid, "union_missing"
    )


def test_union_of_a_table_with_itself_counts_it_twice(
    druid: LocalDruid, tables: tuple[str, str]
) -> None:
    a, _ = tables
    assert totals(druid, union(a, a))[0]["result"] == {"rows": 4, "added": 14}


def test_union_errors(druid: LocalDruid, tables: tuple[str, str]) -> None:
    a, _ = tables
    empty = druid.post({**base(tables, "timeBoundary"), "dataSource": union()})
    assert empty.status_code == 400 and set(empty.json()) >= ERROR_KEYS
    assert empty.json()["error"] == "Invalid input"
    lookup = {"type": "lookup", "lookup": "countries"}
    nested = druid.post({**base(tables, "timeBoundary"), "dataSource": union(a, lookup)})
    assert nested.status_code == 501 and nested.json()["error"] == "Unsupported query"
    assert "[lookup]" in nested.json()["errorMessage"]


def test_union_with_conflicting_column_types_is_unsupported(
    druid: LocalDruid, tables: tuple[str, str]
) -> None:
    rows = [{"timestamp": "2024-06-01T04:00:00Z", "city": "Nice", "added": "many"}]
    druid.ingest(inline_task("union_c", rows, dimensions=["city", "added"], metrics=[]))
    resp = druid.post(base(("union_a", "union_c"), "timeBoundary"))
    assert resp.status_code == 501, resp.text
    assert "column [added]" in resp.json()["errorMessage"]
