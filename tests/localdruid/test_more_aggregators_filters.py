"""More of Druid's native language over HTTP: greatest/least and `pow` post-aggregators, the
doubleMean aggregator, the columnComparison filter, and alphanumeric ordering (bound filters,
topN dimension metric specs, groupBy limitSpec), each against answers worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from tests.localdruid.harness import LocalDruid, inline_task

DAY = "2024-01-01/2024-01-02"

# `alnum`: one row per name, hour i. Druid's alphanumeric order (StringComparators.ALPHANUMERIC),
# worked out by its algorithm: null, then "" (empty before everything), then digit-first values
# (9 < 10: fewer significant digits), then text: "a" == "A"; a1 < a01 (more leading zeros later)
# < a2 < A2b (a prefix sorts first) < a10; b; and Druid's quirk for an all-zero run: at the end
# of a value it outranks one followed by text, so x0b < x0.
ALNUM_ORDER = [None, "", "9", "10", "a1", "a01", "a2", "A2b", "a10", "b", "x0b", "x0"]
ALNUM_NAMES = ["a10", "x0", "A2b", None, "a01", "b", "", "10", "a2", "x0b", "a1", "9"]

# `pairs` (hours 0-3 and 5-7; hour 4 has no rows): left/right strings, n long, x double.
PAIRS = [
    {"hour": 0, "left": "1", "right": "1", "n": 1, "x": 1.5},
    {"hour": 1, "left": "a", "right": "A", "n": 2, "x": 2.5},
    {"hour": 2, "left": None, "right": None, "n": 3},
    {"hour": 3, "left": "", "right": None, "n": 4},
    {"hour": 5, "left": "", "right": "", "n": 5},
    {"hour": 6, "left": "06", "right": "06", "n": 6},
    {"hour": 7, "left": "7", "right": "7", "n": 7},
]


@pytest.fixture(scope="module")
def alnum(druid: LocalDruid) -> str:
    rows = [
        {"timestamp": f"2024-01-01T{i:02d}:00:00Z", **({} if name is None else {"name": name})}
        for i, name in enumerate(ALNUM_NAMES)
    ]
    druid.ingest(inline_task("more_alnum", rows, dimensions=["name"], rollup=False))
    return "more_alnum"


@pytest.fixture(scope="module")
def pairs(druid: LocalDruid) -> str:
    rows = []
    for pair in PAIRS:
        row = {k: v for k, v in pair.items() if k != "hour" and v is not None}
        rows.append({"timestamp": f"2024-01-01T{pair['hour']:02d}:00:00Z", **row})
    druid.ingest(
        inline_task(
            "more_pairs",
            rows,
            dimensions=[
                "left",
                "right",
                {"type": "long", "name": "n"},
                {"type": "double", "name": "x"},
            ],
            rollup=False,
        )
    )
    return "more_pairs"


def _query(datasource: str, **fields: Any) -> dict[str, Any]:
    query: dict[str, Any] = {
        "queryType": "timeseries",
        "dataSource": datasource,
        "intervals": [DAY],
        "granularity": "all",
        "aggregations": [{"type": "count", "name": "rows"}],
    }
    query.update(fields)
    return query


def _rows(druid: LocalDruid, datasource: str, filter_: dict[str, Any]) -> int:
    return int(druid.query(_query(datasource, filter=filter_))[0]["result"]["rows"])


# -- post-aggregators ---------------------------------------------------------------------------


def _const(value: Any) -> dict[str, Any]:
    return {"type": "constant", "name": "c", "value": value}


def _field(name: str) -> dict[str, Any]:
    return {"type": "fieldAccess", "fieldName": name}


NAN = {"type": "arithmetic", "name": "nan", "fn": "quotient", "fields": [_const(0), _const(0)]}


def test_greatest_and_least_post_aggregators(druid: LocalDruid, pairs: str) -> None:
    aggs = [
        {"type": "longSum", "name": "n", "fieldName": "n"},  # 28
        {"type": "doubleSum", "name": "x", "fieldName": "x"},  # 4.0
        {"type": "doubleMax", "name": "xmax", "fieldName": "x"},  # 2.5
        {"type": "longSum", "name": "missing", "fieldName": "nope"},  # null
    ]
    three = [_field("n"), _field("x"), _field("missing")]
    post = [
        {"type": "doubleGreatest", "name": "dg", "fields": three},
        {"type": "doubleLeast", "name": "dl", "fields": three},
        {"type": "longGreatest", "name": "lg", "fields": three},
        {"type": "longLeast", "name": "ll", "fields": three},
        # Java's longValue() truncates toward zero before comparing: 2.5 -> 2, -2.5 -> -2.
        {"type": "longGreatest", "name": "trunc", "fields": [_field("xmax"), _const(1)]},
        {"type": "longLeast", "name": "neg", "fields": [_const(-2.5), _field("missing")]},
        {"type": "doubleGreatest", "name": "all_null", "fields": [_field("missing")]},
        {"type": "longLeast", "name": "all_null_l", "fields": [_field("missing")] * 2},
        # Double.compare puts NaN above everything: greatest is NaN, least skips it.
        {"type": "doubleGreatest", "name": "g_nan", "fields": [NAN, _const(5)]},
        {"type": "doubleLeast", "name": "l_nan", "fields": [NAN, _const(5)]},
        {"type": "longGreatest", "name": "lg_nan", "fields": [NAN, _const(-3)]},  # NaN -> 0
    ]
    result = druid.query(_query(pairs, aggregations=aggs, postAggregations=post))[0]["result"]
    assert result == {
        "n": 28,
        "x": 4.0,
        "xmax": 2.5,
        "missing": None,
        "dg": 28.0,
        "dl": 4.0,
        "lg": 28,
        "ll": 4,
        "trunc": 2,
        "neg": -2,
        "all_null": None,
        "all_null_l": None,
        "g_nan": "NaN",
        "l_nan": 5.0,
        "lg_nan": 0,
    }
    assert isinstance(result["dg"], float) and isinstance(result["lg"], int)


def test_pow_and_quotient(druid: LocalDruid, pairs: str) -> None:
    aggs = [
        {"type": "longSum", "name": "n", "fieldName": "n"},
        {"type": "longSum", "name": "missing", "fieldName": "nope"},
    ]

    def arith(name: str, fn: str, *fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": "arithmetic", "name": name, "fn": fn, "fields": list(fields)}

    post = [
        arith("p", "pow", _const(2), _const(10)),
        arith("chain", "pow", _const(2), _const(3), _const(2)),  # left to right: (2^3)^2
        arith("root", "pow", _const(4), _const(0.5)),
        arith("neg_root", "pow", _const(-8), _const(0.5)),
        arith("one_nan", "pow", _const(1), NAN),  # Java's Math.pow: NaN (C's pow gives 1)
        arith("null_pow", "pow", _field("missing"), _const(2)),
        arith("of_n", "pow", _field("n"), _const(2)),
        arith("inf", "quotient", _const(1), _const(0)),
        arith("div0", "/", _const(1), _const(0)),
    ]
    result = druid.query(_query(pairs, aggregations=aggs, postAggregations=post))[0]["result"]
    assert result == {
        "n": 28,
        "missing": None,
        "p": 1024.0,
        "chain": 64.0,
        "root": 2.0,
        "neg_root": "NaN",
        "one_nan": "NaN",
        "null_pow": None,
        "of_n": 784.0,
        "inf": "Infinity",
        "div0": 0.0,
    }


@pytest.mark.parametrize(
    "post",
    [
        {"type": "doubleGreatest", "name": "g", "fields": []},
        {"type": "longLeast", "name": "g", "fields": [{"type": "fieldAccess", "fieldName": "zz"}]},
        {"type": "arithmetic", "name": "p", "fn": "pow", "fields": [_const(2)]},
        {"type": "arithmetic", "name": "p", "fn": "^", "fields": [_const(2), _const(2)]},
    ],
)
def test_invalid_post_aggregators_answer_400(
    druid: LocalDruid, pairs: str, post: dict[str, Any]
) -> None:
    resp = druid.post(_query(pairs, postAggregations=[post]))
    assert resp.status_code == 400, resp.text


# -- doubleMean ---------------------------------------------------------------------------------


def test_double_mean(druid: LocalDruid, pairs: str) -> None:
    aggs = [
        {"type": "doubleMean", "name": "n", "fieldName": "n"},  # 28 / 7
        # Nulls count as 0: (1.5 + 2.5) / 7.
        {"type": "doubleMean", "name": "x", "fieldName": "x"},
        # Strings parse; null, "" and "a" count as 0: (1 + 6 + 7) / 7.
        {"type": "doubleMean", "name": "left", "fieldName": "left"},
        {"type": "doubleMean", "name": "missing", "fieldName": "nope"},
        {
            "type": "filtered",
            "filter": {"type": "selector", "dimension": "left", "value": "7"},
            "aggregator": {"type": "doubleMean", "name": "seven", "fieldName": "n"},
        },
        {
            "type": "filtered",
            "filter": {"type": "false"},
            "aggregator": {"type": "doubleMean", "name": "none", "fieldName": "n"},
        },
    ]
    result = druid.query(_query(pairs, aggregations=aggs))[0]["result"]
    assert result == {
        "n": 4.0,
        "x": 4.0 / 7,
        "left": 2.0,
        "missing": 0.0,
        "seven": 7.0,
        "none": 0.0,
    }
    assert isinstance(result["n"], float)


def test_double_mean_over_no_rows_is_zero(druid: LocalDruid, pairs: str) -> None:
    mean = [{"type": "doubleMean", "name": "m", "fieldName": "n"}]
    hourly = druid.query(_query(pairs, granularity="hour", aggregations=mean, intervals=[DAY]))
    assert [r["result"]["m"] for r in hourly] == [1.0, 2.0, 3.0, 4.0, 0.0, 5.0, 6.0, 7.0]
    summary = druid.query(
        {
            "queryType": "groupBy",
            "dataSource": pairs,
            "intervals": ["2030-01-01/2030-01-02"],
            "granularity": "all",
            "dimensions": [],
            "aggregations": mean,
        }
    )
    assert [r["event"] for r in summary] == [{"m": 0.0}]
    grouped = druid.query(
        {
            "queryType": "groupBy",
            "dataSource": pairs,
            "intervals": [DAY],
            "granularity": "all",
            "dimensions": ["right"],
            "aggregations": mean,
            "limitSpec": {"type": "default", "columns": [{"dimension": "m"}]},
        }
    )
    # right: null (n 3, 4) -> 3.5; "" -> 5; "06" -> 6; "1" -> 1; "7" -> 7; "A" -> 2.
    assert [(r["event"]["right"], r["event"]["m"]) for r in grouped] == [
        ("1", 1.0),
        ("A", 2.0),
        (None, 3.5),
        ("", 5.0),
        ("06", 6.0),
        ("7", 7.0),
    ]


def test_timeseries_limit_counts_filled_buckets(druid: LocalDruid, pairs: str) -> None:
    mean = [{"type": "doubleMean", "name": "m", "fieldName": "n"}]
    first = druid.query(_query(pairs, granularity="hour", aggregations=mean, limit=5))
    assert [r["result"]["m"] for r in first] == [1.0, 2.0, 3.0, 4.0, 0.0]
    last = druid.query(
        _query(pairs, granularity="hour", aggregations=mean, limit=2, descending=True)
    )
    assert [r["timestamp"] for r in last] == [
        "2024-01-01T07:00:00.000Z",
        "2024-01-01T06:00:00.000Z",
    ]


# -- columnComparison ---------------------------------------------------------------------------

COMPARISONS: list[tuple[str, list[Any], int]] = [
    # Strings compare exactly ("a" != "A"); null equals only null; "" is not null.
    ("strings", ["left", "right"], 5),
    ("dimension spec objects", [{"type": "default", "dimension": "left"}, "right"], 5),
    # A long compares as its text: "1" and "7" match, "06" does not.
    ("string and long", ["left", "n"], 2),
    ("three columns", ["left", "right", "n"], 2),
    # A missing column is null: only the row where left is null matches.
    ("missing column", ["left", "nope"], 1),
    ("same column", ["n", "n"], 7),
]


@pytest.mark.parametrize(
    ("name", "dimensions", "rows"), COMPARISONS, ids=[c[0] for c in COMPARISONS]
)
def test_column_comparison(
    druid: LocalDruid, pairs: str, name: str, dimensions: list[Any], rows: int
) -> None:
    filter_ = {"type": "columnComparison", "dimensions": dimensions}
    assert _rows(druid, pairs, filter_) == rows


def test_not_column_comparison_is_two_valued(druid: LocalDruid, pairs: str) -> None:
    # "is not distinct from": a null never makes the filter unknown, so `not` keeps those rows.
    filter_ = {
        "type": "not",
        "field": {"type": "columnComparison", "dimensions": ["left", "right"]},
    }
    assert _rows(druid, pairs, filter_) == 2  # ("a", "A") and ("", null)


def test_column_comparison_errors(druid: LocalDruid, pairs: str) -> None:
    one = {"type": "columnComparison", "dimensions": ["left"]}
    resp = druid.post(_query(pairs, filter=one))
    assert resp.status_code == 400, resp.text
    double = {"type": "columnComparison", "dimensions": ["left", "x"]}
    resp = druid.post(_query(pairs, filter=double))
    assert resp.status_code == 501, resp.text
    assert "columnComparison" in resp.json()["errorMessage"]


def test_array_contains_element_on_scalar_columns(druid: LocalDruid, pairs: str) -> None:
    """A single-value column is a one-element array: the filter is an equality (test_multi_value
    covers multi-value rows); an ARRAY element type answers 501."""

    def contains(column: str, kind: str, value: Any) -> dict[str, Any]:
        return {
            "type": "arrayContainsElement",
            "column": column,
            "elementMatchValueType": kind,
            "elementMatchValue": value,
        }

    def rows(filter_: dict[str, Any]) -> int:
        answer = druid.query(_query(pairs, filter=filter_))
        return int(answer[0]["result"]["rows"])

    assert rows(contains("left", "STRING", "a")) == 1
    assert rows(contains("n", "LONG", 2)) == 1
    assert rows(contains("x", "DOUBLE", 1.5)) == 1
    assert rows(contains("n", "STRING", "7")) == 1
    assert rows(contains("left", "STRING", "b")) == 0
    assert rows(contains("left", "STRING", None)) == 1  # hour 2; "" is not null
    resp = druid.post(_query(pairs, filter=contains("left", "ARRAY<STRING>", ["a"])))
    assert resp.status_code == 501, resp.text


# -- alphanumeric ordering ----------------------------------------------------------------------


def _topn(druid: LocalDruid, datasource: str, metric: Any) -> list[Any]:
    result = druid.query(
        {
            "queryType": "topN",
            "dataSource": datasource,
            "intervals": [DAY],
            "granularity": "all",
            "dimension": "name",
            "metric": metric,
            "threshold": 100,
            "aggregations": [{"type": "count", "name": "rows"}],
        }
    )
    return [item["name"] for item in result[0]["result"]]


def test_topn_alphanumeric_order(druid: LocalDruid, alnum: str) -> None:
    assert _topn(druid, alnum, {"type": "dimension", "ordering": "alphanumeric"}) == ALNUM_ORDER
    # previousStop keeps the values strictly after it; "A01" equals "a01" in this ordering.
    after = {"type": "dimension", "ordering": "alphanumeric", "previousStop": "A01"}
    assert _topn(druid, alnum, after) == ALNUM_ORDER[6:]
    legacy = {"type": "alphaNumeric", "previousStop": "9"}
    assert _topn(druid, alnum, legacy) == ALNUM_ORDER[3:]
    inverted = {"type": "inverted", "metric": {"type": "dimension", "ordering": "alphanumeric"}}
    assert _topn(druid, alnum, inverted) == ALNUM_ORDER[::-1]


def test_groupby_alphanumeric_limit_spec(druid: LocalDruid, alnum: str) -> None:
    def names(direction: str, limit: int) -> list[Any]:
        result = druid.query(
            {
                "queryType": "groupBy",
                "dataSource": alnum,
                "intervals": [DAY],
                "granularity": "all",
                "dimensions": ["name"],
                "aggregations": [{"type": "count", "name": "rows"}],
                "limitSpec": {
                    "type": "default",
                    "limit": limit,
                    "columns": [
                        {
                            "dimension": "name",
                            "direction": direction,
                            "dimensionOrder": "alphanumeric",
                        }
                    ],
                },
            }
        )
        return [r["event"]["name"] for r in result]

    assert names("ascending", 100) == ALNUM_ORDER
    assert names("descending", 5) == ALNUM_ORDER[::-1][:5]


BOUNDS: list[tuple[str, dict[str, Any], int]] = [
    ("inclusive", {"lower": "a1", "upper": "a10"}, 5),  # a1, a01, a2, A2b, a10
    ("lower strict keeps a01", {"lower": "a1", "lowerStrict": True, "upper": "a10"}, 4),
    # No lower bound: nulls match; "A1" equals "a1".
    ("upper only, case-insensitive", {"upper": "A1"}, 5),  # null, "", 9, 10, a1
    ("upper strict", {"upper": "A1", "upperStrict": True}, 4),
    ("empty string lower", {"lower": "", "lowerStrict": True, "upper": "10"}, 2),  # 9, 10
    ("zero quirk", {"lower": "x0b", "lowerStrict": True}, 1),  # x0
    ("digits before text", {"lower": "99999", "upper": "a"}, 0),
]


@pytest.mark.parametrize(("name", "bound", "rows"), BOUNDS, ids=[b[0] for b in BOUNDS])
def test_bound_alphanumeric(
    druid: LocalDruid, alnum: str, name: str, bound: dict[str, Any], rows: int
) -> None:
    filter_ = {"type": "bound", "dimension": "name", "ordering": "alphanumeric", **bound}
    assert _rows(druid, alnum, filter_) == rows


def test_version_ordering_answers_501(druid: LocalDruid, alnum: str) -> None:
    filter_ = {"type": "bound", "dimension": "name", "ordering": "version", "lower": "1"}
    resp = druid.post(_query(alnum, filter=filter_))
    assert resp.status_code == 501, resp.text
    assert "version" in resp.json()["errorMessage"]
