"""groupBy subtotalsSpec over HTTP: each set of dimensions regrouped in turn, concatenated."""

from __future__ import annotations

from typing import Any

import pytest

from tests.localdruid.harness import LocalDruid, inline_task

INTERVAL = "2024-07-01/2024-07-03"
# Two days; c is null on one row.
ROWS = [
    {"timestamp": "2024-07-01T01:00:00Z", "a": "x", "b": "p", "c": "k", "v": 1},
    {"timestamp": "2024-07-01T02:00:00Z", "a": "x", "b": "q", "c": "k", "v": 2},
    {"timestamp": "2024-07-01T03:00:00Z", "a": "y", "b": "p", "c": None, "v": 4},
    {"timestamp": "2024-07-02T01:00:00Z", "a": "y", "b": "p", "c": "k", "v": 8},
]


@pytest.fixture(scope="module")
def subtotals(druid: LocalDruid) -> str:
    druid.ingest(
        inline_task(
            "st_rows",
            ROWS,
            dimensions=["a", "b", "c"],
            metrics=[
                {"type": "count", "name": "n"},
                {"type": "longSum", "name": "v", "fieldName": "v"},
            ],
            rollup=False,
        )
    )
    return "st_rows"


def group_by(subtotals_spec: Any, granularity: str = "all", **fields: Any) -> dict[str, Any]:
    query = {
        "queryType": "groupBy",
        "dataSource": "st_rows",
        "intervals": [INTERVAL],
        "granularity": granularity,
        "dimensions": [
            "a",
            {
                "type": "extraction",
                "dimension": "b",
                "outputName": "B",
                "extractionFn": {"type": "upper"},
            },
            "c",
        ],
        "aggregations": [
            {"type": "longSum", "name": "rows", "fieldName": "n"},
            {"type": "longSum", "name": "v", "fieldName": "v"},
        ],
        "postAggregations": [
            {
                "type": "arithmetic",
                "name": "twice",
                "fn": "*",
                "fields": [
                    {"type": "fieldAccess", "fieldName": "v"},
                    {"type": "constant", "value": 2},
                ],
            }
        ],
        "subtotalsSpec": subtotals_spec,
    }
    query.update(fields)
    return query


def events(answer: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            row["timestamp"][:10],
            row["event"]["a"],
            row["event"]["B"],
            row["event"]["c"],
            row["event"]["v"],
            row["event"]["twice"],
        )
        for row in answer
    ]


def test_subtotals_concatenate_each_grouping(druid: LocalDruid, subtotals: str) -> None:
    """The spec's order, each set sorted by its dimensions; the others are null; the order of
    names inside a set does not matter."""
    answer = druid.query(group_by([["c", "a"], ["B"], []]))
    assert events(answer) == [
        ("2024-07-01", "x", None, "k", 3, 6),
        ("2024-07-01", "y", None, None, 4, 8),
        ("2024-07-01", "y", None, "k", 8, 16),
        ("2024-07-01", None, "P", None, 13, 26),
        ("2024-07-01", None, "Q", None, 2, 4),
        ("2024-07-01", None, None, None, 15, 30),
    ]
    # Every dimension is in every event, null when outside the set.
    assert set(answer[3]["event"]) == {"a", "B", "c", "rows", "v", "twice"}
    assert answer[5]["event"]["rows"] == 4


def test_subtotals_per_time_bucket(druid: LocalDruid, subtotals: str) -> None:
    answer = druid.query(group_by([["a"], []], granularity="day"))
    assert events(answer) == [
        ("2024-07-01", "x", None, None, 3, 6),
        ("2024-07-01", "y", None, None, 4, 8),
        ("2024-07-02", "y", None, None, 8, 16),
        ("2024-07-01", None, None, None, 7, 14),
        ("2024-07-02", None, None, None, 8, 16),
    ]


def test_subtotals_over_no_rows(druid: LocalDruid, subtotals: str) -> None:
    nothing = {"type": "selector", "dimension": "a", "value": "none"}
    assert druid.query(group_by([["a"], []], filter=nothing)) == []


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"subtotalsSpec": [["nope"]]}, 400, "[nope] is not the output name"),
        ({"subtotalsSpec": ["a"]}, 400, "list of lists"),
        ({"having": {"type": "greaterThan", "aggregation": "v", "value": 1}}, 501, "having"),
        ({"limitSpec": {"type": "default", "limit": 1}}, 501, "limitSpec"),
    ],
)
def test_subtotals_refusals(
    druid: LocalDruid, subtotals: str, fields: dict[str, Any], status: int, message: str
) -> None:
    resp = druid.post(group_by([["a"]], **fields))
    assert resp.status_code == status, resp.text
    assert message in resp.json()["errorMessage"]


def test_grouping_aggregator_marks_the_dimensions_left_out(
    druid: LocalDruid, subtotals: str
) -> None:
    """One bit per grouping dimension (a, B, c), the first the most significant, set where the
    subtotal leaves it out; 0 without subtotals."""
    grouping = {"type": "grouping", "name": "g", "groupings": ["a", "B", "c"]}
    query = group_by([["c", "a"], ["B"], []])
    query["aggregations"] = [*query["aggregations"], grouping]
    masks = [row["event"]["g"] for row in druid.query(query)]
    assert masks == [0b010, 0b010, 0b010, 0b101, 0b101, 0b111]
    del query["subtotalsSpec"]
    assert {row["event"]["g"] for row in druid.query(query)} == {0}
