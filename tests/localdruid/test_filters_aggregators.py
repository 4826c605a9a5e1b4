"""Filters, aggregators and post-aggregators over HTTP, against the hand-checked `edits` data."""

from __future__ import annotations

from typing import Any

import pytest

from tests.localdruid.conftest import timeseries
from tests.localdruid.harness import LocalDruid

# Stored rows of `edits` (after rollup): channel/page/user/added
#   en A alice 10 | en B bob 25 | fr A carol 7 | de C alice 1 | en A dave 100 | null D bob 3

FILTERS: list[tuple[str, dict[str, Any], int]] = [
    ("selector", {"type": "selector", "dimension": "channel", "value": "en"}, 3),
    ("selector null", {"type": "selector", "dimension": "channel", "value": None}, 1),
    (
        "not selector skips nulls",
        {"type": "not", "field": {"type": "selector", "dimension": "channel", "value": "en"}},
        2,
    ),
    ("not null", {"type": "not", "field": {"type": "null", "column": "channel"}}, 5),
    (
        "equals",
        {"type": "equals", "column": "page", "matchValueType": "STRING", "matchValue": "A"},
        3,
    ),
    (
        "equals long on a long column",
        {"type": "equals", "column": "added", "matchValueType": "LONG", "matchValue": 25},
        1,
    ),
    ("null", {"type": "null", "column": "channel"}, 1),
    ("in with null", {"type": "in", "dimension": "channel", "values": ["fr", None]}, 2),
    ("in on a long column", {"type": "in", "dimension": "added", "values": ["7", "100"]}, 2),
    ("bound lexicographic", {"type": "bound", "dimension": "page", "lower": "B"}, 3),
    (
        "bound strict",
        {
            "type": "bound",
            "dimension": "page",
            "lower": "A",
            "lowerStrict": True,
            "upper": "D",
            "upperStrict": True,
        },
        2,
    ),
    (
        "bound numeric",
        {
            "type": "bound",
            "dimension": "added",
            "lower": "5",
            "upper": "25",
            "upperStrict": True,
            "ordering": "numeric",
        },
        2,
    ),
    (
        "bound without lower matches nulls",
        {"type": "bound", "dimension": "channel", "upper": "en"},
        5,
    ),
    (
        "range never matches nulls",
        {"type": "range", "column": "channel", "matchValueType": "STRING", "upper": "en"},
        4,
    ),
    (
        "range numeric open",
        {
            "type": "range",
            "column": "added",
            "matchValueType": "LONG",
            "lower": 7,
            "lowerOpen": True,
        },
        3,
    ),
    ("like", {"type": "like", "dimension": "user", "pattern": "%o%"}, 3),
    ("like escape", {"type": "like", "dimension": "user", "pattern": "a\\%", "escape": "\\"}, 0),
    ("regex finds anywhere", {"type": "regex", "dimension": "user", "pattern": "ic"}, 2),
    (
        "search contains is case-insensitive by default",
        {"type": "search", "dimension": "user", "query": {"type": "contains", "value": "AR"}},
        1,
    ),
    (
        "search case-sensitive",
        {
            "type": "search",
            "dimension": "user",
            "query": {"type": "contains", "value": "AR", "caseSensitive": True},
        },
        0,
    ),
    (
        "search insensitive_contains",
        {
            "type": "search",
            "dimension": "user",
            "query": {"type": "insensitive_contains", "value": "BO"},
        },
        2,
    ),
    (
        "interval",
        {
            "type": "interval",
            "dimension": "__time",
            "intervals": ["2024-01-01T00:00:00Z/2024-01-01T01:00:00Z"],
        },
        2,
    ),
    (
        "and",
        {
            "type": "and",
            "fields": [
                {"type": "selector", "dimension": "channel", "value": "en"},
                {"type": "selector", "dimension": "page", "value": "A"},
            ],
        },
        2,
    ),
    (
        "or",
        {
            "type": "or",
            "fields": [
                {"type": "selector", "dimension": "channel", "value": "de"},
                {"type": "selector", "dimension": "page", "value": "D"},
            ],
        },
        2,
    ),
    ("true", {"type": "true"}, 6),
    ("false", {"type": "false"}, 0),
    ("missing column is null", {"type": "selector", "dimension": "nope", "value": None}, 6),
    (
        "quotes and SQL are just values",
        {"type": "selector", "dimension": "page", "value": "A'; DROP TABLE edits; --"},
        0,
    ),
]


@pytest.mark.parametrize(("name", "filter_", "rows"), FILTERS, ids=[f[0] for f in FILTERS])
def test_filter(
    druid: LocalDruid, edits: str, name: str, filter_: dict[str, Any], rows: int
) -> None:
    query = timeseries(edits, filter=filter_, aggregations=[{"type": "count", "name": "rows"}])
    assert druid.query(query)[0]["result"]["rows"] == rows


