"""topN and groupBy over real HTTP: ordering, thresholds, having, limitSpec, output types."""

from __future__ import annotations

from typing import Any

from tests.localdruid.conftest import INTERVAL
from tests.localdruid.harness import LocalDruid


def topn(datasource: str, metric: Any, threshold: int = 10, **fields: Any) -> dict[str, Any]:
    query = {
        "queryType": "topN",
        "dataSource": datasource,
        "intervals": [INTERVAL],
        "granularity": "all",
        "dimension": "channel",
        "metric": metric,
        "threshold": threshold,
        "aggregations": [{"type": "longSum", "name": "added", "fieldName": "added"}],
    }
    query.update(fields)
    return query


def _channels(result: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    return [(r["channel"], r["added"]) for r in result[0]["result"]]


def test_topn_numeric_threshold_and_timestamp(druid: LocalDruid, edits: str) -> None:
    result = druid.query(topn(edits, "added", 3))
    assert result[0]["timestamp"] == "2024-01-01T00:10:00.000Z"
    assert _channels(result) == [("en", 135), ("fr", 7), (None, 3)]


def test_topn_inverted_and_dimension_orderings(druid: LocalDruid, edits: str) -> None:
    inverted = druid.query(topn(edits, {"type": "inverted", "metric": "added"}))
    assert _channels(inverted) == [("de", 1), (None, 3), ("fr", 7), ("en", 135)]
    lexicographic = druid.query(topn(edits, {"type": "dimension", "ordering": "lexicographic"}))
    assert _channels(lexicographic) == [(None, 3), ("de", 1), ("en", 135), ("fr", 7)]
    after = druid.query(topn(edits, {"type": "lexicographic", "previousStop": "de"}))
    assert _channels(after) == [("en", 135), ("fr", 7)]


def test_topn_per_day_buckets(druid: LocalDruid, edits: str) -> None:
    result = druid.query(topn(edits, "added", 2, granularity="day"))
    assert result == [
        {
            "timestamp": "2024-01-01T00:00:00.000Z",
            "result": [{"channel": "en", "added": 35}, {"channel": "fr", "added": 7}],
        },
        {
            "timestamp": "2024-01-02T00:00:00.000Z",
            "result": [{"channel": "en", "added": 100}, {"channel": None, "added": 3}],
        },
    ]


def test_topn_ties_come_in_ascending_dimension_order(druid: LocalDruid, edits: str) -> None:
    query = topn(
        edits, "rows", 10, dimension="page", aggregations=[{"type": "count", "name": "rows"}]
    )
    pages = [(r["page"], r["rows"]) for r in druid.query(query)[0]["result"]]
    assert pages == [("A", 3), ("B", 1), ("C", 1), ("D", 1)]


def test_topn_on_a_post_aggregator(druid: LocalDruid, edits: str) -> None:
    query = topn(
        edits,
        "ratio",
        2,
        aggregations=[
            {"type": "longSum", "name": "added", "fieldName": "added"},
            {"type": "longSum", "name": "deleted", "fieldName": "deleted"},
        ],
        postAggregations=[
            {
                "type": "arithmetic",
                "name": "ratio",
                "fn": "/",
                "fields": [
                    {"type": "fieldAccess", "fieldName": "deleted"},
                    {"type": "fieldAccess", "fieldName": "added"},
                ],
            }
        ],
    )
    result = druid.query(query)[0]["result"]
    assert result == [
        {"channel": "fr", "added": 7, "deleted": 3, "ratio": 3 / 7},
        {"channel": "en", "added": 135, "deleted": 53, "ratio": 53 / 135},
    ]


def groupby(datasource: str, **fields: Any) -> dict[str, Any]:
    query = {
        "queryType": "groupBy",
        "dataSource": datasource,
        "intervals": [INTERVAL],
        "granularity": "all",
        "dimensions": ["channel", "page"],
        "aggregations": [
            {"type": "count", "name": "rows"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
        ],
    }
    query.update(fields)
    return query


def _events(result: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(r["event"].values()) for r in result]


def test_groupby_rows_sorted_by_dimensions_nulls_first(druid: LocalDruid, edits: str) -> None:
    result = druid.query(groupby(edits))
    assert all(r["version"] == "v1" for r in result)
    assert all(r["timestamp"] == "2024-01-01T00:00:00.000Z" for r in result)
    assert [r["event"] for r in result] == [
        {"channel": None, "page": "D", "rows": 1, "added": 3},
        {"channel": "de", "page": "C", "rows": 1, "added": 1},
        {"channel": "en", "page": "A", "rows": 2, "added": 110},
        {"channel": "en", "page": "B", "rows": 1, "added": 25},
        {"channel": "fr", "page": "A", "rows": 1, "added": 7},
    ]


def test_groupby_having_and_limit_spec(druid: LocalDruid, edits: str) -> None:
    having = {"type": "greaterThan", "aggregation": "added", "value": 5}
    result = druid.query(groupby(edits, having=having))
    assert _events(result) == [("en", "A", 2, 110), ("en", "B", 1, 25), ("fr", "A", 1, 7)]
    limit = {
        "type": "default",
        "limit": 2,
        "columns": [{"dimension": "added", "direction": "descending"}],
    }
    result = druid.query(groupby(edits, having=having, limitSpec=limit))
    assert _events(result) == [("en", "A", 2, 110), ("en", "B", 1, 25)]
    offset = {**limit, "offset": 1}
    assert _events(druid.query(groupby(edits, having=having, limitSpec=offset))) == [
        ("en", "B", 1, 25),
        ("fr", "A", 1, 7),
    ]


def test_groupby_having_combinations(druid: LocalDruid, edits: str) -> None:
    having = {
        "type": "or",
        "havingSpecs": [
            {"type": "dimSelector", "dimension": "channel", "value": "de"},
            {
                "type": "and",
                "havingSpecs": [
                    {"type": "equalTo", "aggregation": "rows", "value": 2},
                    {
                        "type": "not",
                        "havingSpec": {"type": "lessThan", "aggregation": "added", "value": 100},
                    },
                ],
            },
        ],
    }
    assert _events(druid.query(groupby(edits, having=having))) == [
        ("de", "C", 1, 1),
        ("en", "A", 2, 110),
    ]
    having = {"type": "filter", "filter": {"type": "selector", "dimension": "page", "value": "A"}}
    assert _events(druid.query(groupby(edits, having=having))) == [
        ("en", "A", 2, 110),
        ("fr", "A", 1, 7),
    ]


def test_groupby_daily_buckets_and_output_types(druid: LocalDruid, edits: str) -> None:
    query = groupby(
        edits,
        granularity="day",
        dimensions=[{"type": "default", "dimension": "channel", "outputName": "ch"}],
        aggregations=[{"type": "doubleSum", "name": "added", "fieldName": "added_d"}],
        filter={"type": "selector", "dimension": "channel", "value": "en"},
    )
    assert druid.query(query) == [
        {
            "version": "v1",
            "timestamp": "2024-01-01T00:00:00.000Z",
            "event": {"ch": "en", "added": 35.0},
        },
        {
            "version": "v1",
            "timestamp": "2024-01-02T00:00:00.000Z",
            "event": {"ch": "en", "added": 100.0},
        },
    ]


def test_groupby_numeric_dimension_is_a_string_unless_typed(druid: LocalDruid, edits: str) -> None:
    query = groupby(
        edits,
        dimensions=["added"],
        aggregations=[{"type": "count", "name": "n"}],
        limitSpec={
            "type": "default",
            "limit": 2,
            "columns": [{"dimension": "added", "direction": "ascending"}],
        },
    )
    # Lexicographic by default: "1" < "100" < "110"...
    assert [r["event"]["added"] for r in druid.query(query)] == ["1", "10"]
    query["dimensions"] = [{"dimension": "added", "outputName": "added", "outputType": "LONG"}]
    query["limitSpec"]["columns"][0]["dimensionOrder"] = "numeric"
    assert [r["event"]["added"] for r in druid.query(query)] == [1, 3]


def test_groupby_summary_row_without_dimensions(druid: LocalDruid, edits: str) -> None:
    query = groupby(edits, dimensions=[], intervals=["2030-01-01/2030-02-01"])
    assert druid.query(query) == [
        {
            "version": "v1",
            "timestamp": "2030-01-01T00:00:00.000Z",
            "event": {"rows": 0, "added": None},
        }
    ]
    query["dimensions"] = ["channel"]
    assert druid.query(query) == []


def test_alphanumeric_and_strlen_orderings(druid: LocalDruid) -> None:
    from tests.localdruid.harness import inline_task

    names = ["a10", "a2", "a1b", "10", "9", "b", "a02"]
    rows = [{"timestamp": "2024-01-01T00:00:00Z", "name": n, "v": i} for i, n in enumerate(names)]
    druid.ingest(
        inline_task(
            "alnum",
            rows,
            dimensions=["name"],
            metrics=[{"type": "longSum", "name": "v", "fieldName": "v"}],
        )
    )
    query = topn(
        "alnum",
        {"type": "dimension", "ordering": "alphanumeric"},
        dimension="name",
        aggregations=[{"type": "longSum", "name": "v", "fieldName": "v"}],
    )
    ordered = [r["name"] for r in druid.query(query)[0]["result"]]
    assert ordered == ["9", "10", "a1b", "a2", "a02", "a10", "b"]
    query["metric"] = {"type": "alphaNumeric", "previousStop": "a2"}
    assert [r["name"] for r in druid.query(query)[0]["result"]] == ["a02", "a10", "b"]
    query["metric"] = {"type": "dimension", "ordering": "strlen"}
    assert [r["name"] for r in druid.query(query)[0]["result"]] == [
        "9",
        "b",
        "10",
        "a2",
        "a02",
        "a10",
        "a1b",
    ]
    # Numeric: values that are not numbers sort first (like nulls), among themselves as text.
    query["metric"] = {"type": "dimension", "ordering": "numeric"}
    assert [r["name"] for r in druid.query(query)[0]["result"]] == [
        "a02",
        "a10",
        "a1b",
        "a2",
        "b",
        "9",
        "10",
    ]
    bound = {
        "type": "bound",
        "dimension": "name",
        "lower": "a2",
        "upper": "a10",
        "ordering": "alphanumeric",
    }
    grouped = groupby(
        "alnum",
        dimensions=["name"],
        filter=bound,
        intervals=["2024/2025"],
        aggregations=[],
        limitSpec={
            "type": "default",
            "columns": [
                {"dimension": "name", "dimensionOrder": "alphanumeric", "direction": "descending"}
            ],
        },
    )
    assert [r["event"]["name"] for r in druid.query(grouped)] == ["a10", "a02", "a2"]
