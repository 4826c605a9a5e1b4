"""Dimension specs and extraction functions over real HTTP: groupBy, topN and filters."""

from __future__ import annotations

from typing import Any

import pytest

from tests.localdruid.harness import LocalDruid, inline_task

INTERVAL = "2024-01-01/2024-01-02"
# name: a value, another, an empty string, a null, one capitalized; n: a long dimension.
ROWS = [
    {"timestamp": "2024-01-01T00:00:00Z", "name": "apple", "n": 5},
    {"timestamp": "2024-01-01T01:00:00Z", "name": "banana", "n": 12},
    {"timestamp": "2024-01-01T02:00:00Z", "name": "", "n": 7},
    {"timestamp": "2024-01-01T03:00:00Z", "n": 25},
    {"timestamp": "2024-01-01T04:00:00Z", "name": "Cherry", "n": -3},
]


@pytest.fixture(scope="module")
def fruit(druid: LocalDruid) -> str:
    druid.ingest(
        inline_task(
            "xfruit",
            ROWS,
            dimensions=["name", {"type": "long", "name": "n"}],
            metrics=[{"type": "longSum", "name": "total", "fieldName": "n"}],
            rollup=False,
        )
    )
    return "xfruit"


def groupby(datasource: str, dimension: Any, **fields: Any) -> dict[str, Any]:
    query = {
        "queryType": "groupBy",
        "dataSource": datasource,
        "intervals": [INTERVAL],
        "granularity": "all",
        "dimensions": [dimension],
        "aggregations": [{"type": "count", "name": "rows"}],
    }
    query.update(fields)
    return query


def counts(druid: LocalDruid, dimension: Any, name: str = "x") -> dict[Any, int]:
    """Rows per output value of one dimension (None for null)."""
    result = druid.query(groupby("xfruit", dimension))
    return {r["event"].get(name): r["event"]["rows"] for r in result}


def extraction(fn: dict[str, Any], dimension: str = "name", **fields: Any) -> dict[str, Any]:
    spec = {"type": "extraction", "dimension": dimension, "outputName": "x", "extractionFn": fn}
    spec.update(fields)
    return spec


def test_substring_past_the_end_is_null(druid: LocalDruid, fruit: str) -> None:
    fn = {"type": "substring", "index": 1, "length": 3}
    assert counts(druid, extraction(fn)) == {None: 2, "ana": 1, "her": 1, "ppl": 1}
    fn = {"type": "substring", "index": 5}
    assert counts(druid, extraction(fn)) == {None: 3, "a": 1, "y": 1}


def test_strlen_upper_lower(druid: LocalDruid, fruit: str) -> None:
    assert counts(druid, extraction({"type": "strlen"})) == {None: 1, "0": 1, "5": 1, "6": 2}
    assert counts(druid, extraction({"type": "upper"})) == {
        None: 1,
        "": 1,
        "APPLE": 1,
        "BANANA": 1,
        "CHERRY": 1,
    }
    lower = extraction({"type": "lower", "locale": "en"})
    assert counts(druid, lower) == {None: 1, "": 1, "apple": 1, "banana": 1, "cherry": 1}
    # Java cases every locale as the root locale but Turkish, Azeri and Lithuanian (those 501).
    french = extraction({"type": "upper", "locale": "fr"})
    assert counts(druid, french) == {None: 1, "": 1, "APPLE": 1, "BANANA": 1, "CHERRY": 1}
    typed = extraction({"type": "strlen"}, outputType="LONG")
    result = druid.query(groupby("xfruit", typed))
    assert [(r["event"]["x"], r["event"]["rows"]) for r in result] == [
        (None, 1),
        (0, 1),
        (5, 1),
        (6, 2),
    ]


def test_regex_keeps_the_value_without_a_match(druid: LocalDruid, fruit: str) -> None:
    fn: dict[str, Any] = {"type": "regex", "expr": "^([a-c])"}
    assert counts(druid, extraction(fn)) == {None: 1, "": 1, "Cherry": 1, "a": 1, "b": 1}
    fn.update(replaceMissingValue=True, replaceMissingValueWith="none")
    # A null value has no match either: it is replaced too.
    assert counts(druid, extraction(fn)) == {"a": 1, "b": 1, "none": 3}
    fn = {"type": "regex", "expr": "(a)(n)", "index": 2, "replaceMissingValue": True}
    assert counts(druid, extraction(fn)) == {None: 4, "n": 1}


def test_partial_and_search_query(druid: LocalDruid, fruit: str) -> None:
    assert counts(druid, extraction({"type": "partial", "expr": "an"})) == {None: 4, "banana": 1}
    fn = {"type": "searchQuery", "query": {"type": "insensitive_contains", "value": "ER"}}
    assert counts(druid, extraction(fn)) == {None: 4, "Cherry": 1}


