"""Druid expressions over HTTP: the language (each function, nulls, typing, precedence) through
virtual columns, and its uses in filters, aggregators and post-aggregators."""

from __future__ import annotations

from typing import Any

import pytest

from tests.datasets import INTERVAL
from tests.localdruid.conftest import timeseries
from tests.localdruid.harness import LocalDruid, inline_task

DAY = "2024-01-01/2024-01-02"
# One row: s='Hello', n=7 (long), d=2.5 (double), e absent (null); __time 2024-01-01T10:20:30.456Z.
ROW = {"timestamp": "2024-01-01T10:20:30.456Z", "s": "Hello", "n": 7, "d": 2.5}


@pytest.fixture(scope="module")
def one(druid: LocalDruid) -> str:
    druid.ingest(
        inline_task(
            "expr_one",
            [ROW],
            dimensions=[
                "s",
                "e",
                {"type": "long", "name": "n"},
                {"type": "double", "name": "d"},
            ],
            rollup=False,
        )
    )
    return "expr_one"


def evaluate(druid: LocalDruid, datasource: str, expression: str, output_type: str) -> Any:
    """The expression's value on the one row, read back as a groupBy dimension."""
    result = druid.query(
        {
            "queryType": "groupBy",
            "dataSource": datasource,
            "intervals": [DAY],
            "granularity": "all",
            "virtualColumns": [{"type": "expression", "name": "v", "expression": expression}],
            "dimensions": [{"type": "default", "dimension": "v", "outputType": output_type}],
            "aggregations": [{"type": "count", "name": "rows"}],
        }
    )
    assert len(result) == 1, result
    return result[0]["event"]["v"]


@pytest.mark.parametrize("expression", ["n / 0", "n % (n - 7)", "7 / (n - n)"])
def test_long_division_by_zero_fails_the_query(
    druid: LocalDruid, one: str, expression: str
) -> None:
    """Java throws on a long divided by zero, and Druid's query fails with it; a double
    divided by zero is Infinity, and a null operand gives null before any division."""
    query = {
        "queryType": "timeseries",
        "dataSource": one,
        "intervals": [DAY],
        "granularity": "all",
        "virtualColumns": [{"type": "expression", "name": "v", "expression": expression}],
        "aggregations": [{"type": "longSum", "name": "s", "fieldName": "v"}],
    }
    resp = druid.post(query)
    assert resp.status_code == 500, resp.text
    assert resp.json()["errorMessage"] == "/ by zero"
    assert resp.json()["errorClass"] == "java.lang.ArithmeticException"


