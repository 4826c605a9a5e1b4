"""Tests for explorer.validation: Druid's documented examples pass, malformed objects are named."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from explorer.validation import QUERY_TYPES, validate_query

INTERVALS = ["2012-01-01T00:00:00.000/2012-01-03T00:00:00.000"]


def timeseries(**fields: Any) -> dict[str, Any]:
    """The timeseries example from Druid's timeseriesquery.md, with ``fields`` replaced."""
    query: dict[str, Any] = {
        "queryType": "timeseries",
        "dataSource": "sample_datasource",
        "granularity": "day",
        "descending": "true",
        "filter": {
            "type": "and",
            "fields": [
                {"type": "selector", "dimension": "sample_dimension1", "value": "sample_value1"},
                {
                    "type": "or",
                    "fields": [
                        {"type": "selector", "dimension": "sample_dimension2", "value": "v2"},
                        {"type": "selector", "dimension": "sample_dimension3", "value": "v3"},
                    ],
                },
            ],
        },
        "aggregations": [
            {"type": "longSum", "name": "sample_name1", "fieldName": "sample_fieldName1"},
            {"type": "doubleSum", "name": "sample_name2", "fieldName": "sample_fieldName2"},
        ],
        "postAggregations": [
            {
                "type": "arithmetic",
                "name": "sample_divide",
                "fn": "/",
                "fields": [
                    {"type": "fieldAccess", "name": "p1", "fieldName": "sample_name1"},
                    {"type": "fieldAccess", "name": "p2", "fieldName": "sample_name2"},
                ],
            }
        ],
        "intervals": INTERVALS,
    }
    query.update(fields)
    return query


def topn(**fields: Any) -> dict[str, Any]:
    """The topN example from Druid's topnquery.md, with ``fields`` replaced."""
    query: dict[str, Any] = {
        "queryType": "topN",
        "dataSource": "sample_data",
        "dimension": "sample_dim",
        "threshold": 5,
        "metric": "count",
        "granularity": "all",
        "filter": {
            "type": "and",
            "fields": [
                {"type": "selector", "dimension": "dim1", "value": "some_value"},
                {"type": "selector", "dimension": "dim2", "value": "some_other_val"},
            ],
        },
        "aggregations": [
            {"type": "longSum", "name": "count", "fieldName": "count"},
            {"type": "doubleSum", "name": "some_metric", "fieldName": "some_metric"},
        ],
        "postAggregations": [
            {
                "type": "arithmetic",
                "name": "average",
                "fn": "/",
                "fields": [
                    {"type": "fieldAccess", "name": "some_metric", "fieldName": "some_metric"},
                    {"type": "fieldAccess", "name": "count", "fieldName": "count"},
                ],
            }
        ],
        "intervals": ["2013-08-31T00:00:00.000/2013-09-03T00:00:00.000"],
    }
    query.update(fields)
    return query


def groupby(**fields: Any) -> dict[str, Any]:
    """The groupBy example from Druid's groupbyquery.md, with ``fields`` replaced."""
    query: dict[str, Any] = {
        "queryType": "groupBy",
        "dataSource": "sample_datasource",
        "granularity": "day",
        "dimensions": ["country", "device"],
        "limitSpec": {"type": "default", "limit": 5000, "columns": ["country", "data_transfer"]},
        "filter": {
            "type": "and",
            "fields": [
                {"type": "selector", "dimension": "carrier", "value": "AT&T"},
                {
                    "type": "or",
                    "fields": [
                        {"type": "selector", "dimension": "make", "value": "Apple"},
                        {"type": "selector", "dimension": "make", "value": "Samsung"},
                    ],
                },
            ],
        },
        "aggregations": [
            {"type": "longSum", "name": "total_usage", "fieldName": "user_count"},
            {"type": "doubleSum", "name": "data_transfer", "fieldName": "data_transfer"},
        ],
        "postAggregations": [
            {
                "type": "arithmetic",
                "name": "avg_usage",
                "fn": "/",
                "fields": [
                    {"type": "fieldAccess", "fieldName": "data_transfer"},
                    {"type": "fieldAccess", "fieldName": "total_usage"},
                ],
            }
        ],
        "intervals": INTERVALS,
        "having": {"type": "greaterThan", "aggregation": "total_usage", "value": 100},
    }
    query.update(fields)
    return query


def messages_at(query: object, path: str, **options: Any) -> list[str]:
    errors = validate_query(query, **options)
    assert path in errors, f"expected an error at {path!r}, got {json.dumps(errors, indent=1)}"
    return errors[path]


def assert_valid(query: object, **options: Any) -> None:
    errors = validate_query(query, **options)
    assert errors == {}, json.dumps(errors, indent=1)


# --- whole queries --------------------------------------------------------------------------


def test_query_types_are_the_three_supported() -> None:
    assert QUERY_TYPES == ("timeseries", "topN", "groupBy")


@pytest.mark.parametrize("make", [timeseries, topn, groupby])
def test_documented_example_queries_are_valid(make: Any) -> None:
    assert_valid(make())


def test_readme_topn_is_valid() -> None:
    assert_valid(
        {
            "queryType": "topN",
            "dataSource": "wikipedia",
            "intervals": ["2000/2100"],
            "granularity": "all",
            "dimension": "channel",
            "metric": "edits",
            "threshold": 5,
            "aggregations": [{"type": "longSum", "name": "edits", "fieldName": "count"}],
        }
    )


@pytest.mark.parametrize("query", [None, [], [timeseries()], "timeseries", 3, 2.5, True, ()])
def test_non_object_queries_give_an_error_and_never_raise(query: object) -> None:
    errors = validate_query(query)
    assert list(errors) == ["__all__"]
    assert "JSON object" in errors["__all__"][0]


def test_empty_object_names_every_required_field() -> None:
    errors = validate_query({})
    for key in ("dataSource", "intervals", "granularity"):
        assert errors[key] == [f'Missing required field "{key}".']
    (message,) = errors["queryType"]
    assert message.startswith('Missing required field "queryType"')
    assert "timeseries, topN, groupBy" in message


def test_unknown_query_type_suggests_the_right_spelling() -> None:
    (message,) = messages_at(groupby(queryType="groupby"), "queryType")
    assert message.startswith('Unknown query type "groupby"; expected one of timeseries')
    assert 'Did you mean "groupBy"?' in message


def test_unknown_query_type_still_checks_the_common_fields() -> None:
    errors = validate_query(timeseries(queryType="scan", granularity="fortnight"))
    assert "queryType" in errors
    assert "granularity" in errors


def test_validation_does_not_change_the_query() -> None:
    query = groupby()
    before = copy.deepcopy(query)
    validate_query(query)
    assert query == before


def test_unknown_extra_keys_are_accepted_because_druid_ignores_them() -> None:
    query = timeseries(comment="for the weekly report", dimensions="not read by timeseries")
    query["aggregations"][0]["note"] = "x"
    query["filter"]["fields"][0]["extra"] = {"any": "thing"}
    assert_valid(query)


def test_check_intervals_false_skips_intervals() -> None:
    query = timeseries()
    del query["intervals"]
    assert "intervals" in validate_query(query)
    assert_valid(query, check_intervals=False)
    assert_valid(timeseries(intervals="garbage"), check_intervals=False)


def test_every_path_starts_with_a_top_level_query_key() -> None:
    query = groupby()
    query["filter"]["fields"][1]["fields"][0]["dimension"] = 7
    query["aggregations"][0]["fieldName"] = ""
    query["postAggregations"][0]["fields"][0]["fieldName"] = "missing"
    query["having"]["value"] = "lots"
    errors = validate_query(query)
    assert set(errors) == {
        "filter.fields[1].fields[0].dimension",
        "aggregations[0].fieldName",
        "postAggregations[0].fields[0].fieldName",
        "having.value",
    }
    for messages in errors.values():
        assert messages and all(message.endswith((".", "?")) for message in messages)


def test_too_deeply_nested_filter_is_reported_not_raised() -> None:
    deep: dict[str, Any] = {"type": "true"}
    for _ in range(5000):
        deep = {"type": "not", "field": deep}
    errors = validate_query(timeseries(filter=deep))
    assert errors
    assert all(isinstance(message, str) for messages in errors.values() for message in messages)


# --- dataSource -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "wikipedia",
        {"type": "table", "name": "wikipedia"},
        {"type": "lookup", "lookup": "countries"},
        {"type": "union", "dataSources": ["a", "b", {"type": "table", "name": "c"}]},
        {
            "type": "inline",
            "columnNames": ["country", "city"],
            "rows": [["United States", "San Francisco"], ["Canada", "Calgary"]],
        },
        {"type": "query", "query": groupby()},
        {"type": "query", "query": {"queryType": "scan", "dataSource": "x"}},
        {
            "type": "join",
            "left": "wikipedia",
            "right": {"type": "lookup", "lookup": "countries"},
            "rightPrefix": "r.",
            "condition": 'countryIsoCode == "r.k"',
            "joinType": "INNER",
        },
    ],
)
def test_documented_data_sources_are_valid(source: object) -> None:
    assert_valid(timeseries(dataSource=source))


@pytest.mark.parametrize(
    ("source", "path", "fragment"),
    [
        ("", "dataSource", "empty"),
        (42, "dataSource", "JSON object"),
        ({"type": "table"}, "dataSource.name", 'Missing required field "name"'),
        ({"name": "wikipedia"}, "dataSource.type", 'Missing required field "type"'),
        ({"type": "tabel", "name": "x"}, "dataSource.type", 'Did you mean "table"?'),
        ({"type": "union", "dataSources": []}, "dataSource.dataSources", "empty"),
        (
            {"type": "inline", "columnNames": ["a", "b"], "rows": [["x"]]},
            "dataSource.rows[0]",
            "2 values",
        ),
        (
            {"type": "query", "query": {"queryType": "topN"}},
            "dataSource.query.dimension",
            "Missing",
        ),
    ],
)
def test_malformed_data_sources_are_named(source: object, path: str, fragment: str) -> None:
    assert any(fragment in message for message in messages_at(timeseries(dataSource=source), path))