def test_lookup_with_and_without_retain_missing_value(druid: LocalDruid, fruit: str) -> None:
    lookup = {"type": "map", "map": {"apple": "fruit", "banana": "fruit", "Cherry": ""}}
    fn: dict[str, Any] = {"type": "lookup", "lookup": lookup, "injective": False}
    assert counts(druid, extraction(fn)) == {None: 2, "": 1, "fruit": 2}
    fn["retainMissingValue"] = True
    assert counts(druid, extraction(fn)) == {None: 1, "": 2, "fruit": 2}
    fn = {"type": "lookup", "lookup": lookup, "replaceMissingValueWith": "other"}
    assert counts(druid, extraction(fn)) == {"": 1, "fruit": 2, "other": 2}


def test_bucket_on_a_long_column(druid: LocalDruid, fruit: str) -> None:
    fn = {"type": "bucket", "size": 10}
    assert counts(druid, extraction(fn, "n")) == {"-10": 1, "0": 2, "10": 1, "20": 1}
    fn = {"type": "bucket", "size": 2.5, "offset": 1}
    assert counts(druid, extraction(fn, "n")) == {"-4": 1, "3.5": 1, "6": 1, "11": 1, "23.5": 1}


def test_cascade_and_string_format(druid: LocalDruid, fruit: str) -> None:
    fn = {
        "type": "cascade",
        "extractionFns": [{"type": "substring", "index": 0, "length": 2}, {"type": "upper"}],
    }
    assert counts(druid, extraction(fn)) == {None: 2, "AP": 1, "BA": 1, "CH": 1}
    fmt: dict[str, Any] = {"type": "stringFormat", "format": "[%s] 100%%"}
    assert counts(druid, extraction(fmt)) == {
        "[null] 100%": 1,
        "[] 100%": 1,
        "[Cherry] 100%": 1,
        "[apple] 100%": 1,
        "[banana] 100%": 1,
    }
    fmt = {"type": "stringFormat", "format": "<%s>", "nullHandling": "returnNull"}
    assert counts(druid, extraction(fmt))[None] == 1
    fmt["nullHandling"] = "emptyString"
    assert counts(druid, extraction(fmt))["<>"] == 2


def test_time_format_with_a_locale(druid: LocalDruid, fruit: str) -> None:
    """Full day and month names in the locale's language; the rows are 2024-01-01 00:00 to
    04:00 UTC, a Sunday evening in Montreal and a Monday morning in Tokyo."""
    montreal = {
        "type": "timeFormat",
        "format": "EEEE d MMMM yyyy",
        "timeZone": "America/Montreal",
        "locale": "fr",
    }
    assert counts(druid, extraction(montreal, "__time")) == {"dimanche 31 décembre 2023": 5}
    tokyo = {"type": "timeFormat", "format": "EEEE, d. MMMM", "timeZone": "Asia/Tokyo"}
    assert counts(druid, extraction({**tokyo, "locale": "de-DE"}, "__time")) == {
        "Montag, 1. Januar": 5
    }
    assert counts(druid, extraction({**tokyo, "locale": "en-US"}, "__time")) == {
        "Monday, 1. January": 5
    }


def test_time_format_with_a_time_zone(druid: LocalDruid, fruit: str) -> None:
    fn: dict[str, Any] = {
        "type": "timeFormat",
        "format": "MMM d, yyyy h a Z",
        "timeZone": "America/New_York",
    }
    assert counts(druid, extraction(fn, "__time")) == {
        "Dec 31, 2023 7 PM -0500": 1,
        "Dec 31, 2023 8 PM -0500": 1,
        "Dec 31, 2023 9 PM -0500": 1,
        "Dec 31, 2023 10 PM -0500": 1,
        "Dec 31, 2023 11 PM -0500": 1,
    }
    fn = {"type": "timeFormat", "format": "EEE yyyy-MM-dd'T'HH:mm:ss.SSS", "timeZone": "Asia/Tokyo"}
    assert counts(druid, extraction(fn, "__time"))["Mon 2024-01-01T09:00:00.000"] == 1
    # No format: ISO-8601 in the zone, "Z" for UTC.
    assert "2024-01-01T04:00:00.000Z" in counts(druid, extraction({"type": "timeFormat"}, "__time"))
    fn = {"type": "timeFormat", "timeZone": "America/New_York"}
    assert "2023-12-31T19:00:00.000-05:00" in counts(druid, extraction(fn, "__time"))
    # The granularity truncates in UTC before the zone formats it.
    fn = {"type": "timeFormat", "format": "yyyy-MM-dd HH", "timeZone": "America/New_York"}
    fn["granularity"] = "day"
    assert counts(druid, extraction(fn, "__time")) == {"2023-12-31 19": 5}
    fn = {"type": "timeFormat", "asMillis": True, "granularity": {"type": "hour"}}
    assert counts(druid, extraction(fn, "__time")) == {
        str(1704067200000 + k * 3600000): 1 for k in range(5)
    }


