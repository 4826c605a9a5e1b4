"""Aggregator and filter variants over HTTP: first/last with a timeColumn, the any aggregators,
cardinality over dimension specs, and the deprecated extraction filter."""

from __future__ import annotations

from typing import Any

import pytest

from tests.localdruid.harness import LocalDruid, inline_task

INTERVAL = "2024-08-01/2024-08-02"
# tc is a long "event time" column; the first/last aggregators below order rows by it.
ROWS = [
    {"timestamp": "2024-08-01T10:00:00Z", "k": "a", "s": "s1", "x": 5, "tc": 300, "y": 1.5},
    {"timestamp": "2024-08-01T10:00:00Z", "k": "b", "s": "s2", "x": 7, "tc": 100, "y": 2.5},
    {"timestamp": "2024-08-01T11:00:00Z", "k": "a", "s": "s3", "x": 9, "tc": 200, "y": None},
    {"timestamp": "2024-08-01T12:00:00Z", "k": None, "s": "s4", "x": None, "tc": None, "y": 4.0},
]


@pytest.fixture(scope="module")
def variants(druid: LocalDruid) -> str:
    druid.ingest(
        inline_task(
            "av_rows",
            ROWS,
            dimensions=[
                "k",
                "s",
                {"type": "long", "name": "x"},
                {"type": "long", "name": "tc"},
                {"type": "double", "name": "y"},
            ],
            metrics=[{"type": "count", "name": "n"}],
            rollup=False,
        )
    )
    return "av_rows"


def timeseries(aggregations: list[Any], **fields: Any) -> dict[str, Any]:
    query = {
        "queryType": "timeseries",
        "dataSource": "av_rows",
        "intervals": [INTERVAL],
        "granularity": "all",
        "aggregations": aggregations,
    }
    query.update(fields)
    return query


def result(druid: LocalDruid, aggregations: list[Any], **fields: Any) -> dict[str, Any]:
    return dict(druid.query(timeseries(aggregations, **fields))[0]["result"])


def test_first_last_by_a_time_column(druid: LocalDruid, variants: str) -> None:
    """tc orders the rows: 100 (s2, x 7), 200 (s3, x 9), 300 (s1, x 5); a null tc is skipped."""
    aggs = [
        {"type": "longFirst", "name": "lf", "fieldName": "x", "timeColumn": "tc"},
        {"type": "longLast", "name": "ll", "fieldName": "x", "timeColumn": "tc"},
        {"type": "stringFirst", "name": "sf", "fieldName": "s", "timeColumn": "tc"},
        {"type": "stringLast", "name": "sl", "fieldName": "s", "timeColumn": "tc"},
        {"type": "doubleFirst", "name": "df", "fieldName": "y", "timeColumn": "tc"},
        {"type": "doubleLast", "name": "dl", "fieldName": "y", "timeColumn": "tc"},
        {"type": "stringLast", "name": "by_time", "fieldName": "s"},
    ]
    assert result(druid, aggs) == {
        "lf": 7,
        "ll": 5,
        "sf": "s2",
        "sl": "s1",
        "df": 2.5,
        "dl": 1.5,
        "by_time": "s4",
    }
    string_time = [{"type": "longFirst", "name": "lf", "fieldName": "x", "timeColumn": "s"}]
    resp = druid.post(timeseries(string_time))
    assert resp.status_code == 501 and "timeColumn [s]" in resp.json()["errorMessage"]


def test_any_aggregators_give_the_first_row_in_segment_order(
    druid: LocalDruid, variants: str
) -> None:
    """Druid promises any value, null included; localdruid gives the first row's (10:00, k a)."""
    aggs = [
        {"type": "longAny", "name": "l", "fieldName": "x"},
        {"type": "doubleAny", "name": "d", "fieldName": "y"},
        {"type": "floatAny", "name": "f", "fieldName": "y"},
        {"type": "stringAny", "name": "s", "fieldName": "s", "maxStringBytes": 1},
    ]
    assert result(druid, aggs) == {"l": 5, "d": 1.5, "f": 1.5, "s": "s"}
    # An hour whose only row is null: any gives null.
    late = result(druid, aggs, intervals=["2024-08-01T12:00/2024-08-01T13:00"])
    assert late == {"l": None, "d": 4.0, "f": 4.0, "s": "s"}


def test_cardinality_over_dimension_specs(druid: LocalDruid, variants: str) -> None:
    first_letter = {
        "type": "extraction",
        "dimension": "s",
        "outputName": "f",
        "extractionFn": {"type": "substring", "index": 0, "length": 1},
    }
    upper_k = {
        "type": "extraction",
        "dimension": "k",
        "outputName": "K",
        "extractionFn": {"type": "upper"},
    }
    aggs = [
        {"type": "cardinality", "name": "letters", "fields": [first_letter]},
        # Rows (A, 5), (B, 7), (A, 9), (null, null): four distinct.
        {"type": "cardinality", "name": "rows", "fields": [upper_k, "x"], "byRow": True},
        # Values A, B and 5, 7, 9 (nulls are not values): five distinct.
        {"type": "cardinality", "name": "values", "fields": [upper_k, "x"], "round": True},
    ]
    assert result(druid, aggs) == {"letters": 1.0, "rows": 4.0, "values": 5}


def test_extraction_filter_is_a_selector_with_an_extraction_fn(
    druid: LocalDruid, variants: str
) -> None:
    extraction = {
        "type": "extraction",
        "dimension": "s",
        "value": "S2",
        "extractionFn": {"type": "upper"},
    }
    count = [{"type": "count", "name": "rows"}]
    assert result(druid, count, filter=extraction) == {"rows": 1}
    negated = {"type": "not", "field": extraction}
    assert result(druid, count, filter=negated) == {"rows": 3}