# --- intervals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "intervals",
    [
        "2013/2014",
        "2013-08/2013-09",
        "1000/3000",
        "2013-08-31T01:02:33.123+02:00/2013-09-01",
        "2013-08-31T01Z/2013-08-31T02Z",
        "2013-08-31T01:02Z/PT1H",
        "2013-01-01/P1Y2M3W4DT5H6M7.5S",
        "P1D/2013-01-01",
        "2013-W35-6/2013-243",
        ["2013-01-01T00:00:00,5/2013-01-01T00:00:01"],
        "2012-01-01/2012-01-02,2012-02-01/2012-02-02",
        "2013-01-01/2013-01-01",
        "0001-01-01T00:00+05:00/9999-12-31T23:59:59-05:00",
        "2013-01-01/p1d",
        ["2014-10-01T00:00:00.000Z/2014-10-07T00:00:00.000Z", "2014-11-15/2014-11-16"],
        {"type": "intervals", "intervals": ["2013/2014"]},
    ],
)
def test_iso_8601_intervals_in_every_form_are_valid(intervals: object) -> None:
    assert_valid(timeseries(intervals=intervals))


@pytest.mark.parametrize(
    ("intervals", "path", "fragment"),
    [
        ([], "intervals", "empty"),
        ("", "intervals", "not an ISO-8601 interval"),
        (["2013-01-01"], "intervals[0]", "start/end, start/period or period/end"),
        (["2013-13-01/2014"], "intervals[0]", '"2013-13-01" is not an ISO-8601 date'),
        (["2013-02-30/2014"], "intervals[0]", '"2013-02-30" is not'),
        (["2013-01-01T25:00/2014"], "intervals[0]", "is not an ISO-8601 date"),
        (["2013/P1X"], "intervals[0]", '"P1X" is not an ISO-8601 period'),
        (["P1D/P2D"], "intervals[0]", "period on both sides"),
        (["2014/2013"], "intervals[0]", "starts after it ends"),
        (["2013-01-02T01:00+01:00/2013-01-01T23:30Z"], "intervals[0]", "starts after it ends"),
        ([20130101], "intervals[0]", "Must be an ISO-8601 interval string"),
        (5, "intervals", "ISO-8601 interval"),
    ],
)
def test_malformed_intervals_are_named(intervals: object, path: str, fragment: str) -> None:
    assert any(
        fragment in message for message in messages_at(timeseries(intervals=intervals), path)
    )


# --- granularity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "granularity",
    [
        "all",
        "none",
        "second",
        "minute",
        "five_minute",
        "ten_minute",
        "fifteen_minute",
        "thirty_minute",
        "hour",
        "six_hour",
        "eight_hour",
        "day",
        "week",
        "month",
        "quarter",
        "year",
        "ALL",
        "Day",
        {"type": "all"},
        {"type": "none"},
        {"type": "duration", "duration": 7200000},
        {"type": "duration", "duration": 3600000, "origin": "2012-01-01T00:30:00Z"},
        {"type": "duration", "duration": "86400000", "origin": "2012-01-01T00:30:00Z"},
        {"type": "period", "period": "P2D", "timeZone": "America/Los_Angeles"},
        {
            "type": "period",
            "period": "P3M",
            "timeZone": "America/Los_Angeles",
            "origin": "2012-02-01T00:00:00-08:00",
        },
        {"type": "period", "period": "PT0.750S"},
        {"type": "period", "period": "PT1H30M", "timeZone": "+05:30"},
        {"type": "period", "period": "P1W", "timeZone": "UTC", "origin": 0},
    ],
)
def test_documented_granularities_are_valid(granularity: object) -> None:
    assert_valid(timeseries(granularity=granularity))


@pytest.mark.parametrize(
    ("granularity", "path", "fragment"),
    [
        ("fortnight", "granularity", 'Unknown granularity "fortnight"'),
        ("P1D", "granularity", '{"type": "period", "period": "P1D"}'),
        (3600000, "granularity", "JSON object"),
        ({"type": "day"}, "granularity.type", 'Unknown granularity type "day"'),
        ({"type": "duration"}, "granularity.duration", 'Missing required field "duration"'),
        ({"type": "duration", "duration": 0}, "granularity.duration", "positive"),
        ({"type": "duration", "duration": "2h"}, "granularity.duration", "milliseconds"),
        ({"type": "duration", "duration": 60000, "origin": "noon"}, "granularity.origin", "ISO"),
        ({"type": "period", "period": "1D"}, "granularity.period", "ISO-8601 period"),
        ({"type": "period", "period": "PT0S"}, "granularity.period", "longer than zero"),
        (
            {"type": "period", "period": "P1D", "timeZone": "Mars/Olympus_Mons"},
            "granularity.timeZone",
            'Unknown time zone "Mars/Olympus_Mons"',
        ),
        ({"type": "period", "period": "P1D", "timeZone": "+25:00"}, "granularity.timeZone", "zone"),
    ],
)
def test_malformed_granularities_are_named(granularity: object, path: str, fragment: str) -> None:
    messages = messages_at(timeseries(granularity=granularity), path)
    assert any(fragment in message for message in messages)


# --- aggregations ---------------------------------------------------------------------------

DOCUMENTED_AGGREGATORS: list[dict[str, Any]] = [
    {"type": "count", "name": "count"},
    {"type": "longSum", "name": "sumLong", "fieldName": "aLong"},
    {"type": "doubleSum", "name": "sumDouble", "fieldName": "aDouble"},
    {"type": "floatSum", "name": "sumFloat", "fieldName": "aFloat"},
    {"type": "longSum", "name": "sumExpr", "expression": "aLong * 2"},
    {"type": "doubleMin", "name": "minDouble", "fieldName": "aDouble"},
    {"type": "doubleMax", "name": "maxDouble", "fieldName": "aDouble"},
    {"type": "floatMin", "name": "minFloat", "fieldName": "aFloat"},
    {"type": "floatMax", "name": "maxFloat", "fieldName": "aFloat"},
    {"type": "longMin", "name": "minLong", "fieldName": "aLong"},
    {"type": "longMax", "name": "maxLong", "fieldName": "aLong"},
    {"type": "doubleMean", "name": "aMean", "fieldName": "aDouble"},
    {"type": "doubleFirst", "name": "firstDouble", "fieldName": "aDouble"},
    {"type": "doubleLast", "name": "lastDouble", "fieldName": "aDouble", "timeColumn": "longTime"},
    {"type": "floatFirst", "name": "firstFloat", "fieldName": "aFloat"},
    {"type": "floatLast", "name": "lastFloat", "fieldName": "aFloat"},
    {"type": "longFirst", "name": "firstLong", "fieldName": "aLong"},
    {"type": "longLast", "name": "lastLong", "fieldName": "aLong", "timeColumn": "longTime"},
    {
        "type": "stringFirst",
        "name": "firstString",
        "fieldName": "aString",
        "maxStringBytes": 2048,
        "timeColumn": "longTime",
    },
    {"type": "stringLast", "name": "lastString", "fieldName": "aString"},
    {"type": "doubleAny", "name": "anyDouble", "fieldName": "aDouble"},
    {"type": "floatAny", "name": "anyFloat", "fieldName": "aFloat"},
    {"type": "longAny", "name": "anyLong", "fieldName": "aLong"},
    {"type": "stringAny", "name": "anyString", "fieldName": "aString", "maxStringBytes": 2048},
    {"type": "hyperUnique", "name": "uniques", "fieldName": "uniq", "round": True},
    {
        "type": "cardinality",
        "name": "distinct_pairs",
        "fields": [
            "first_name",
            {
                "type": "extraction",
                "dimension": "last_name",
                "extractionFn": {"type": "substring", "index": 0, "length": 1},
            },
        ],
        "byRow": True,
    },
    {
        "type": "filtered",
        "name": "filteredSumLong",
        "filter": {"type": "selector", "dimension": "someColumn", "value": "abcdef"},
        "aggregator": {"type": "longSum", "name": "sumLong", "fieldName": "aLong"},
    },
    {
        "type": "filtered",
        "filter": {"type": "equals", "column": "c", "matchValueType": "LONG", "matchValue": 1},
        "aggregator": {"type": "count", "name": "inner_name_is_used"},
    },
    {
        "type": "expression",
        "name": "expression_count",
        "fields": [],
        "initialValue": "0",
        "fold": "__acc + 1",
        "combine": "__acc + expression_count",
    },
    {
        "type": "expression",
        "name": "expression_sum",
        "fields": ["column_a"],
        "initialValue": "0",
        "fold": "__acc + column_a",
    },
    {
        "type": "expression",
        "name": "expression_array_agg_distinct",
        "fields": ["column_a"],
        "initialValue": "[]",
        "fold": "array_set_add(__acc, column_a)",
        "combine": "array_set_add_all(__acc, expression_array_agg_distinct)",
        "compare": "if(array_length(o1) > array_length(o2), 1, 0)",
    },
    {
        "type": "expression",
        "name": "expression_cardinality",
        "fields": ["column_a"],
        "initialValue": "hyper_unique()",
        "fold": "hyper_unique_add(column_a, __acc)",
        "combine": "hyper_unique_add(expression_cardinality, __acc)",
        "finalize": "hyper_unique_estimate(o)",
        "maxSizeBytes": "16KiB",
    },
    {
        "type": "javascript",
        "name": "sum(log(x)*y) + 10",
        "fieldNames": ["x", "y"],
        "fnAggregate": "function(current, a, b) { return current + (Math.log(a) * b); }",
        "fnCombine": "function(partialA, partialB) { return partialA + partialB; }",
        "fnReset": "function() { return 10; }",
    },
    {
        "type": "thetaSketch",
        "name": "unique_users",
        "fieldName": "user_id_sketch",
        "isInputThetaSketch": False,
        "size": 16384,
    },
    {
        "type": "HLLSketchBuild",
        "name": "hll",
        "fieldName": "user",
        "lgK": 12,
        "tgtHllType": "HLL_4",
    },
    {"type": "HLLSketchMerge", "name": "hll_merged", "fieldName": "hll_col", "round": True},
    {"type": "quantilesDoublesSketch", "name": "latency_sketch", "fieldName": "latency", "k": 128},
    {"type": "KllDoublesSketch", "name": "kll", "fieldName": "latency", "k": 200},
    {
        "type": "approxHistogramFold",
        "name": "histo",
        "fieldName": "latency_histogram",
        "resolution": 50,
        "numBuckets": 7,
        "lowerLimit": 0.0,
        "upperLimit": 1000.0,
    },
    {
        "type": "fixedBucketsHistogram",
        "name": "fixed",
        "fieldName": "latency",
        "numBuckets": 10,
        "lowerLimit": 0,
        "upperLimit": 100,
        "outlierHandlingMode": "overflow",
    },
    {
        "type": "tDigestSketch",
        "name": "sketch",
        "fieldName": "session_duration",
        "compression": 200,
    },
    {"type": "variance", "name": "var", "fieldName": "x", "estimator": "population"},
]