@pytest.fixture(scope="module")
def dates(druid: LocalDruid) -> str:
    # day: a date, one with short fields, one Joda rejects (February 30th), one of another
    # shape, an empty string, a row without the column.
    days = ["2024-03-05", "2024-3-7", "2024-02-30", "05/03/2024", "", None]
    rows = [
        {"timestamp": f"2024-01-01T0{i}:00:00Z", **({} if day is None else {"day": day})}
        for i, day in enumerate(days)
    ]
    druid.ingest(inline_task("xdates", rows, dimensions=["day"], rollup=False))
    return "xdates"


def test_time_parsing_reformats_what_parses(druid: LocalDruid, dates: str) -> None:
    fn = {"type": "time", "timeFormat": "yyyy-MM-dd", "resultFormat": "dd/MM/yyyy", "joda": True}
    result = druid.query(groupby(dates, extraction(fn, "day")))
    # What does not parse (or is not a date) is passed through unchanged; null stays null.
    assert {r["event"].get("x"): r["event"]["rows"] for r in result} == {
        None: 1,
        "": 1,
        "05/03/2024": 2,  # "2024-03-05" printed, and "05/03/2024" passed through
        "07/03/2024": 1,
        "2024-02-30": 1,
    }
    fn = {"type": "time", "timeFormat": "dd/MM/yyyy", "resultFormat": "MMM d yyyy", "joda": True}
    result = druid.query(groupby(dates, extraction(fn, "day")))
    assert {r["event"].get("x"): r["event"]["rows"] for r in result} == {
        None: 1,
        "": 1,
        "2024-02-30": 1,
        "2024-03-05": 1,
        "2024-3-7": 1,
        "Mar 5 2024": 1,
    }
    # A column the datasource lacks is null throughout.
    result = druid.query(groupby(dates, extraction(fn, "nothing")))
    assert [r["event"] for r in result] == [{"x": None, "rows": 6}]


def test_filtered_dimension_specs(druid: LocalDruid, fruit: str) -> None:
    delegate = {"type": "default", "dimension": "name", "outputName": "x"}
    listed = {"type": "listFiltered", "delegate": delegate, "values": ["apple", "banana"]}
    assert counts(druid, listed) == {None: 3, "apple": 1, "banana": 1}
    listed["isWhitelist"] = False
    assert counts(druid, listed) == {None: 3, "": 1, "Cherry": 1}
    regex = {"type": "regexFiltered", "delegate": delegate, "pattern": "[a-z]+"}
    assert counts(druid, regex) == {None: 3, "apple": 1, "banana": 1}
    prefix = {"type": "prefixFiltered", "delegate": delegate, "prefix": "b"}
    assert counts(druid, prefix) == {None: 4, "banana": 1}
    upper = {"type": "listFiltered", "delegate": extraction({"type": "upper"}), "values": ["APPLE"]}
    assert counts(druid, upper) == {None: 4, "APPLE": 1}


def test_topn_over_an_extraction_dimension(druid: LocalDruid, fruit: str) -> None:
    query = {
        "queryType": "topN",
        "dataSource": "xfruit",
        "intervals": [INTERVAL],
        "granularity": "all",
        "dimension": extraction({"type": "upper"}),
        "metric": "total",
        "threshold": 3,
        "aggregations": [{"type": "longSum", "name": "total", "fieldName": "total"}],
    }
    result = druid.query(query)[0]["result"]
    assert [(r["x"], r["total"]) for r in result] == [(None, 25), ("BANANA", 12), ("", 7)]


def matching(druid: LocalDruid, filter: dict[str, Any]) -> int:
    query = {
        "queryType": "timeseries",
        "dataSource": "xfruit",
        "intervals": [INTERVAL],
        "granularity": "all",
        "filter": filter,
        "aggregations": [{"type": "count", "name": "rows"}],
    }
    return int(druid.query(query)[0]["result"]["rows"])