CASES: list[tuple[str, str, Any]] = [
    # literals, typing and precedence
    ("1 + 2 * 3", "LONG", 7),
    ("(1 + 2) * 3", "LONG", 9),
    ("7 / 2", "LONG", 3),
    ("-7 / 2", "LONG", -3),
    ("7.0 / 2", "DOUBLE", 3.5),
    ("n / 2", "LONG", 3),
    ("n / 2.0", "DOUBLE", 3.5),
    ("n % 4", "LONG", 3),
    ("n / 0.0", "DOUBLE", "Infinity"),
    ("e / 0", "LONG", None),
    ("2 ^ 3 ^ 2", "LONG", 512),
    ("-2 ^ 2", "LONG", 4),
    ("10 - 4 - 3", "LONG", 3),
    ("d * 2", "DOUBLE", 5.0),
    ("9223372036854775807", "LONG", 9223372036854775807),
    ("-9223372036854775808", "LONG", -9223372036854775808),
    ("9007199254740993 > 9007199254740992", "LONG", 1),
    ("1e3 + 1", "DOUBLE", 1001.0),
    ("n > 5", "LONG", 1),
    ("n <= 5", "LONG", 0),
    ("s == 'Hello'", "LONG", 1),
    ("s != 'Hello'", "LONG", 0),
    ("n > 5 && d > 3", "LONG", 0),
    ("n > 5 || d > 3", "LONG", 1),
    ("1 || 0 && 0", "LONG", 1),
    ("!n", "LONG", 0),
    ("!0", "LONG", 1),
    ("'true' && 1", "LONG", 1),
    ("'yes' && 1", "LONG", 0),
    ("'it\\'s'", "STRING", "it's"),
    ('"s"', "STRING", "Hello"),
    # null propagation
    ("e", "STRING", None),
    ("n + e", "LONG", None),
    ("concat(s, e)", "STRING", None),
    ("null", "STRING", None),
    ("isnull(e)", "LONG", 1),
    ("notnull(s)", "LONG", 1),
    ("nvl(e, 'x')", "STRING", "x"),
    ("nvl(n, 0)", "LONG", 7),
    # strings
    ("concat(s, '-', n)", "STRING", "Hello-7"),
    ("s + 'X'", "STRING", "HelloX"),
    ("lower(s)", "STRING", "hello"),
    ("upper(s)", "STRING", "HELLO"),
    ("substring(s, 1, 3)", "STRING", "ell"),
    ("substring(s, 2, -1)", "STRING", "llo"),
    ("strlen(s)", "LONG", 5),
    ("strlen('a\U0001f600b')", "LONG", 4),  # Java counts UTF-16 units: the emoji is two
    ("strlen('h\u00e9llo')", "LONG", 5),
    ("replace(s, 'l', 'L')", "STRING", "HeLLo"),
    ("strpos(s, 'l')", "LONG", 2),
    ("strpos(s, 'z')", "LONG", -1),
    ("trim('  a  ')", "STRING", "a"),
    ("ltrim('xxaxx', 'x')", "STRING", "axx"),
    ("rtrim('xxaxx', 'x')", "STRING", "xxa"),
    ("like(s, 'He%')", "LONG", 1),
    ("like(s, 'he%')", "LONG", 0),
    ("regexp_extract('abc123def', '[0-9]+')", "STRING", "123"),
    ("regexp_extract('abc123def', '([a-z]+)([0-9]+)', 2)", "STRING", "123"),
    ("regexp_extract(s, '[0-9]+')", "STRING", None),
    # conditionals and casts
    ("if(n > 5, 'big', 'small')", "STRING", "big"),
    ("case_searched(n < 5, 'low', n < 10, 'mid', 'high')", "STRING", "mid"),
    ("case_searched(n > 50, 'high')", "STRING", None),
    ("case_simple(s, 'Bye', 1, 'Hello', 2, 3)", "LONG", 2),
    ("cast('3.7', 'DOUBLE') + 1", "DOUBLE", 4.7),
    ("cast(d, 'LONG')", "LONG", 2),
    ("cast(n, 'STRING')", "STRING", "7"),
    # math
    ("abs(-3)", "LONG", 3),
    ("abs(-2.5)", "DOUBLE", 2.5),
    ("floor(d)", "DOUBLE", 2.0),
    ("ceil(d)", "DOUBLE", 3.0),
    ("round(d)", "DOUBLE", 3.0),
    ("round(3.14159, 2)", "DOUBLE", 3.14),
    ("greatest(1, n, 3)", "LONG", 7),
    ("least(1.5, n, d)", "DOUBLE", 1.5),
    # time (epoch milliseconds)
    ("__time", "LONG", 1704104430456),
    ("timestamp_floor(__time, 'PT1H')", "LONG", 1704103200000),
    # 02:20 in Los Angeles: the day starts at 08:00 UTC
    ("timestamp_floor(__time, 'P1D', null, 'America/Los_Angeles')", "LONG", 1704096000000),
    ("timestamp_extract(__time, 'HOUR')", "LONG", 10),
    ("timestamp_extract(__time, 'MINUTE')", "LONG", 20),
    ("timestamp_extract(__time, 'YEAR')", "LONG", 2024),
    ("timestamp_extract(__time, 'DOW')", "LONG", 1),
    ("timestamp_extract(__time, 'EPOCH')", "LONG", 1704104430),
    ("timestamp_format(__time)", "STRING", "2024-01-01T10:20:30.456Z"),
    ("timestamp_format(__time, 'yyyy/MM/dd HH:mm')", "STRING", "2024/01/01 10:20"),
    ("timestamp('2024-01-01T00:00:00Z')", "LONG", 1704067200000),
    ("timestamp('01/02/2024', 'MM/dd/yyyy')", "LONG", 1704153600000),
    ("unix_timestamp('2024-01-01T00:00:00Z')", "LONG", 1704067200),
    ("timestamp('2024-01-01T05:00:00+05:00')", "LONG", 1704067200000),
    ("timestamp('not a time')", "LONG", None),
]


@pytest.mark.parametrize(("expression", "output_type", "expected"), CASES)
def test_expression_value(
    druid: LocalDruid, one: str, expression: str, output_type: str, expected: Any
) -> None:
    assert evaluate(druid, one, expression, output_type) == expected


@pytest.mark.parametrize(
    "expression", ["1 +", "concat(s", "s s", "'open", "1 ** 2", ")", "9223372036854775808"]
)
def test_syntax_error_is_invalid_input(druid: LocalDruid, one: str, expression: str) -> None:
    resp = druid.post(
        {
            "queryType": "timeseries",
            "dataSource": one,
            "intervals": [DAY],
            "granularity": "all",
            "filter": {"type": "expression", "expression": expression},
            "aggregations": [{"type": "count", "name": "rows"}],
        }
    )
    assert resp.status_code == 400, resp.text
    assert "Invalid expression" in resp.json()["errorMessage"]