@pytest.mark.parametrize(
    "aggregator", DOCUMENTED_AGGREGATORS, ids=[a["type"] for a in DOCUMENTED_AGGREGATORS]
)
def test_documented_aggregators_are_valid(aggregator: dict[str, Any]) -> None:
    assert_valid(timeseries(aggregations=[aggregator], postAggregations=[]))


def test_all_documented_aggregators_together_are_valid() -> None:
    assert_valid(timeseries(aggregations=DOCUMENTED_AGGREGATORS, postAggregations=[]))


def test_grouping_aggregator_with_subtotals_is_valid() -> None:
    assert_valid(
        groupby(
            dimensions=["dim1", "dim2"],
            aggregations=[
                {"type": "grouping", "name": "someGrouping", "groupings": ["dim1", "dim2"]}
            ],
            subtotalsSpec=[["dim1", "dim2"], ["dim1"], ["dim2"], []],
            postAggregations=[],
            having=None,
            limitSpec=None,
        )
    )


@pytest.mark.parametrize(
    ("aggregator", "path", "fragment"),
    [
        (
            {"type": "longSumm", "name": "x", "fieldName": "y"},
            "aggregations[0].type",
            'Did you mean "longSum"?',
        ),
        ({"name": "x", "fieldName": "y"}, "aggregations[0].type", 'Missing required field "type"'),
        ({"type": "count"}, "aggregations[0].name", 'Missing required field "name".'),
        ({"type": "count", "name": ""}, "aggregations[0].name", "empty"),
        ({"type": "longSum", "name": "x"}, "aggregations[0].fieldName", '"fieldName"'),
        (
            {"type": "longSum", "name": "x", "fieldName": "a", "expression": "a + 1"},
            "aggregations[0].expression",
            "not both",
        ),
        ({"type": "longSum", "name": "x", "fieldName": 3}, "aggregations[0].fieldName", "string"),
        ({"type": "doubleFirst", "name": "x"}, "aggregations[0].fieldName", "fieldName"),
        (
            {"type": "stringLast", "name": "x", "fieldName": "s", "maxStringBytes": "1k"},
            "aggregations[0].maxStringBytes",
            "whole number",
        ),
        (
            {"type": "hyperUnique", "name": "x", "fieldName": "u", "round": "yes"},
            "aggregations[0].round",
            "true or false",
        ),
        ({"type": "cardinality", "name": "x", "fields": []}, "aggregations[0].fields", "empty"),
        (
            {"type": "cardinality", "name": "x", "fields": [5]},
            "aggregations[0].fields[0]",
            "JSON object",
        ),
        (
            {"type": "filtered", "aggregator": {"type": "count", "name": "c"}},
            "aggregations[0].filter",
            'Missing required field "filter"',
        ),
        (
            {
                "type": "expression",
                "name": "e",
                "fields": ["a", "b"],
                "initialValue": "0",
                "fold": "x",
            },
            "aggregations[0].combine",
            "combine",
        ),
        ({"type": "expression", "name": "e", "fields": ["a"]}, "aggregations[0].fold", "fold"),
        (
            {"type": "javascript", "name": "j", "fieldNames": ["x"], "fnAggregate": "f"},
            "aggregations[0].fnCombine",
            "Missing",
        ),
        (
            {"type": "thetaSketch", "name": "t", "fieldName": "u", "size": 1000},
            "aggregations[0].size",
            "power of 2",
        ),
        (
            {"type": "HLLSketchBuild", "name": "h", "fieldName": "u", "lgK": 30},
            "aggregations[0].lgK",
            "at most 21",
        ),
        (
            {"type": "HLLSketchBuild", "name": "h", "fieldName": "u", "tgtHllType": "HLL_5"},
            "aggregations[0].tgtHllType",
            "HLL_4, HLL_6, HLL_8",
        ),
        (
            {"type": "quantilesDoublesSketch", "name": "q", "fieldName": "v", "k": 100},
            "aggregations[0].k",
            "power of 2",
        ),
        (
            {
                "type": "fixedBucketsHistogram",
                "name": "f",
                "fieldName": "v",
                "lowerLimit": 0,
                "upperLimit": 10,
            },
            "aggregations[0].outlierHandlingMode",
            "Missing",
        ),
        (
            {
                "type": "fixedBucketsHistogram",
                "name": "f",
                "fieldName": "v",
                "lowerLimit": 10,
                "upperLimit": 0,
                "outlierHandlingMode": "clip",
            },
            "aggregations[0].upperLimit",
            "greater than",
        ),
    ],
)
def test_malformed_aggregators_are_named(aggregator: object, path: str, fragment: str) -> None:
    query = timeseries(aggregations=[aggregator], postAggregations=[])
    assert any(fragment in message for message in messages_at(query, path))


def test_aggregations_must_be_an_array() -> None:
    (message,) = messages_at(timeseries(aggregations={"type": "count"}), "aggregations")
    assert message.startswith("Must be a JSON array")


def test_unknown_aggregator_type_lists_the_known_ones() -> None:
    query = timeseries(aggregations=[{"type": "longSumm", "name": "x", "fieldName": "y"}])
    (message,) = messages_at(query, "aggregations[0].type")
    assert message.startswith(
        'Unknown aggregator type "longSumm"; expected one of count, longSum, '
    )


def test_missing_field_name_message() -> None:
    query = timeseries(aggregations=[{"type": "doubleMean", "name": "m"}], postAggregations=[])
    assert messages_at(query, "aggregations[0].fieldName") == [
        'Missing required field "fieldName".'
    ]


def test_duplicate_aggregator_names_are_named() -> None:
    aggregations = [{"type": "count", "name": "rows"}, {"type": "count", "name": "rows"}]
    (message,) = messages_at(
        timeseries(aggregations=aggregations, postAggregations=[]), "aggregations[1].name"
    )
    assert 'Duplicate aggregator name "rows"' in message


def test_filtered_aggregator_without_outer_name_uses_the_inner_name() -> None:
    inner = {"type": "count", "name": "rows"}
    filtered = {"type": "filtered", "filter": {"type": "true"}, "aggregator": inner}
    query = timeseries(
        aggregations=[filtered, {"type": "count", "name": "rows"}],
        postAggregations=[{"type": "fieldAccess", "name": "r", "fieldName": "rows"}],
    )
    (message,) = messages_at(query, "aggregations[1].name")
    assert "Duplicate" in message


def test_filtered_aggregator_reports_nested_filter_and_aggregator_paths() -> None:
    filtered = {
        "type": "filtered",
        "name": "f",
        "filter": {"type": "and", "fields": [{"type": "selector", "value": "x"}]},
        "aggregator": {"type": "longSum", "name": "s"},
    }
    errors = validate_query(timeseries(aggregations=[filtered], postAggregations=[]))
    assert errors["aggregations[0].filter.fields[0].dimension"] == [
        'Missing required field "dimension".'
    ]
    assert "aggregations[0].aggregator.fieldName" in errors


def test_grouping_must_name_the_query_dimensions() -> None:
    query = groupby(
        aggregations=[{"type": "grouping", "name": "g", "groupings": ["country", "city"]}],
        postAggregations=[],
        having=None,
        limitSpec=None,
    )
    (message,) = messages_at(query, "aggregations[0].groupings[1]")
    assert '"city"' in message


# --- postAggregations -----------------------------------------------------------------------