def _totals(
    druid: LocalDruid,
    edits: str,
    aggregations: list[dict[str, Any]],
    post: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    query = timeseries(edits, aggregations=aggregations, postAggregations=post or [])
    return druid.query(query)[0]["result"]


def test_aggregator_types_and_json_number_types(druid: LocalDruid, edits: str) -> None:
    result = _totals(
        druid,
        edits,
        [
            {"type": "count", "name": "count"},
            {"type": "longSum", "name": "input_rows", "fieldName": "count"},
            {"type": "doubleSum", "name": "added_d", "fieldName": "added"},
            {"type": "floatSum", "name": "added_f", "fieldName": "added"},
            {"type": "longMin", "name": "min", "fieldName": "added"},
            {"type": "longMax", "name": "max", "fieldName": "added"},
            {"type": "doubleMax", "name": "dmax", "fieldName": "added_d"},
            {"type": "longSum", "name": "missing", "fieldName": "no_such_column"},
            {"type": "hyperUnique", "name": "users", "fieldName": "user_unique"},
            {"type": "cardinality", "name": "channels", "fields": ["channel"]},
            {"type": "cardinality", "name": "pairs", "fields": ["channel", "page"], "byRow": True},
            {
                "type": "filtered",
                "name": "en_added",
                "filter": {"type": "selector", "dimension": "channel", "value": "en"},
                "aggregator": {"type": "longSum", "fieldName": "added", "name": "x"},
            },
            {
                "type": "filtered",
                "filter": {"type": "false"},
                "aggregator": {"type": "count", "name": "none"},
            },
        ],
    )
    assert result == {
        "count": 6,
        "input_rows": 7,
        "added_d": 146.0,
        "added_f": 146.0,
        "min": 1,
        "max": 100,
        "dmax": 100.0,
        "missing": None,
        "users": 4.0,
        "channels": 3.0,
        "pairs": 5.0,
        "en_added": 135,
        "none": 0,
    }
    assert isinstance(result["added_d"], float) and isinstance(result["count"], int)


def test_post_aggregators(druid: LocalDruid, edits: str) -> None:
    aggs = [
        {"type": "longSum", "name": "added", "fieldName": "added"},
        {"type": "count", "name": "rows"},
        {"type": "hyperUnique", "name": "users", "fieldName": "user_unique"},
    ]
    field = {"type": "fieldAccess", "fieldName": "added"}
    post = [
        {
            "type": "arithmetic",
            "name": "plus",
            "fn": "+",
            "fields": [field, {"type": "constant", "name": "c", "value": 4}],
        },
        {
            "type": "arithmetic",
            "name": "div0",
            "fn": "/",
            "fields": [field, {"type": "constant", "name": "z", "value": 0}],
        },
        {
            "type": "arithmetic",
            "name": "quot",
            "fn": "quotient",
            "fields": [field, {"type": "fieldAccess", "fieldName": "rows"}],
        },
        {
            "type": "arithmetic",
            "name": "chain",
            "fn": "*",
            "fields": [
                {"type": "fieldAccess", "fieldName": "plus"},
                {"type": "constant", "name": "h", "value": 0.5},
            ],
        },
        {"type": "constant", "name": "seven", "value": 7},
        {"type": "hyperUniqueCardinality", "name": "u", "fieldName": "users"},
        {"type": "finalizingFieldAccess", "name": "f", "fieldName": "rows"},
    ]
    assert _totals(druid, edits, aggs, post) == {
        "added": 146,
        "rows": 6,
        "users": 4.0,
        "plus": 150.0,
        "div0": 0.0,
        "quot": 146 / 6,
        "chain": 75.0,
        "seven": 7,
        "u": 4.0,
        "f": 6,
    }


def test_null_operand_makes_arithmetic_null(druid: LocalDruid, edits: str) -> None:
    aggs = [{"type": "longSum", "name": "missing", "fieldName": "no_such_column"}]
    post = [
        {
            "type": "arithmetic",
            "name": "p",
            "fn": "/",
            "fields": [
                {"type": "fieldAccess", "fieldName": "missing"},
                {"type": "constant", "value": 0},
            ],
        }
    ]
    assert _totals(druid, edits, aggs, post) == {"missing": None, "p": None}


def test_bound_with_strlen_and_alphanumeric_orderings(druid: LocalDruid, edits: str) -> None:
    strlen = {
        "type": "bound",
        "dimension": "user",
        "lower": "bob",
        "upper": "carol",
        "ordering": "strlen",
        "upperStrict": True,
    }
    # strlen orders by length, then text: bob < dave < alice < carol.
    query = timeseries(edits, filter=strlen, aggregations=[{"type": "count", "name": "rows"}])
    assert druid.query(query)[0]["result"]["rows"] == 5  # bob x2, dave, alice x2
    alpha = {"type": "bound", "dimension": "page", "lower": "B", "ordering": "alphaNumeric"}
    query = timeseries(edits, filter=alpha, aggregations=[{"type": "count", "name": "rows"}])
    assert druid.query(query)[0]["result"]["rows"] == 3