def test_unknown_function_is_unsupported(druid: LocalDruid, one: str) -> None:
    resp = druid.post(
        {
            "queryType": "timeseries",
            "dataSource": one,
            "intervals": [DAY],
            "granularity": "all",
            "virtualColumns": [{"type": "expression", "name": "v", "expression": "frobnicate(s)"}],
            "aggregations": [{"type": "count", "name": "rows", "fieldName": "v"}],
            "filter": {"type": "selector", "dimension": "v", "value": "x"},
        }
    )
    assert resp.status_code == 501, resp.text
    assert "frobnicate" in resp.json()["errorMessage"]


def test_unsupported_time_format_letter(druid: LocalDruid, one: str) -> None:
    resp = druid.post(
        {
            "queryType": "timeseries",
            "dataSource": one,
            "intervals": [DAY],
            "granularity": "all",
            "filter": {"type": "expression", "expression": "timestamp_format(__time, 'ww') == 'x'"},
            "aggregations": [{"type": "count", "name": "rows"}],
        }
    )
    assert resp.status_code == 501, resp.text


# -- uses: virtual columns, filters, aggregators, post-aggregators over `edits` ------------------
# Stored rows of `edits` (after rollup): channel/page/user/added
#   en A alice 10 | en B bob 25 | fr A carol 7 | de C alice 1 | en A dave 100 | null D bob 3


def test_expression_filter(druid: LocalDruid, edits: str) -> None:
    query = timeseries(edits, filter={"type": "expression", "expression": "added > 9"})
    assert druid.query(query)[0]["result"]["rows"] == 3


def test_expression_filter_null_never_matches(druid: LocalDruid, edits: str) -> None:
    query = timeseries(
        edits,
        filter={
            "type": "not",
            "field": {"type": "expression", "expression": "channel == 'en'"},
        },
    )
    assert druid.query(query)[0]["result"]["rows"] == 2


def test_virtual_column_as_dimension_and_aggregator_input(druid: LocalDruid, edits: str) -> None:
    result = druid.query(
        {
            "queryType": "groupBy",
            "dataSource": edits,
            "intervals": [INTERVAL],
            "granularity": "all",
            "virtualColumns": [
                {"type": "expression", "name": "big", "expression": "if(added >= 10, 'y', 'n')"},
                {"type": "expression", "name": "twice", "expression": "added * 2"},
                {"type": "expression", "name": "half", "expression": "twice / 4"},
            ],
            "dimensions": ["big"],
            "aggregations": [
                {"type": "longSum", "name": "twice", "fieldName": "twice"},
                {"type": "longSum", "name": "half", "fieldName": "half"},
            ],
        }
    )
    rows = {r["event"]["big"]: (r["event"]["twice"], r["event"]["half"]) for r in result}
    # y: 10+25+100 → 270, halves 5+12+50; n: 7+1+3 → 22, halves 3+0+1
    assert rows == {"y": (270, 67), "n": (22, 4)}


def test_virtual_column_in_topn_with_output_type(druid: LocalDruid, edits: str) -> None:
    result = druid.query(
        {
            "queryType": "topN",
            "dataSource": edits,
            "intervals": [INTERVAL],
            "granularity": "all",
            "virtualColumns": [
                {
                    "type": "expression",
                    "name": "who",
                    "expression": "upper(substring(user, 0, 1))",
                    "outputType": "STRING",
                }
            ],
            "dimension": "who",
            "metric": "added",
            "threshold": 2,
            "aggregations": [{"type": "longSum", "name": "added", "fieldName": "added"}],
        }
    )
    assert result[0]["result"] == [{"who": "D", "added": 100}, {"who": "B", "added": 28}]