SKETCH_AGGREGATORS = [
    {"type": "count", "name": "rows"},
    {"type": "doubleSum", "name": "tot", "fieldName": "total"},
    {"type": "doubleSum", "name": "part", "fieldName": "part"},
    {"type": "hyperUnique", "name": "unique_users", "fieldName": "uniques"},
    {"type": "thetaSketch", "name": "A_unique_users", "fieldName": "user_id_sketch"},
    {"type": "thetaSketch", "name": "B_unique_users", "fieldName": "user_id_sketch"},
    {"type": "HLLSketchBuild", "name": "hll", "fieldName": "user"},
    {"type": "quantilesDoublesSketch", "name": "latency", "fieldName": "latency_ms"},
    {"type": "tDigestSketch", "name": "merged_sketch", "fieldName": "ingested_sketch"},
    {"type": "approxHistogramFold", "name": "histo", "fieldName": "h"},
]


def access(name: str) -> dict[str, str]:
    return {"type": "fieldAccess", "fieldName": name}


DOCUMENTED_POST_AGGREGATORS: list[dict[str, Any]] = [
    {
        "type": "arithmetic",
        "name": "average",
        "fn": "/",
        "fields": [
            {"type": "fieldAccess", "name": "tot", "fieldName": "tot"},
            {"type": "fieldAccess", "name": "rows", "fieldName": "rows"},
        ],
    },
    {
        "type": "arithmetic",
        "name": "part_percentage",
        "fn": "*",
        "fields": [
            {
                "type": "arithmetic",
                "name": "ratio",
                "fn": "/",
                "fields": [access("part"), access("tot")],
            },
            {"type": "constant", "name": "const", "value": 100},
        ],
        "ordering": "numericFirst",
    },
    {
        "type": "arithmetic",
        "name": "average_users_per_row",
        "fn": "/",
        "fields": [
            {"type": "hyperUniqueCardinality", "fieldName": "unique_users"},
            {"type": "fieldAccess", "name": "rows", "fieldName": "rows"},
        ],
    },
    {
        "type": "arithmetic",
        "name": "squared",
        "fn": "pow",
        "fields": [access("tot"), access("tot")],
    },
    {"type": "finalizingFieldAccess", "name": "uniques_estimate", "fieldName": "unique_users"},
    {"type": "constant", "name": "hundred", "value": 100},
    {"type": "expression", "name": "part_pct", "expression": "100 * (part / tot)"},
    {"type": "doubleGreatest", "name": "biggest", "fields": [access("tot"), access("part")]},
    {"type": "longLeast", "name": "smallest", "fields": [access("rows")]},
    {
        "type": "javascript",
        "name": "absPercent",
        "fieldNames": ["part", "tot"],
        "function": "function(delta, total) { return 100 * Math.abs(delta) / total; }",
    },
    {
        "type": "thetaSketchEstimate",
        "name": "final_unique_users",
        "field": {
            "type": "thetaSketchSetOp",
            "name": "final_unique_users_sketch",
            "func": "INTERSECT",
            "fields": [access("A_unique_users"), access("B_unique_users")],
        },
    },
    {"type": "HLLSketchEstimate", "name": "hll_estimate", "field": access("hll"), "round": True},
    {
        "type": "HLLSketchEstimateWithBounds",
        "name": "hll_bounds",
        "field": access("hll"),
        "numStdDev": 2,
    },
    {
        "type": "quantilesDoublesSketchToQuantile",
        "name": "p95",
        "field": access("latency"),
        "fraction": 0.95,
    },
    {
        "type": "quantilesDoublesSketchToQuantiles",
        "name": "quartiles",
        "field": access("latency"),
        "fractions": [0.25, 0.5, 0.75],
    },
    {
        "type": "quantilesDoublesSketchToHistogram",
        "name": "latency_histogram",
        "field": access("latency"),
        "splitPoints": [10, 100, 1000],
    },
    {
        "type": "quantilesDoublesSketchToRank",
        "name": "rank",
        "field": access("latency"),
        "value": 250,
    },
    {"type": "quantilesDoublesSketchToString", "name": "debug", "field": access("latency")},
    {
        "type": "quantilesFromTDigestSketch",
        "name": "quantiles",
        "fractions": [0, 0.5, 1],
        "field": {"type": "fieldAccess", "fieldName": "merged_sketch"},
    },
    {"type": "quantile", "name": "histo_p99", "fieldName": "histo", "probability": 0.99},
    {"type": "equalBuckets", "name": "histo_buckets", "fieldName": "histo", "numBuckets": 10},
]


@pytest.mark.parametrize(
    "post_aggregator",
    DOCUMENTED_POST_AGGREGATORS,
    ids=[p["name"] for p in DOCUMENTED_POST_AGGREGATORS],
)
def test_documented_post_aggregators_are_valid(post_aggregator: dict[str, Any]) -> None:
    assert_valid(timeseries(aggregations=SKETCH_AGGREGATORS, postAggregations=[post_aggregator]))


def test_post_aggregator_may_read_an_earlier_post_aggregator() -> None:
    post_aggregations = [
        {
            "type": "arithmetic",
            "name": "ratio",
            "fn": "/",
            "fields": [access("part"), access("tot")],
        },
        {
            "type": "arithmetic",
            "name": "pct",
            "fn": "*",
            "fields": [access("ratio"), {"type": "constant", "name": "c", "value": 100}],
        },
    ]
    assert_valid(timeseries(aggregations=SKETCH_AGGREGATORS, postAggregations=post_aggregations))


def test_post_aggregator_may_not_read_a_later_post_aggregator() -> None:
    post_aggregations = [
        {"type": "fieldAccess", "name": "early", "fieldName": "late"},
        {"type": "fieldAccess", "name": "late", "fieldName": "rows"},
    ]
    query = timeseries(aggregations=SKETCH_AGGREGATORS, postAggregations=post_aggregations)
    assert messages_at(query, "postAggregations[0].fieldName") == [
        'Post-aggregator "early" reads "late", which is not an aggregator or an earlier '
        "post-aggregator."
    ]


def test_reference_inside_nested_arithmetic_names_the_nearest_post_aggregator() -> None:
    outer = copy.deepcopy(DOCUMENTED_POST_AGGREGATORS[1])
    outer["fields"][0]["fields"][0]["fieldName"] = "edits"
    query = timeseries(aggregations=SKETCH_AGGREGATORS, postAggregations=[outer])
    assert messages_at(query, "postAggregations[0].fields[0].fields[0].fieldName") == [
        'Post-aggregator "ratio" reads "edits", which is not an aggregator or an earlier '
        "post-aggregator."
    ]


def test_reference_inside_sketch_post_aggregators_is_checked() -> None:
    estimate = copy.deepcopy(DOCUMENTED_POST_AGGREGATORS[10])
    estimate["field"]["fields"][1]["fieldName"] = "C_unique_users"
    query = timeseries(aggregations=SKETCH_AGGREGATORS, postAggregations=[estimate])
    (message,) = messages_at(query, "postAggregations[0].field.fields[1].fieldName")
    assert '"C_unique_users"' in message


def test_javascript_post_aggregator_field_names_are_references() -> None:
    js = {"type": "javascript", "name": "j", "fieldNames": ["tot", "nope"], "function": "f"}
    query = timeseries(aggregations=SKETCH_AGGREGATORS, postAggregations=[js])
    assert "postAggregations[0].fieldNames[1]" in validate_query(query)


def test_groupby_post_aggregator_may_read_a_dimension() -> None:
    post = {"type": "fieldAccess", "name": "c", "fieldName": "country"}
    assert_valid(groupby(postAggregations=[post]))


@pytest.mark.parametrize(
    ("post_aggregator", "path", "fragment"),
    [
        (
            {"type": "fieldAccess", "fieldName": "rows"},
            "postAggregations[0].name",
            'Missing required field "name".',
        ),
        (
            {"type": "fieldacces", "name": "x", "fieldName": "rows"},
            "postAggregations[0].type",
            'Did you mean "fieldAccess"?',
        ),
        (
            {
                "type": "arithmetic",
                "name": "x",
                "fn": "%",
                "fields": [access("rows"), access("tot")],
            },
            "postAggregations[0].fn",
            "quotient",
        ),
        (
            {"type": "arithmetic", "name": "x", "fn": "+", "fields": [access("rows")]},
            "postAggregations[0].fields",
            "at least 2",
        ),
        (
            {
                "type": "arithmetic",
                "name": "x",
                "fn": "+",
                "fields": [access("rows"), access("tot")],
                "ordering": "desc",
            },
            "postAggregations[0].ordering",
            "numericFirst",
        ),
        (
            {
                "type": "arithmetic",
                "name": "x",
                "fn": "+",
                "fields": [access("rows"), {"fieldName": "tot"}],
            },
            "postAggregations[0].fields[1].type",
            "Missing",
        ),
        (
            {
                "type": "arithmetic",
                "name": "x",
                "fn": "+",
                "fields": [
                    access("rows"),
                    {
                        "type": "arithmetic",
                        "fn": "-",
                        "fields": [access("rows"), {"type": "constant", "value": "1"}],
                    },
                ],
            },
            "postAggregations[0].fields[1].fields[1].value",
            "number",
        ),
        (
            {"type": "constant", "name": "x", "value": "100"},
            "postAggregations[0].value",
            "Must be a number",
        ),
        ({"type": "expression", "name": "x"}, "postAggregations[0].expression", "Missing"),
        (
            {"type": "doubleGreatest", "name": "x", "fields": []},
            "postAggregations[0].fields",
            "empty",
        ),
        (
            {"type": "hyperUniqueCardinality", "name": "x", "fieldName": "nope"},
            "postAggregations[0].fieldName",
            "not an aggregator",
        ),
        ({"type": "thetaSketchEstimate", "name": "x"}, "postAggregations[0].field", "Missing"),
        (
            {
                "type": "thetaSketchSetOp",
                "name": "x",
                "func": "XOR",
                "fields": [access("A_unique_users")],
            },
            "postAggregations[0].func",
            "UNION, INTERSECT, NOT",
        ),
        (
            {
                "type": "quantilesDoublesSketchToQuantile",
                "name": "x",
                "field": access("latency"),
                "fraction": 95,
            },
            "postAggregations[0].fraction",
            "at most 1",
        ),
        (
            {
                "type": "quantilesDoublesSketchToQuantiles",
                "name": "x",
                "field": access("latency"),
                "fractions": [],
            },
            "postAggregations[0].fractions",
            "empty",
        ),
        (
            {
                "type": "HLLSketchEstimateWithBounds",
                "name": "x",
                "field": access("hll"),
                "numStdDev": 4,
            },
            "postAggregations[0].numStdDev",
            "at most 3",
        ),
        (
            {"type": "count", "name": "x"},
            "postAggregations[0].type",
            "Unknown post-aggregator type",
        ),
    ],
)
def test_malformed_post_aggregators_are_named(
    post_aggregator: object, path: str, fragment: str
) -> None:
    query = timeseries(aggregations=SKETCH_AGGREGATORS, postAggregations=[post_aggregator])
    assert any(fragment in message for message in messages_at(query, path))


