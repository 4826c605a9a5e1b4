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


def expression(name: str, fold: str, **fields: Any) -> dict[str, Any]:
    """An expression aggregator with initial value 0; `fields` lists its input columns."""
    spec = {"type": "expression", "name": name, "initialValue": "0", "fold": fold}
    spec.update(fields)
    return spec


def test_expression_aggregator_folds_rows(druid: LocalDruid, variants: str) -> None:
    """x is 5, 7, 9 and null; y is 1.5, 2.5, null and 4.0 (in time order)."""
    no_nulls = {"shouldAggregateNullInputs": False}
    aggs = [
        expression("count", "__acc + 1", fields=[], combine="__acc + count"),
        # A null input makes __acc + x null, and it stays null: 5 + 7 + 9 + null.
        expression("sum", "__acc + x", fields=["x"]),
        expression("skipping", "__acc + x", fields=["x"], **no_nulls),
        expression("nvl", "t + nvl(x, 0)", fields=["x"], accumulatorIdentifier="t"),
        expression("dsum", "__acc + y", fields=["y"], initialValue="0.0", **no_nulls),
        # A long accumulator keeps each step as a long: 1.5 -> 1, 1 + 2.5 -> 3, 3 + 4.0 -> 7.
        expression("truncated", "__acc + y", fields=["y"], **no_nulls),
        expression("doubled", "__acc + x", fields=["x"], finalize="o * 2", **no_nulls),
        expression("ratio", "__acc + x", fields=["x"], finalize="o / 2.0", **no_nulls),
        # A column the datasource lacks reads null: no row has it, or every row counts.
        expression("none", "if(isnull(nope), __acc, __acc + 1)", fields=["nope"], **no_nulls),
        expression("kept", "if(isnull(nope), __acc + 1, __acc)", fields=["nope"]),
    ]
    assert result(druid, aggs) == {
        "count": 4,
        "sum": None,
        "skipping": 21,
        "nvl": 21,
        "dsum": 8.0,
        "truncated": 7,
        "doubled": 42,
        "ratio": 10.5,
        "none": None,
        "kept": 4,
    }


def test_expression_aggregator_over_no_rows(druid: LocalDruid, variants: str) -> None:
    """Null unless a row was aggregated, or else the initial value (finalized)."""
    nothing = {"type": "selector", "dimension": "k", "value": "zzz"}
    aggs = [
        expression("null", "__acc + x", fields=["x"]),
        expression("zero", "__acc + x", fields=["x"], isNullUnlessAggregated=False),
        expression(
            "one", "__acc + x", fields=["x"], isNullUnlessAggregated=False, finalize="o + 1"
        ),
    ]
    assert result(druid, aggs, filter=nothing) == {"null": None, "zero": 0, "one": 1}
    filtered = [{"type": "filtered", "filter": nothing, "aggregator": agg} for agg in aggs]
    assert result(druid, filtered) == {"null": None, "zero": 0, "one": 1}


def test_expression_aggregator_per_group(druid: LocalDruid, variants: str) -> None:
    """k is a (x 5 and 9), b (x 7) and null (x null: nothing aggregated)."""
    query = {
        **timeseries(
            [expression("sum", "__acc + x", fields=["x"], shouldAggregateNullInputs=False)]
        ),
        "queryType": "groupBy",
        "dimensions": ["k"],
    }
    assert [row["event"] for row in druid.query(query)] == [
        {"k": None, "sum": None},
        {"k": "a", "sum": 14},
        {"k": "b", "sum": 7},
    ]