def test_aggregator_expression_and_expression_post_aggregator(
    druid: LocalDruid, edits: str
) -> None:
    query = timeseries(
        edits,
        aggregations=[
            {"type": "count", "name": "rows"},
            {"type": "longSum", "name": "big", "expression": "if(added > 9, added, 0)"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
        ],
        postAggregations=[
            {"type": "expression", "name": "share", "expression": "big * 100 / added"},
            {"type": "expression", "name": "avg", "expression": "added / cast(rows, 'DOUBLE')"},
        ],
    )
    result = druid.query(query)[0]["result"]
    # big 10+25+100 = 135 of 146; long division 13500 / 146 = 92
    assert result == {"rows": 6, "big": 135, "added": 146, "share": 92, "avg": 146 / 6}


def test_virtual_columns_in_scan(druid: LocalDruid, edits: str) -> None:
    query = {
        "queryType": "scan",
        "dataSource": edits,
        "intervals": [INTERVAL],
        "resultFormat": "compactedList",
        "virtualColumns": [
            {"type": "expression", "name": "label", "expression": "concat(channel, ':', page)"},
            {"type": "expression", "name": "added", "expression": "strlen(user) * 10"},
        ],
        "columns": ["user", "label", "added"],
        "filter": {"type": "selector", "dimension": "user", "value": "alice"},
    }
    batches = druid.query(query)
    rows = [row for batch in batches for row in batch["events"]]
    # The virtual `added` shadows the stored metric.
    assert sorted(rows) == [["alice", "de:C", 50], ["alice", "en:A", 50]]
    assert batches[0]["rowSignature"] == [
        {"name": "user", "type": "STRING"},
        {"name": "label", "type": "STRING"},
        {"name": "added", "type": "LONG"},
    ]


def test_virtual_columns_in_scan_without_columns_come_after_time(
    druid: LocalDruid, one: str
) -> None:
    query = {
        "queryType": "scan",
        "dataSource": one,
        "intervals": [DAY],
        "resultFormat": "compactedList",
        "virtualColumns": [{"type": "expression", "name": "v", "expression": "strlen(s) + n"}],
    }
    batch = druid.query(query)[0]
    assert batch["columns"] == ["__time", "v", "s", "e", "n", "d"]
    assert batch["events"] == [[1704104430456, 12, "Hello", None, 7, 2.5]]


def test_self_referential_virtual_column_is_invalid(druid: LocalDruid, edits: str) -> None:
    query = timeseries(
        edits,
        virtualColumns=[{"type": "expression", "name": "added", "expression": "added * 2"}],
        filter={"type": "expression", "expression": "added > 1"},
    )
    resp = druid.post(query)
    assert resp.status_code == 400, resp.text


def test_virtual_column_in_search_filter(druid: LocalDruid, edits: str) -> None:
    query: dict[str, Any] = {
        "queryType": "search",
        "dataSource": edits,
        "intervals": [INTERVAL],
        "granularity": "all",
        "virtualColumns": [{"type": "expression", "name": "who", "expression": "upper(user)"}],
        "filter": {"type": "selector", "dimension": "who", "value": "ALICE"},
        "searchDimensions": ["page"],
        "query": {"type": "contains", "value": ""},
    }
    result = druid.query(query)
    assert result[0]["result"] == [
        {"dimension": "page", "value": "A", "count": 1},
        {"dimension": "page", "value": "C", "count": 1},
    ]
    query["searchDimensions"] = ["who"]
    assert druid.post(query).status_code == 501


def test_unknown_virtual_column_type_is_unsupported(druid: LocalDruid, edits: str) -> None:
    query = timeseries(
        edits,
        virtualColumns=[{"type": "nested-field", "name": "v", "columnName": "x", "path": "$.a"}],
    )
    assert druid.post(query).status_code == 501


def test_expression_post_aggregator_unknown_name_is_unsupported(
    druid: LocalDruid, edits: str
) -> None:
    query = timeseries(
        edits,
        postAggregations=[{"type": "expression", "name": "x", "expression": "channel + 1"}],
    )
    assert druid.post(query).status_code == 501


def test_strlen_counts_utf16_units_everywhere(druid: LocalDruid) -> None:
    """The strlen extraction function and the strlen ordering count as Java's String.length():
    a character beyond U+FFFF is two units."""
    rows = [
        {"timestamp": "2024-01-01T00:00:00Z", "w": w}
        for w in ["a\U0001f600b", "h\u00e9llo", "abcd"]
    ]
    druid.ingest(inline_task("expr_utf16", rows, dimensions=["w"], rollup=False))
    base = {
        "queryType": "groupBy",
        "dataSource": "expr_utf16",
        "intervals": [DAY],
        "granularity": "all",
        "aggregations": [{"type": "count", "name": "rows"}],
    }
    strlen = {
        "type": "extraction",
        "dimension": "w",
        "outputName": "len",
        "extractionFn": {"type": "strlen"},
    }
    lengths = druid.query({**base, "dimensions": ["w", strlen]})
    assert {row["event"]["w"]: row["event"]["len"] for row in lengths} == {
        "a\U0001f600b": "4",
        "h\u00e9llo": "5",
        "abcd": "4",
    }
    # Length first, then the text: "a\U0001f600b" (4 units) is at or above "aaaa".
    bound = {"type": "bound", "dimension": "w", "lower": "aaaa", "ordering": "strlen"}
    kept = druid.query({**base, "dimensions": ["w"], "filter": bound})
    assert sorted(row["event"]["w"] for row in kept) == ["abcd", "a\U0001f600b", "h\u00e9llo"]