def test_post_aggregator_names_must_not_clash() -> None:
    post_aggregations = [
        {"type": "constant", "name": "rows", "value": 1},
        {"type": "constant", "name": "one", "value": 1},
        {"type": "constant", "name": "one", "value": 2},
    ]
    errors = validate_query(
        timeseries(aggregations=SKETCH_AGGREGATORS, postAggregations=post_aggregations)
    )
    assert "already used by an aggregator" in errors["postAggregations[0].name"][0]
    assert 'Duplicate post-aggregator name "one"' in errors["postAggregations[2].name"][0]


# --- filters --------------------------------------------------------------------------------

LOOKUP_MAP = {
    "type": "map",
    "map": {"product_1": "bar_1", "product_5": "bar_1", "product_3": "bar_1"},
}

DOCUMENTED_FILTERS: list[dict[str, Any]] = [
    {"type": "selector", "dimension": "someColumn", "value": "hello"},
    {"type": "selector", "dimension": "someColumn", "value": None},
    {"type": "equals", "column": "someColumn", "matchValueType": "STRING", "matchValue": "hello"},
    {
        "type": "equals",
        "column": "someNumericColumn",
        "matchValueType": "DOUBLE",
        "matchValue": 1.23,
    },
    {
        "type": "equals",
        "column": "someArrayColumn",
        "matchValueType": "ARRAY<LONG>",
        "matchValue": [1, 2, 3],
    },
    {"type": "null", "column": "someColumn"},
    {
        "type": "columnComparison",
        "dimensions": [
            "someColumn",
            {"type": "default", "dimension": "someLongColumn", "outputType": "LONG"},
        ],
    },
    {
        "type": "and",
        "fields": [
            {
                "type": "equals",
                "column": "someColumn",
                "matchValue": "a",
                "matchValueType": "STRING",
            },
            {
                "type": "equals",
                "column": "otherColumn",
                "matchValue": 1234,
                "matchValueType": "LONG",
            },
            {"type": "null", "column": "anotherColumn"},
        ],
    },
    {"type": "or", "fields": [{"type": "null", "column": "a"}, {"type": "true"}]},
    {"type": "not", "field": {"type": "null", "column": "someColumn"}},
    {"type": "in", "dimension": "outlaw", "values": ["Good", "Bad", "Ugly", None]},
    {"type": "in", "dimension": "outlaw", "values": []},
    {"type": "bound", "dimension": "age", "lower": "21", "upper": "31", "ordering": "numeric"},
    {"type": "bound", "dimension": "name", "lower": "foo", "upper": "hoo"},
    {
        "type": "bound",
        "dimension": "age",
        "lower": "21",
        "lowerStrict": True,
        "upper": "31",
        "upperStrict": True,
        "ordering": "numeric",
    },
    {
        "type": "bound",
        "dimension": "age",
        "upper": "31",
        "upperStrict": True,
        "ordering": {"type": "numeric"},
    },
    {"type": "bound", "dimension": "version", "lower": "1.0", "ordering": "version"},
    {"type": "range", "column": "age", "matchValueType": "LONG", "lower": 21, "upper": 31},
    {"type": "range", "column": "name", "matchValueType": "STRING", "lower": "foo", "upper": "hoo"},
    {
        "type": "range",
        "column": "age",
        "matchValueType": "LONG",
        "lower": "21",
        "lowerOpen": True,
        "upper": "31",
        "upperOpen": True,
    },
    {
        "type": "range",
        "column": "name",
        "matchValueType": "ARRAY<STRING>",
        "lower": ["a", "b", "c"],
        "lowerOpen": True,
        "upper": ["d", "e", "f"],
        "upperOpen": True,
    },
    {"type": "like", "dimension": "last_name", "pattern": "D%"},
    {"type": "like", "dimension": "last_name", "pattern": "D!%%", "escape": "!"},
    {"type": "regex", "dimension": "someColumn", "pattern": "^50.*"},
    {"type": "regex", "dimension": "someColumn", "pattern": r"\p{L}+(?<word>\w)\k<word>\Qa.b\E"},
    {
        "type": "arrayContainsElement",
        "column": "someArrayColumn",
        "elementMatchValueType": "STRING",
        "elementMatchValue": "hello",
    },
    {
        "type": "arrayContainsElement",
        "column": "someNumericArrayColumn",
        "elementMatchValueType": "DOUBLE",
        "elementMatchValue": 1.23,
    },
    {
        "type": "interval",
        "dimension": "__time",
        "intervals": [
            "2014-10-01T00:00:00.000Z/2014-10-07T00:00:00.000Z",
            "2014-11-15T00:00:00.000Z/2014-11-16T00:00:00.000Z",
        ],
    },
    {"type": "true"},
    {"type": "false"},
    {
        "type": "search",
        "dimension": "product",
        "query": {"type": "insensitive_contains", "value": "foo"},
    },
    {
        "type": "search",
        "dimension": "product",
        "query": {"type": "contains", "value": "foo", "caseSensitive": True},
    },
    {
        "type": "search",
        "dimension": "product",
        "query": {"type": "fragment", "values": ["fo", "oo"]},
    },
    {"type": "expression", "expression": "((product_type == 42) && (!is_deleted))"},
    {
        "type": "javascript",
        "dimension": "name",
        "function": "function(x) { return(x >= 'bar' && x <= 'foo') }",
    },
    {
        "type": "extraction",
        "dimension": "product",
        "value": "bar_1",
        "extractionFn": {"type": "lookup", "lookup": LOOKUP_MAP},
    },
    {
        "type": "selector",
        "dimension": "product",
        "value": "bar_1",
        "extractionFn": {"type": "lookup", "lookup": LOOKUP_MAP},
    },
    {
        "type": "selector",
        "dimension": "__time",
        "value": "Friday",
        "extractionFn": {
            "type": "timeFormat",
            "format": "EEEE",
            "timeZone": "America/New_York",
            "locale": "en",
        },
    },
    {
        "type": "spatial",
        "dimension": "coordinates",
        "bound": {"type": "rectangular", "minCoords": [10.0, 20.0], "maxCoords": [30.0, 40.0]},
    },
    {
        "type": "spatial",
        "dimension": "coordinates",
        "bound": {"type": "radius", "coords": [10.0, 20.0], "radius": 5},
    },
]


@pytest.mark.parametrize("filter_", DOCUMENTED_FILTERS, ids=[f["type"] for f in DOCUMENTED_FILTERS])
def test_documented_filters_are_valid(filter_: dict[str, Any]) -> None:
    assert_valid(timeseries(filter=filter_))


def test_documented_filters_are_valid_inside_having_and_filtered_aggregators() -> None:
    for filter_ in DOCUMENTED_FILTERS:
        filtered = {
            "type": "filtered",
            "name": "f",
            "filter": filter_,
            "aggregator": {"type": "count", "name": "c"},
        }
        assert_valid(
            groupby(
                having={"type": "filter", "filter": filter_},
                aggregations=[
                    {"type": "longSum", "name": "total_usage", "fieldName": "user_count"},
                    {"type": "doubleSum", "name": "data_transfer", "fieldName": "data_transfer"},
                    filtered,
                ],
            )
        )