@pytest.mark.parametrize(
    ("aggregator", "status", "words"),
    [
        # Functions and literals localdruid's expressions lack.
        (expression("a", "array_set_add(__acc, x)", fields=["x"], initialValue="[]"), 501, "array"),
        (
            expression(
                "h", "hyper_unique_add(x, __acc)", fields=["x"], initialValue="hyper_unique()"
            ),
            501,
            "hyper_unique",
        ),
        (expression("c", "__acc + x", fields=["x"], compare="o1 - o2"), 501, "compare"),
        (
            expression("t", "__acc + x", fields=["x"], initialCombineValue="0.0"),
            501,
            "initialCombineValue",
        ),
        # A missing column is a null string to localdruid, whose + would concatenate.
        (expression("n", "__acc + nvl(nope, 1)", fields=["nope"]), 501, "STRING"),
        (expression("s", "concat(__acc, k)", fields=["k"], initialValue="''"), 501, "STRING"),
        (
            expression("m", "__acc + x", fields=["x"], combine="bitwiseOr(__acc, m)"),
            501,
            "bitwiseOr",
        ),
        (expression("x", "__acc + x", fields=["x", "y"]), 400, "single input field"),
        (expression("i", "__acc + x", fields=["x"], initialValue="x"), 400, "constant"),
        (expression("b", "__acc + x", fields=["x"], maxSizeBytes=5), 400, "maxSizeBytes"),
    ],
)
def test_expression_aggregator_refusals(
    druid: LocalDruid, variants: str, aggregator: dict[str, Any], status: int, words: str
) -> None:
    resp = druid.post(timeseries([aggregator]))
    assert resp.status_code == status, resp.text
    assert words in resp.json()["errorMessage"]
    if status == 501:
        assert "[expression]" in resp.json()["errorMessage"]


def test_post_aggregators_over_a_finalized_expression_aggregator(
    druid: LocalDruid, variants: str
) -> None:
    """fieldAccess reads the accumulator, finalizingFieldAccess the final value: refused."""
    plain = expression("plain", "__acc + x", fields=["x"], shouldAggregateNullInputs=False)
    final = {**plain, "name": "final", "finalize": "o * 2"}
    read = {"type": "fieldAccess", "fieldName": "plain"}
    assert result(druid, [plain], postAggregations=[{**read, "name": "p"}])["p"] == 21
    resp = druid.post(
        timeseries([final], postAggregations=[{**read, "fieldName": "final", "name": "p"}])
    )
    assert resp.status_code == 501, resp.text


def test_ordering_by_an_expression_aggregator(druid: LocalDruid, variants: str) -> None:
    """topN by the fold's value (null last); by a finalized one Druid compares the accumulator
    (or `compare`), which localdruid refuses, as it does limitSpec and having uses."""
    plain = expression("sum", "__acc + x", fields=["x"], shouldAggregateNullInputs=False)
    topn = {
        **timeseries([plain]),
        "queryType": "topN",
        "dimension": "k",
        "metric": "sum",
        "threshold": 3,
    }
    assert druid.query(topn)[0]["result"] == [
        {"k": "a", "sum": 14},
        {"k": "b", "sum": 7},
        {"k": None, "sum": None},
    ]
    final = {**plain, "finalize": "0 - o"}
    assert druid.post({**topn, "aggregations": [final]}).status_code == 501
    groupby = {**timeseries([final]), "queryType": "groupBy", "dimensions": ["k"]}
    limit = {"type": "default", "columns": [{"dimension": "sum", "direction": "descending"}]}
    assert druid.post({**groupby, "limitSpec": limit}).status_code == 501
    having = {"type": "greaterThan", "aggregation": "sum", "value": 0}
    assert druid.post({**groupby, "having": having}).status_code == 501
    assert [r["event"] for r in druid.query(groupby)] == [
        {"k": None, "sum": None},
        {"k": "a", "sum": -14},
        {"k": "b", "sum": -7},
    ]


def test_expression_aggregator_in_empty_buckets(druid: LocalDruid, variants: str) -> None:
    """10:00 has x 5 and 7, 10:30 no rows (null, or the finalized initial value), 11:00 x 9."""
    aggs = [
        expression("null", "__acc + x", fields=["x"]),
        expression(
            "one", "__acc + x", fields=["x"], isNullUnlessAggregated=False, finalize="o + 1"
        ),
    ]
    query = timeseries(
        aggs, granularity="thirty_minute", intervals=["2024-08-01T10/2024-08-01T11:30"]
    )
    assert [row["result"] for row in druid.query(query)] == [
        {"null": 12, "one": 13},
        {"null": None, "one": 1},
        {"null": 9, "one": 10},
    ]