def test_filters_on_extracted_values(druid: LocalDruid, fruit: str) -> None:
    upper = {"type": "upper"}
    selector = {"type": "selector", "dimension": "name", "value": "APPLE", "extractionFn": upper}
    assert matching(druid, selector) == 1
    # The null row is unknown under `not`: banana, "" and Cherry match.
    assert matching(druid, {"type": "not", "field": selector}) == 3
    past_end = {"type": "substring", "index": 5}
    null_selector = {"type": "selector", "dimension": "name", "value": None}
    assert matching(druid, {**null_selector, "extractionFn": past_end}) == 3
    lower = {"type": "lower"}
    in_filter = {"type": "in", "dimension": "name", "values": ["apple", "cherry"]}
    assert matching(druid, {**in_filter, "extractionFn": lower}) == 2
    bound = {"type": "bound", "dimension": "name", "lower": "6", "ordering": "numeric"}
    assert matching(druid, {**bound, "extractionFn": {"type": "strlen"}}) == 2
    regex = {"type": "regex", "dimension": "name", "pattern": "^B", "extractionFn": upper}
    assert matching(druid, regex) == 1
    like = {"type": "like", "dimension": "name", "pattern": "%RR%", "extractionFn": upper}
    assert matching(druid, like) == 1
    search = {
        "type": "search",
        "dimension": "n",
        "query": {"type": "contains", "value": "10"},
        "extractionFn": {"type": "bucket", "size": 10},
    }
    assert matching(druid, search) == 2  # "10" and "-10"
    assert matching(druid, {**selector, "extractionFn": None}) == 0  # a null extractionFn is none


@pytest.mark.parametrize(
    "dimension",
    [
        extraction({"type": "nope"}),
        {"type": "extraction", "dimension": "name", "outputName": "x"},
        extraction({"type": "substring"}),
        extraction({"type": "regex", "expr": "("}),
        extraction({"type": "regex", "expr": "(a)", "index": 2}),
        extraction({"type": "cascade", "extractionFns": []}),
        extraction({"type": "stringFormat", "format": ""}),
        extraction(
            {
                "type": "lookup",
                "lookup": {"type": "map", "map": {"a": "b"}},
                "retainMissingValue": True,
                "replaceMissingValueWith": "x",
            }
        ),
        extraction({"type": "timeFormat", "timeZone": "Nowhere/Atlantis"}, "__time"),
        {"type": "listFiltered", "values": ["a"]},
        extraction({"type": "timeFormat", "asMillis": True, "timeZone": "UTC"}, "__time"),
        extraction({"type": "time", "timeFormat": "yyyy-MM-dd", "joda": True}),
        extraction({"type": "time", "timeFormat": "yyyy-ii", "resultFormat": "yy", "joda": True}),
        {"type": "nope", "dimension": "name"},
    ],
)
def test_invalid_specs_answer_400(druid: LocalDruid, fruit: str, dimension: Any) -> None:
    resp = druid.post(groupby("xfruit", dimension))
    assert resp.status_code == 400, resp.text


@pytest.mark.parametrize(
    "query",
    [
        groupby("xfruit", extraction({"type": "javascript", "function": "function(x){return x}"})),
        groupby("xfruit", extraction({"type": "timeFormat", "format": "ww"}, "__time")),
        groupby("xfruit", extraction({"type": "timeFormat", "granularity": "all"}, "__time")),
        groupby("xfruit", extraction({"type": "timeFormat", "timeZone": "+05:00"}, "__time")),
        groupby(
            "xfruit", extraction({"type": "timeFormat", "format": "EEE", "locale": "fr"}, "__time")
        ),
        groupby(
            "xfruit", extraction({"type": "timeFormat", "format": "EEEE", "locale": "ja"}, "__time")
        ),
        groupby("xfruit", extraction({"type": "time", "timeFormat": "yyyy", "resultFormat": "yy"})),
        groupby("xfruit", extraction({"type": "lower", "locale": "tr"})),
        groupby("xfruit", extraction({"type": "upper", "locale": "lt-LT"})),
        groupby("xfruit", extraction({"type": "stringFormat", "format": "%5s"})),
        groupby("xfruit", extraction({"type": "registeredLookup", "lookup": "wiki"})),
        groupby("xfruit", {"type": "lookup", "dimension": "name", "name": "wiki"}),
        groupby(
            "xfruit",
            "name",
            filter={
                "type": "equals",
                "column": "name",
                "matchValueType": "STRING",
                "matchValue": "a",
                "extractionFn": {"type": "upper"},
            },
        ),
        {
            "queryType": "search",
            "dataSource": "xfruit",
            "intervals": [INTERVAL],
            "searchDimensions": [extraction({"type": "upper"})],
            "query": {"type": "contains", "value": "A"},
        },
    ],
)
def test_unsupported_answers_501(druid: LocalDruid, fruit: str, query: dict[str, Any]) -> None:
    resp = druid.post(query)
    assert resp.status_code == 501, resp.text