@pytest.mark.parametrize(
    ("filter_", "path", "fragment"),
    [
        ({"dimension": "x", "value": "y"}, "filter.type", 'Missing required field "type"'),
        ({"type": "selecter", "dimension": "x"}, "filter.type", 'Did you mean "selector"?'),
        (
            {"type": "equality", "column": "x", "matchValueType": "STRING", "matchValue": "y"},
            "filter.type",
            'Did you mean "equals"?',
        ),
        (
            {"type": "selector", "value": "y"},
            "filter.dimension",
            'Missing required field "dimension".',
        ),
        (
            {"type": "selector", "dimension": "x", "value": {"a": 1}},
            "filter.value",
            "string or a number",
        ),
        (
            {"type": "equals", "column": "x", "matchValueType": "STRING"},
            "filter.matchValue",
            "Missing",
        ),
        (
            {"type": "equals", "column": "x", "matchValueType": "TEXT", "matchValue": "y"},
            "filter.matchValueType",
            'Unknown type "TEXT"',
        ),
        (
            {"type": "equals", "column": "x", "matchValueType": "LONG", "matchValue": "abc"},
            "filter.matchValue",
            "number",
        ),
        (
            {"type": "equals", "column": "x", "matchValueType": "ARRAY<LONG>", "matchValue": 1},
            "filter.matchValue",
            "JSON array",
        ),
        ({"type": "null"}, "filter.column", "Missing"),
        ({"type": "in", "dimension": "x", "values": "a"}, "filter.values", "JSON array"),
        ({"type": "in", "dimension": "x"}, "filter.values", "Missing"),
        ({"type": "bound", "dimension": "age"}, "filter.lower", '"upper"'),
        (
            {"type": "bound", "dimension": "age", "lower": "1", "lowerStrict": "yes"},
            "filter.lowerStrict",
            "true or false",
        ),
        (
            {"type": "bound", "dimension": "age", "lower": "1", "ordering": "numerical"},
            "filter.ordering",
            "lexicographic, alphanumeric, numeric, strlen, version",
        ),
        (
            {"type": "bound", "dimension": "age", "lower": "1", "ordering": {"type": "bogus"}},
            "filter.ordering.type",
            "Unknown sorting order",
        ),
        ({"type": "range", "column": "age", "matchValueType": "LONG"}, "filter.lower", "Missing"),
        (
            {"type": "range", "column": "age", "matchValueType": "LONG", "lower": "old"},
            "filter.lower",
            "number",
        ),
        (
            {"type": "like", "dimension": "x", "pattern": "a%", "escape": "!!"},
            "filter.escape",
            "single character",
        ),
        (
            {"type": "regex", "dimension": "x", "pattern": "(abc"},
            "filter.pattern",
            "is not a valid regular expression",
        ),
        (
            {"type": "regex", "dimension": "x", "pattern": "[a-"},
            "filter.pattern",
            "is not a valid regular expression",
        ),
        (
            {"type": "search", "dimension": "x", "query": {"type": "contains"}},
            "filter.query.value",
            "Missing",
        ),
        (
            {"type": "search", "dimension": "x", "query": {"type": "startsWith", "value": "a"}},
            "filter.query.type",
            "Unknown search query spec type",
        ),
        (
            {"type": "search", "dimension": "x", "query": {"type": "fragment", "values": []}},
            "filter.query.values",
            "empty",
        ),
        ({"type": "interval", "dimension": "__time", "intervals": []}, "filter.intervals", "empty"),
        (
            {"type": "interval", "dimension": "__time", "intervals": ["2014/2013"]},
            "filter.intervals[0]",
            "starts after it ends",
        ),
        ({"type": "columnComparison", "dimensions": ["a"]}, "filter.dimensions", "at least 2"),
        ({"type": "expression", "expression": ""}, "filter.expression", "empty"),
        ({"type": "javascript", "dimension": "x"}, "filter.function", "Missing"),
        (
            {
                "type": "spatial",
                "dimension": "c",
                "bound": {"type": "rectangular", "minCoords": [1], "maxCoords": [1, 2]},
            },
            "filter.bound.maxCoords",
            "as many items",
        ),
        ({"type": "and", "fields": []}, "filter.fields", "empty"),
        ({"type": "or", "fields": {"type": "true"}}, "filter.fields", "JSON array"),
        ({"type": "not"}, "filter.field", 'Missing required field "field".'),
        (
            {"type": "arrayContainsElement", "column": "x", "elementMatchValue": 1},
            "filter.elementMatchValueType",
            "Missing",
        ),
        ({"type": "extraction", "dimension": "x", "value": "y"}, "filter.extractionFn", "Missing"),
        (
            {"type": "selector", "dimension": "x", "extractionFn": {"type": "substr"}},
            "filter.extractionFn.type",
            'Did you mean "substring"?',
        ),
        ("country = 'US'", "filter", "JSON object"),
    ],
)
def test_malformed_filters_are_named(filter_: object, path: str, fragment: str) -> None:
    assert any(fragment in message for message in messages_at(timeseries(filter=filter_), path))


def test_nested_and_or_not_filters_report_deep_paths() -> None:
    filter_ = {
        "type": "and",
        "fields": [
            {"type": "or", "fields": [{"type": "not", "field": {"type": "in", "dimension": "d"}}]},
            {"type": "selector", "dimension": ""},
        ],
    }
    errors = validate_query(timeseries(filter=filter_))
    assert set(errors) == {"filter.fields[0].fields[0].field.values", "filter.fields[1].dimension"}


def test_extraction_fn_is_not_checked_where_druid_ignores_it() -> None:
    filter_ = {"type": "null", "column": "x", "extractionFn": "ignored by Druid"}
    assert_valid(timeseries(filter=filter_))


# --- dimensions and extraction functions ----------------------------------------------------

DOCUMENTED_EXTRACTION_FNS: list[dict[str, Any]] = [
    {
        "type": "regex",
        "expr": "(\\w\\w\\w).*",
        "index": 1,
        "replaceMissingValue": True,
        "replaceMissingValueWith": "foobar",
    },
    {"type": "partial", "expr": "^a"},
    {"type": "searchQuery", "query": {"type": "insensitive_contains", "value": "foo"}},
    {"type": "substring", "index": 1, "length": 4},
    {"type": "substring", "index": 3},
    {"type": "strlen"},
    {"type": "timeFormat", "format": "EEEE", "timeZone": "America/Montreal", "locale": "fr"},
    {"type": "timeFormat", "granularity": {"type": "period", "period": "P1D"}, "asMillis": True},
    {"type": "time", "timeFormat": "yyyy-MM-dd", "resultFormat": "MM/dd", "joda": True},
    {"type": "javascript", "function": "function(str) { return str + '!!!'; }", "injective": True},
    {"type": "registeredLookup", "lookup": "some_lookup_name", "retainMissingValue": True},
    {
        "type": "lookup",
        "lookup": {"type": "map", "map": {"foo": "bar", "baz": "bat"}},
        "retainMissingValue": True,
        "injective": True,
    },
    {
        "type": "lookup",
        "lookup": {"type": "map", "map": {"foo": "bar"}},
        "retainMissingValue": False,
        "replaceMissingValueWith": "MISSING",
    },
    {
        "type": "cascade",
        "extractionFns": [
            {
                "type": "regex",
                "expr": "/([^/]+)/",
                "replaceMissingValue": False,
                "replaceMissingValueWith": None,
            },
            {"type": "javascript", "function": 'function(str) { return "the ".concat(str) }'},
            {"type": "substring", "index": 0, "length": 7},
        ],
    },
    {"type": "stringFormat", "format": "[%s]", "nullHandling": "emptyString"},
    {"type": "upper", "locale": "fr"},
    {"type": "lower"},
    {"type": "bucket", "size": 5, "offset": 2},
]


@pytest.mark.parametrize(
    "extraction_fn", DOCUMENTED_EXTRACTION_FNS, ids=[e["type"] for e in DOCUMENTED_EXTRACTION_FNS]
)
def test_documented_extraction_functions_are_valid(extraction_fn: dict[str, Any]) -> None:
    dimension = {
        "type": "extraction",
        "dimension": "page",
        "outputName": "p",
        "extractionFn": extraction_fn,
    }
    assert_valid(topn(dimension=dimension))


DOCUMENTED_DIMENSIONS: list[object] = [
    "page",
    {"type": "default", "dimension": "page", "outputName": "p", "outputType": "STRING"},
    {"type": "default", "dimension": "added", "outputType": "LONG"},
    {"dimension": "page", "outputName": "legacy"},
    {
        "type": "extraction",
        "dimension": "__time",
        "outputName": "dayOfWeek",
        "extractionFn": {
            "type": "timeFormat",
            "format": "EEEE",
            "timeZone": "America/Montreal",
            "locale": "fr",
        },
    },
    {"type": "listFiltered", "delegate": "tags", "values": ["t1", "t3"], "isWhitelist": False},
    {
        "type": "regexFiltered",
        "delegate": {"type": "default", "dimension": "tags", "outputName": "t"},
        "pattern": "^t[0-9]$",
    },
    {"type": "prefixFiltered", "delegate": "tags", "prefix": "t"},
    {
        "type": "lookup",
        "dimension": "dimensionName",
        "outputName": "dimensionOutputName",
        "replaceMissingValueWith": "missing_value",
        "retainMissingValue": False,
        "lookup": {"type": "map", "map": {"key": "value"}, "isOneToOne": False},
    },
    {
        "type": "lookup",
        "dimension": "dimensionName",
        "outputName": "dimensionOutputName",
        "name": "lookupName",
    },
]


@pytest.mark.parametrize("dimension", DOCUMENTED_DIMENSIONS)
def test_documented_dimension_specs_are_valid(dimension: object) -> None:
    assert_valid(topn(dimension=dimension))
    assert_valid(groupby(dimensions=[dimension], limitSpec=None, postAggregations=[]))


@pytest.mark.parametrize(
    ("dimension", "path", "fragment"),
    [
        ("", "dimension", "empty"),
        (7, "dimension", "JSON object"),
        ({"type": "default"}, "dimension.dimension", "Missing"),
        (
            {"type": "default", "dimension": "d", "outputType": "INT"},
            "dimension.outputType",
            'Unknown type "INT"',
        ),
        ({"type": "extraction", "dimension": "d"}, "dimension.extractionFn", "Missing"),
        (
            {
                "type": "extraction",
                "dimension": "d",
                "extractionFn": {"type": "regex", "expr": "(("},
            },
            "dimension.extractionFn.expr",
            "is not a valid regular expression",
        ),
        (
            {
                "type": "extraction",
                "dimension": "d",
                "extractionFn": {"type": "timeFormat", "timeZone": "Nowhere/City"},
            },
            "dimension.extractionFn.timeZone",
            "Unknown time zone",
        ),
        (
            {
                "type": "extraction",
                "dimension": "d",
                "extractionFn": {"type": "substring", "index": -1},
            },
            "dimension.extractionFn.index",
            "at least 0",
        ),
        (
            {
                "type": "extraction",
                "dimension": "d",
                "extractionFn": {"type": "stringFormat", "format": "%s", "nullHandling": "skip"},
            },
            "dimension.extractionFn.nullHandling",
            "nullString",
        ),
        (
            {
                "type": "extraction",
                "dimension": "d",
                "extractionFn": {
                    "type": "cascade",
                    "extractionFns": [{"type": "upper"}, {"type": "time"}],
                },
            },
            "dimension.extractionFn.extractionFns[1].timeFormat",
            "Missing",
        ),
        (
            {
                "type": "extraction",
                "dimension": "d",
                "extractionFn": {
                    "type": "registeredLookup",
                    "lookup": "l",
                    "retainMissingValue": True,
                    "replaceMissingValueWith": "x",
                },
            },
            "dimension.extractionFn.replaceMissingValueWith",
            "retainMissingValue",
        ),
        (
            {
                "type": "extraction",
                "dimension": "d",
                "extractionFn": {"type": "lookup", "lookup": {"type": "map", "map": {"a": ["b"]}}},
            },
            "dimension.extractionFn.lookup.map.a",
            "string",
        ),
        ({"type": "listFiltered", "delegate": "tags"}, "dimension.values", "Missing"),
        (
            {"type": "listFiltered", "delegate": {"type": "default"}, "values": []},
            "dimension.delegate.dimension",
            "Missing",
        ),
        ({"type": "lookup", "dimension": "d"}, "dimension.name", '"lookup"'),
        (
            {"type": "lookup", "dimension": "d", "name": "n", "lookup": {"type": "map", "map": {}}},
            "dimension.lookup",
            "not both",
        ),
    ],
)
def test_malformed_dimension_specs_are_named(dimension: object, path: str, fragment: str) -> None:
    assert any(fragment in message for message in messages_at(topn(dimension=dimension), path))


def test_groupby_dimension_output_names_must_be_unique() -> None:
    dimensions = ["country", {"type": "default", "dimension": "nation", "outputName": "country"}]
    (message,) = messages_at(groupby(dimensions=dimensions), "dimensions[1].outputName")
    assert 'Duplicate output name "country"' in message


def test_groupby_dimension_output_names_must_not_clash_with_aggregators() -> None:
    dimensions = [
        "country",
        {"type": "default", "dimension": "bytes", "outputName": "data_transfer"},
    ]
    (message,) = messages_at(groupby(dimensions=dimensions), "dimensions[1].outputName")
    assert "also used by an aggregator or post-aggregator" in message


def test_groupby_dimensions_may_be_empty_but_not_missing() -> None:
    assert_valid(groupby(dimensions=[], limitSpec=None, having=None, postAggregations=[]))
    query = groupby()
    del query["dimensions"]
    assert messages_at(query, "dimensions") == ['Missing required field "dimensions".']


# --- topN -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric",
    [
        "count",
        "average",
        {"type": "numeric", "metric": "some_metric"},
        {"metric": "count"},
        {"type": "inverted", "metric": "count"},
        {"type": "inverted", "metric": {"type": "numeric", "metric": "average"}},
        {"type": "dimension", "ordering": "lexicographic", "previousStop": "b"},
        {"type": "dimension", "ordering": "alphanumeric"},
        {"type": "inverted", "metric": {"type": "dimension", "ordering": "strlen"}},
        {"type": "lexicographic", "previousStop": "b"},
        {"type": "alphaNumeric"},
    ],
)
def test_documented_topn_metric_specs_are_valid(metric: object) -> None:
    assert_valid(topn(metric=metric))


@pytest.mark.parametrize(
    ("fields", "path", "fragment"),
    [
        (
            {"metric": "edits"},
            "metric",
            'topN metric "edits" is not an aggregator or post-aggregator of this query.',
        ),
        (
            {"metric": {"type": "numeric", "metric": "edits"}},
            "metric.metric",
            'topN metric "edits"',
        ),
        (
            {"metric": {"type": "inverted", "metric": "edits"}},
            "metric.metric",
            'topN metric "edits"',
        ),
        ({"metric": {"type": "numeric"}}, "metric.metric", "Missing"),
        (
            {"metric": {"type": "dimension", "ordering": "random"}},
            "metric.ordering",
            "Unknown sorting order",
        ),
        ({"metric": {"type": "top"}}, "metric.type", "Unknown topN metric spec type"),
        ({"metric": None}, "metric", 'Missing required field "metric".'),
        ({"metric": "sample_dim"}, "metric", "is not an aggregator"),
        ({"threshold": 0}, "threshold", "at least 1"),
        ({"threshold": -5}, "threshold", "at least 1"),
        ({"threshold": 2**31}, "threshold", "at most 2147483647"),
        ({"threshold": "5"}, "threshold", "whole number"),
        ({"threshold": 5.5}, "threshold", "whole number"),
        ({"threshold": True}, "threshold", "whole number"),
        ({"threshold": None}, "threshold", "Missing"),
        ({"dimension": None}, "dimension", "Missing"),
    ],
)
def test_malformed_topn_fields_are_named(fields: dict[str, Any], path: str, fragment: str) -> None:
    assert any(fragment in message for message in messages_at(topn(**fields), path))


def test_topn_without_aggregations_cannot_sort_by_a_metric() -> None:
    query = topn(aggregations=[], postAggregations=[])
    assert "is not an aggregator" in messages_at(query, "metric")[0]
    assert_valid(topn(aggregations=[], postAggregations=[], metric={"type": "dimension"}))


# --- groupBy: having, limitSpec, subtotals ---------------------------------------------------


@pytest.mark.parametrize(
    "having",
    [
        {"type": "greaterThan", "aggregation": "total_usage", "value": 100},
        {"type": "equalTo", "aggregation": "avg_usage", "value": 1.5},
        {"type": "lessThan", "aggregation": "data_transfer", "value": "100"},
        {"type": "dimSelector", "dimension": "country", "value": "US"},
        {
            "type": "and",
            "havingSpecs": [
                {"type": "greaterThan", "aggregation": "total_usage", "value": 1},
                {"type": "lessThan", "aggregation": "total_usage", "value": 10},
            ],
        },
        {
            "type": "or",
            "havingSpecs": [
                {"type": "greaterThan", "aggregation": "total_usage", "value": 1},
                {"type": "equalTo", "aggregation": "total_usage", "value": 0},
            ],
        },
        {
            "type": "not",
            "havingSpec": {"type": "equalTo", "aggregation": "total_usage", "value": 0},
        },
        {"type": "filter", "filter": {"type": "selector", "dimension": "country", "value": "US"}},
        {"type": "always"},
        {"type": "never"},
    ],
)
def test_documented_having_specs_are_valid(having: object) -> None:
    assert_valid(groupby(having=having))


@pytest.mark.parametrize(
    ("having", "path", "fragment"),
    [
        (
            {"type": "greaterThan", "aggregation": "edits", "value": 1},
            "having.aggregation",
            'Column "edits" is not',
        ),
        ({"type": "greaterThan", "aggregation": "total_usage"}, "having.value", "Missing"),
        (
            {"type": "greaterThan", "aggregation": "total_usage", "value": "many"},
            "having.value",
            "number",
        ),
        (
            {"type": "biggerThan", "aggregation": "total_usage", "value": 1},
            "having.type",
            "Unknown having spec type",
        ),
        (
            {"type": "and", "havingSpecs": [{"type": "lessThan", "aggregation": "x", "value": 1}]},
            "having.havingSpecs[0].aggregation",
            "not a dimension",
        ),
        ({"type": "not", "havingSpec": {"type": "filter"}}, "having.havingSpec.filter", "Missing"),
        (
            {"type": "filter", "filter": {"type": "bound", "dimension": "x"}},
            "having.filter.lower",
            "Missing",
        ),
        ({"type": "dimSelector", "value": "US"}, "having.dimension", "Missing"),
    ],
)
def test_malformed_having_specs_are_named(having: object, path: str, fragment: str) -> None:
    assert any(fragment in message for message in messages_at(groupby(having=having), path))


@pytest.mark.parametrize(
    "limit_spec",
    [
        {"type": "default", "limit": 5000, "columns": ["country", "data_transfer"]},
        {"type": "default", "limit": 100, "offset": 10},
        {
            "type": "default",
            "columns": [
                {"dimension": "total_usage", "direction": "descending"},
                {
                    "dimension": "country",
                    "direction": "ascending",
                    "dimensionOrder": "alphanumeric",
                },
                {
                    "dimension": "avg_usage",
                    "direction": "DESC",
                    "dimensionOrder": {"type": "numeric"},
                },
                {"dimension": "device", "direction": "asc", "dimensionOrder": "strlen"},
            ],
        },
    ],
)
def test_documented_limit_specs_are_valid(limit_spec: object) -> None:
    assert_valid(groupby(limitSpec=limit_spec))


@pytest.mark.parametrize(
    ("limit_spec", "path", "fragment"),
    [
        ({"limit": 10}, "limitSpec.type", "Druid ignores the limitSpec"),
        ({"type": "top", "limit": 10}, "limitSpec.type", "Unknown limit spec type"),
        ({"type": "default", "limit": 0}, "limitSpec.limit", "at least 1"),
        ({"type": "default", "offset": -1}, "limitSpec.offset", "at least 0"),
        ({"type": "default", "columns": "country"}, "limitSpec.columns", "JSON array"),
        ({"type": "default", "columns": ["city"]}, "limitSpec.columns[0]", 'Column "city" is not'),
        (
            {"type": "default", "columns": [{"dimension": "city"}]},
            "limitSpec.columns[0].dimension",
            'Column "city"',
        ),
        (
            {"type": "default", "columns": [{"direction": "ascending"}]},
            "limitSpec.columns[0].dimension",
            "Missing",
        ),
        (
            {"type": "default", "columns": [{"dimension": "country", "direction": "up"}]},
            "limitSpec.columns[0].direction",
            '"ascending" or "descending"',
        ),
        (
            {"type": "default", "columns": [{"dimension": "country", "dimensionOrder": "natural"}]},
            "limitSpec.columns[0].dimensionOrder",
            "Unknown sorting order",
        ),
    ],
)
def test_malformed_limit_specs_are_named(limit_spec: object, path: str, fragment: str) -> None:
    assert any(fragment in message for message in messages_at(groupby(limitSpec=limit_spec), path))


def test_subtotals_must_name_dimension_outputs() -> None:
    assert_valid(groupby(subtotalsSpec=[["country", "device"], ["country"], []]))
    (message,) = messages_at(groupby(subtotalsSpec=[["country"], ["city"]]), "subtotalsSpec[1][0]")
    assert '"city"' in message
    assert messages_at(groupby(subtotalsSpec=["country"]), "subtotalsSpec[0]")


def test_limit_spec_may_sort_by_the_timestamp_result_field() -> None:
    limit_spec = {"type": "default", "columns": ["d0"]}
    context = {"timestampResultField": "d0"}
    assert_valid(groupby(granularity="all", limitSpec=limit_spec, context=context))


# --- timeseries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "path", "fragment"),
    [
        ({"descending": "yes"}, "descending", "true or false"),
        ({"descending": 1}, "descending", "true or false"),
        ({"limit": 0}, "limit", "at least 1"),
        ({"limit": "10"}, "limit", "whole number"),
    ],
)
def test_malformed_timeseries_fields_are_named(
    fields: dict[str, Any], path: str, fragment: str
) -> None:
    assert any(fragment in message for message in messages_at(timeseries(**fields), path))


def test_timeseries_descending_and_limit() -> None:
    assert_valid(timeseries(descending=False, limit=10))
    assert_valid(timeseries(descending="false"))


# --- context and virtual columns ------------------------------------------------------------


def test_documented_context_is_valid() -> None:
    context = {
        "timeout": 60000,
        "priority": -1,
        "queryId": "weekly-report",
        "useCache": False,
        "populateCache": "true",
        "skipEmptyBuckets": "true",
        "grandTotal": True,
        "vectorize": "force",
        "minTopNThreshold": "2000",
        "somethingDruidAddsLater": {"any": "value"},
    }
    assert_valid(timeseries(context=context))


@pytest.mark.parametrize(
    ("context", "path", "fragment"),
    [
        ([], "context", "JSON object"),
        ({"timeout": -1}, "context.timeout", "at least 0"),
        ({"timeout": "soon"}, "context.timeout", "whole number"),
        ({"priority": 1.5}, "context.priority", "whole number"),
        ({"queryId": 12}, "context.queryId", "string"),
        ({"useCache": "yes"}, "context.useCache", "true or false"),
        ({"grandTotal": 1}, "context.grandTotal", "true or false"),
        ({"vectorize": "always"}, "context.vectorize", "true or false"),
    ],
)
def test_malformed_context_values_are_named(context: object, path: str, fragment: str) -> None:
    assert any(fragment in message for message in messages_at(timeseries(context=context), path))


def test_documented_virtual_columns_are_valid() -> None:
    virtual_columns = [
        {
            "type": "expression",
            "name": "fooPage",
            "expression": "concat('foo' + page)",
            "outputType": "STRING",
        },
        {
            "type": "expression",
            "name": "tripleWordCount",
            "expression": "wordCount * 3",
            "outputType": "LONG",
        },
        {"type": "expression", "name": "noType", "expression": "a + b"},
        {
            "type": "nested-field",
            "columnName": "shipTo",
            "outputName": "v0",
            "expectedType": "STRING",
            "path": "$.phoneNumbers[1].number",
        },
    ]
    aggregations = [{"type": "longSum", "name": "words", "fieldName": "tripleWordCount"}]
    assert_valid(
        timeseries(virtualColumns=virtual_columns, aggregations=aggregations, postAggregations=[])
    )


@pytest.mark.parametrize(
    ("virtual_columns", "path", "fragment"),
    [
        ({"type": "expression"}, "virtualColumns", "JSON array"),
        ([{"type": "expression", "name": "v"}], "virtualColumns[0].expression", "Missing"),
        ([{"name": "v", "expression": "a"}], "virtualColumns[0].type", "Missing"),
        (
            [{"type": "expression", "name": "v", "expression": "a", "outputType": "NUMBER"}],
            "virtualColumns[0].outputType",
            "Unknown type",
        ),
        (
            [
                {"type": "expression", "name": "v", "expression": "a"},
                {"type": "expression", "name": "v", "expression": "b"},
            ],
            "virtualColumns[1].name",
            "Duplicate virtual column name",
        ),
        (
            [{"type": "expression", "name": "__time", "expression": "a"}],
            "virtualColumns[0].name",
            "__time",
        ),
    ],
)
def test_malformed_virtual_columns_are_named(
    virtual_columns: object, path: str, fragment: str
) -> None:
    query = timeseries(virtualColumns=virtual_columns)
    assert any(fragment in message for message in messages_at(query, path))


# --- never raising --------------------------------------------------------------------------

TYPE_NAMES = [
    "selector",
    "and",
    "not",
    "in",
    "bound",
    "equals",
    "search",
    "interval",
    "spatial",
    "longSum",
    "filtered",
    "cardinality",
    "expression",
    "thetaSketch",
    "count",
    "grouping",
    "arithmetic",
    "fieldAccess",
    "thetaSketchSetOp",
    "quantilesDoublesSketchToQuantile",
    "default",
    "extraction",
    "lookup",
    "listFiltered",
    "cascade",
    "timeFormat",
    "regex",
    "greaterThan",
    "filter",
    "numeric",
    "inverted",
    "dimension",
    "period",
    "duration",
    "all",
    "table",
    "union",
    "query",
    "inline",
    "join",
    "map",
    "rectangular",
    "contains",
    "noop",
    "",
    "Selector",
    "x" * 300,
]
REPLACEMENTS: list[object] = [
    None,
    0,
    -1,
    1.5,
    float("nan"),
    10**400,
    "",
    "x",
    "P1D",
    [],
    {},
    True,
    [1, "a", None],
    {"type": None},
    {"type": []},
    [[{}]],
]


def containers(value: object) -> list[tuple[Any, Any]]:
    """Every (container, key) slot in a JSON value."""
    slots: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            slots.append((value, key))
            slots.extend(containers(item))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            slots.append((value, index))
            slots.extend(containers(item))
    return slots


def mutate(rng: random.Random, query: dict[str, Any]) -> None:
    slots = containers(query)
    if not slots:
        return
    container, key = rng.choice(slots)
    action = rng.choice(("delete", "retype", "rename"))
    if action == "delete":
        del container[key]
    elif action == "retype":
        container[key] = copy.deepcopy(rng.choice(REPLACEMENTS))
    else:
        typed = [item for item, _ in slots if isinstance(item, dict) and "type" in item]
        if typed:
            rng.choice(typed)["type"] = rng.choice(TYPE_NAMES)


def valid_queries() -> list[dict[str, Any]]:
    queries = [timeseries(), topn(), groupby()]
    sketch_names = {aggregator["name"] for aggregator in SKETCH_AGGREGATORS}
    others = [a for a in DOCUMENTED_AGGREGATORS if a.get("name") not in sketch_names]
    queries.append(
        timeseries(
            aggregations=SKETCH_AGGREGATORS + others,
            postAggregations=DOCUMENTED_POST_AGGREGATORS,
        )
    )
    queries.append(timeseries(filter={"type": "or", "fields": DOCUMENTED_FILTERS}))
    queries.append(
        topn(dimension=DOCUMENTED_DIMENSIONS[4], metric={"type": "inverted", "metric": "count"})
    )
    queries.append(
        groupby(
            dimensions=[DOCUMENTED_DIMENSIONS[i] for i in (5, 6, 8)],
            limitSpec={
                "type": "default",
                "columns": [
                    {
                        "dimension": "total_usage",
                        "direction": "descending",
                        "dimensionOrder": "numeric",
                    }
                ],
            },
        )
    )
    for extraction_fn in DOCUMENTED_EXTRACTION_FNS:
        queries.append(
            topn(dimension={"type": "extraction", "dimension": "d", "extractionFn": extraction_fn})
        )
    queries.append(
        timeseries(
            granularity={
                "type": "period",
                "period": "P1D",
                "timeZone": "Europe/Berlin",
                "origin": "2012-02-01T00:00:00-08:00",
            },
            dataSource={"type": "query", "query": groupby()},
            context={"timeout": 5, "useCache": "true"},
        )
    )
    return queries


def test_documented_queries_used_for_mutation_are_valid() -> None:
    for query in valid_queries():
        assert_valid(query)


def test_randomly_mutated_queries_never_raise() -> None:
    rng = random.Random(20240607)
    originals = valid_queries()
    for round_ in range(600):
        query = copy.deepcopy(originals[round_ % len(originals)])
        for _ in range(rng.randint(1, 4)):
            mutate(rng, query)
        errors = validate_query(query, check_intervals=rng.random() < 0.8)
        assert isinstance(errors, dict)
        for path, messages in errors.items():
            assert isinstance(path, str) and path
            assert isinstance(messages, list) and messages
            assert all(isinstance(message, str) and message for message in messages)
