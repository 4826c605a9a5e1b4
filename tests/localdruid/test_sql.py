"""Druid SQL over real HTTP: each supported construct planned into a native query, the result
formats and headers, SQL null logic, time conditions as intervals, and the 400/501 errors."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from localdruid.sql_planner import sql_plan
from localdruid.sql_results import java_double_text, java_float_text
from localdruid.storage import Column, Datasource, Segment
from tests.localdruid.harness import LocalDruid, inline_task

SQL = "/druid/v2/sql"
ERROR_KEYS = {"error", "errorMessage", "errorClass", "host"}
ROWS = [
    {"timestamp": "2024-01-01T00:10:00Z", "page": "Apple", "user": "al", "tag": "x", "added": 10,
     "ratio": 0.5},
    {"timestamp": "2024-01-01T00:50:00Z", "page": "Apple", "user": "bo", "added": 20, "ratio": 1.5},
    {"timestamp": "2024-01-01T01:30:00Z", "page": "Banana", "user": "al", "tag": "y", "added": 5},
    {"timestamp": "2024-01-01T02:15:00Z", "page": "Cherry", "user": "cy", "tag": "x", "ratio": 2.0},
    {"timestamp": "2024-01-02T03:00:00Z", "page": "Apple", "user": "cy", "tag": "", "added": 7,
     "ratio": 0.25},
]  # fmt: skip
DIMENSIONS = [
    "page",
    "user",
    "tag",
    {"type": "long", "name": "added"},
    {"type": "double", "name": "ratio"},
]


@pytest.fixture(scope="session")
def edits(druid: LocalDruid) -> str:
    """Five edits, one per row (no rollup): `tag` is null in one row and empty in another,
    `added` is null in one row and `ratio` in another."""
    druid.ingest(inline_task("sql_edits", ROWS, dimensions=DIMENSIONS, rollup=False))
    return "sql_edits"


@pytest.fixture(scope="session")
def texts(druid: LocalDruid) -> str:
    """Values that CSV must quote, doubles Java prints in scientific notation, and floats."""
    rows = [
        {"timestamp": "2024-01-01T00:00:00Z", "label": 'a,"b"', "big": 12345678.0, "f": 0.1},
        {"timestamp": "2024-01-01T00:00:01Z", "label": "line\nbreak", "big": 0.0001, "f": 2.5},
    ]
    dims = ["label", {"type": "double", "name": "big"}, {"type": "float", "name": "f"}]
    druid.ingest(inline_task("sql_texts", rows, dimensions=dims, rollup=False))
    return "sql_texts"


def sql(druid: LocalDruid, query: str, **fields: Any) -> requests.Response:
    return druid.post({"query": query, **fields}, path=SQL)


def rows(druid: LocalDruid, query: str, **fields: Any) -> Any:
    resp = sql(druid, query, **fields)
    assert resp.status_code == 200, resp.text
    return resp.json()


def error(druid: LocalDruid, query: str, status: int, **fields: Any) -> dict[str, Any]:
    resp = sql(druid, query, **fields)
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == ERROR_KEYS
    return dict(body)


# -- SELECT ------------------------------------------------------------------------------------


def test_select_star_is_time_then_the_segment_columns(druid: LocalDruid, edits: str) -> None:
    result = rows(druid, f'SELECT * FROM "{edits}"')
    assert [list(r) for r in result] == [["__time", "page", "user", "tag", "added", "ratio"]] * 5
    assert result == [
        {"__time": "2024-01-01T00:10:00.000Z", "page": "Apple", "user": "al", "tag": "x",
         "added": 10, "ratio": 0.5},
        {"__time": "2024-01-01T00:50:00.000Z", "page": "Apple", "user": "bo", "tag": None,
         "added": 20, "ratio": 1.5},
        {"__time": "2024-01-01T01:30:00.000Z", "page": "Banana", "user": "al", "tag": "y",
         "added": 5, "ratio": None},
        {"__time": "2024-01-01T02:15:00.000Z", "page": "Cherry", "user": "cy", "tag": "x",
         "added": None, "ratio": 2.0},
        {"__time": "2024-01-02T03:00:00.000Z", "page": "Apple", "user": "cy", "tag": "",
         "added": 7, "ratio": 0.25},
    ]  # fmt: skip
    assert isinstance(result[0]["added"], int) and isinstance(result[3]["ratio"], float)


def test_select_columns_aliases_and_schema(druid: LocalDruid, edits: str) -> None:
    assert rows(druid, f'SELECT page AS p, e."user" FROM druid."{edits}" e WHERE e.added = 5') == [
        {"p": "Banana", "user": "al"}
    ]


def test_aggregates_without_group_by(druid: LocalDruid, edits: str) -> None:
    query = (
        "SELECT COUNT(*), COUNT(added), COUNT(tag), SUM(added), SUM(ratio), MIN(ratio), "
        f'MAX(added), AVG(added), AVG(ratio), COUNT(DISTINCT "user"), MIN(__time) FROM {edits}'
    )
    [result] = rows(druid, query)
    # COUNT(col) skips nulls but not the empty tag; AVG(added) = 42 / 4 rows = 10.5, and an
    # average of BIGINT is a BIGINT in Druid (truncated); AVG(ratio) = 4.25 / 4.
    assert result == {
        "EXPR$0": 5,
        "EXPR$1": 4,
        "EXPR$2": 4,
        "EXPR$3": 42,
        "EXPR$4": 4.25,
        "EXPR$5": 0.25,
        "EXPR$6": 20,
        "EXPR$7": 10,
        "EXPR$8": 1.0625,
        "EXPR$9": 3,
        "EXPR$10": "2024-01-01T00:10:00.000Z",
    }
    assert isinstance(result["EXPR$7"], int) and isinstance(result["EXPR$4"], float)


def test_float_column_sums_widen_to_double(druid: LocalDruid, texts: str) -> None:
    """Druid sums and averages a FLOAT column as DOUBLE (0.1f is 0.10000000149011612 then);
    MIN and MAX keep FLOAT."""
    query = f"SELECT SUM(f) s, AVG(f) a, MIN(f) lo, MAX(f) hi FROM {texts}"
    assert rows(druid, query) == [
        {"s": 2.600000001490116, "a": 1.300000000745058, "lo": 0.1, "hi": 2.5}
    ]
    typed = rows(druid, query, resultFormat="array", header=True, sqlTypesHeader=True)
    assert typed[1] == ["DOUBLE", "DOUBLE", "FLOAT", "FLOAT"]


def test_aggregates_over_no_rows(druid: LocalDruid, edits: str) -> None:
    query = f"SELECT COUNT(*) c, SUM(added) s, AVG(ratio) a FROM {edits} WHERE page = 'Kiwi'"
    assert rows(druid, query) == [{"c": 0, "s": None, "a": None}]


def test_group_by_order_limit_offset(druid: LocalDruid, edits: str) -> None:
    query = f"SELECT page, COUNT(*) AS n, SUM(added) AS s FROM {edits} GROUP BY page"
    # Without ORDER BY, groupBy's own order: by the dimension.
    assert rows(druid, query) == [
        {"page": "Apple", "n": 3, "s": 37},
        {"page": "Banana", "n": 1, "s": 5},
        {"page": "Cherry", "n": 1, "s": None},
    ]
    assert rows(druid, query + " ORDER BY n DESC, page DESC LIMIT 2") == [
        {"page": "Apple", "n": 3, "s": 37},
        {"page": "Cherry", "n": 1, "s": None},
    ]
    assert rows(druid, query + " ORDER BY 1 DESC LIMIT 1 OFFSET 1") == [
        {"page": "Banana", "n": 1, "s": 5}
    ]


def test_group_by_alias_ordinal_and_hidden_aggregate(druid: LocalDruid, edits: str) -> None:
    query = (
        f"SELECT page AS p, COUNT(*) FROM {edits} GROUP BY p "
        'ORDER BY COUNT(DISTINCT "user") DESC, 1 DESC'
    )
    assert rows(druid, query) == [
        {"p": "Apple", "EXPR$1": 3},
        {"p": "Cherry", "EXPR$1": 1},
        {"p": "Banana", "EXPR$1": 1},
    ]


def test_select_distinct_groups(druid: LocalDruid, edits: str) -> None:
    assert rows(druid, f"SELECT DISTINCT page FROM {edits}") == [
        {"page": "Apple"},
        {"page": "Banana"},
        {"page": "Cherry"},
    ]
    # Apple has three tags (x, null, ""): one row each; ties keep groupBy's order (null first).
    query = f"SELECT DISTINCT page, tag FROM {edits} WHERE page = 'Apple' ORDER BY page LIMIT 2"
    assert rows(druid, query) == [{"page": "Apple", "tag": None}, {"page": "Apple", "tag": ""}]


def test_group_by_numeric_column_orders_numbers(druid: LocalDruid, edits: str) -> None:
    query = f"SELECT added, COUNT(*) c FROM {edits} GROUP BY added ORDER BY added DESC"
    assert rows(druid, query) == [
        {"added": 20, "c": 1},
        {"added": 10, "c": 1},
        {"added": 7, "c": 1},
        {"added": 5, "c": 1},
        {"added": None, "c": 1},
    ]


def test_group_by_time_floor(druid: LocalDruid, edits: str) -> None:
    hourly = f"SELECT TIME_FLOOR(__time, 'PT1H') AS h, COUNT(*) FROM {edits} GROUP BY 1"
    # A timeseries: hours without rows are skipped, as no group holds them.
    assert rows(druid, hourly) == [
        {"h": "2024-01-01T00:00:00.000Z", "EXPR$1": 2},
        {"h": "2024-01-01T01:00:00.000Z", "EXPR$1": 1},
        {"h": "2024-01-01T02:00:00.000Z", "EXPR$1": 1},
        {"h": "2024-01-02T03:00:00.000Z", "EXPR$1": 1},
    ]
    daily = f"SELECT FLOOR(__time TO DAY), SUM(added) s FROM {edits} GROUP BY 1 ORDER BY 1 DESC"
    assert rows(druid, daily) == [
        {"EXPR$0": "2024-01-02T00:00:00.000Z", "s": 7},
        {"EXPR$0": "2024-01-01T00:00:00.000Z", "s": 35},
    ]
    top_day = (
        f"SELECT FLOOR(__time TO DAY) d, COUNT(*) c FROM {edits} GROUP BY 1 ORDER BY c LIMIT 1"
    )
    assert rows(druid, top_day) == [{"d": "2024-01-02T00:00:00.000Z", "c": 1}]


def test_group_by_time_floor_and_column(druid: LocalDruid, edits: str) -> None:
    query = f"SELECT FLOOR(__time TO DAY) d, page, COUNT(*) c FROM {edits} GROUP BY 1, 2"
    assert rows(druid, query) == [
        {"d": "2024-01-01T00:00:00.000Z", "page": "Apple", "c": 2},
        {"d": "2024-01-01T00:00:00.000Z", "page": "Banana", "c": 1},
        {"d": "2024-01-01T00:00:00.000Z", "page": "Cherry", "c": 1},
        {"d": "2024-01-02T00:00:00.000Z", "page": "Apple", "c": 1},
    ]


def test_time_floor_in_a_time_zone(druid: LocalDruid, edits: str) -> None:
    """Los Angeles days (UTC-8 in January) start at 08:00 UTC; the four edits before
    2024-01-01T08:00Z fall on December 31 there. Timestamps come back in UTC (sqlTimeZone)."""
    day = "TIME_FLOOR(__time, 'P1D', NULL, 'America/Los_Angeles')"
    assert rows(druid, f"SELECT {day} d, COUNT(*) c FROM {edits} GROUP BY 1") == [
        {"d": "2023-12-31T08:00:00.000Z", "c": 4},
        {"d": "2024-01-01T08:00:00.000Z", "c": 1},
    ]
    by_page = f"SELECT {day} d, page, COUNT(*) c FROM {edits} GROUP BY 1, 2 ORDER BY c DESC LIMIT 1"
    assert rows(druid, by_page) == [{"d": "2023-12-31T08:00:00.000Z", "page": "Apple", "c": 2}]
    body = error(druid, f"SELECT TIME_FLOOR(__time, 'P1D', NULL, 'Mars/Base') FROM {edits}", 400)
    assert "Mars/Base" in body["errorMessage"]


def test_group_by_time_column(druid: LocalDruid, edits: str) -> None:
    query = f"SELECT __time, COUNT(*) FROM {edits} GROUP BY __time ORDER BY __time DESC LIMIT 2"
    assert rows(druid, query) == [
        {"__time": "2024-01-02T03:00:00.000Z", "EXPR$1": 1},
        {"__time": "2024-01-01T02:15:00.000Z", "EXPR$1": 1},
    ]


def test_having(druid: LocalDruid, edits: str) -> None:
    base = f"SELECT page, SUM(added) s FROM {edits} GROUP BY page"
    assert rows(druid, base + " HAVING COUNT(*) > 1") == [{"page": "Apple", "s": 37}]
    # Cherry's null sum fails the comparison; Banana (5) and Apple (37) pass, ordered by s.
    assert rows(druid, base + " HAVING s >= 5 ORDER BY s") == [
        {"page": "Banana", "s": 5},
        {"page": "Apple", "s": 37},
    ]
    assert rows(druid, base + " HAVING s >= 5 AND page <> 'Apple'") == [{"page": "Banana", "s": 5}]
    assert rows(druid, f"SELECT COUNT(*) c FROM {edits} HAVING COUNT(*) > 10") == []


# -- WHERE -------------------------------------------------------------------------------------


def pages(druid: LocalDruid, edits: str, condition: str) -> list[str]:
    result = rows(druid, f"SELECT __time, page FROM {edits} WHERE {condition}")
    return [f"{r['page']}@{r['__time'][11:16]}" for r in result]


def test_where_three_valued_logic(druid: LocalDruid, edits: str) -> None:
    # The null tag (Apple@00:50) is neither equal nor unequal to 'x'; the empty one is a value.
    assert pages(druid, edits, "tag = 'x'") == ["Apple@00:10", "Cherry@02:15"]
    assert pages(druid, edits, "tag <> 'x'") == ["Banana@01:30", "Apple@03:00"]
    assert pages(druid, edits, "NOT (tag = 'x')") == ["Banana@01:30", "Apple@03:00"]
    assert pages(druid, edits, "tag NOT IN ('x', 'y')") == ["Apple@03:00"]
    assert pages(druid, edits, "tag IN ('y', '')") == ["Banana@01:30", "Apple@03:00"]
    assert pages(druid, edits, "tag IS NULL") == ["Apple@00:50"]
    assert pages(druid, edits, "tag IS NOT NULL AND added IS NULL") == ["Cherry@02:15"]
    assert pages(druid, edits, "NOT (added > 7)") == ["Banana@01:30", "Apple@03:00"]


def test_where_comparisons_like_between(druid: LocalDruid, edits: str) -> None:
    assert pages(druid, edits, "page LIKE 'A%' AND added > 7") == ["Apple@00:10", "Apple@00:50"]
    assert pages(druid, edits, "page NOT LIKE 'A%'") == ["Banana@01:30", "Cherry@02:15"]
    assert pages(druid, edits, "page LIKE 'B!%' ESCAPE '!'") == []
    assert pages(druid, edits, "added BETWEEN 5 AND 10") == [
        "Apple@00:10",
        "Banana@01:30",
        "Apple@03:00",
    ]
    assert pages(druid, edits, "ratio >= 1.5 OR added < 6") == [
        "Apple@00:50",
        "Banana@01:30",
        "Cherry@02:15",
    ]
    assert pages(druid, edits, "'B' < page AND page <= 'Banana'") == ["Banana@01:30"]
    assert pages(druid, edits, "added IN (5, 20)") == ["Apple@00:50", "Banana@01:30"]


def test_where_on_time(druid: LocalDruid, edits: str) -> None:
    between = "__time BETWEEN TIMESTAMP '2024-01-01 00:50:00' AND TIMESTAMP '2024-01-01 01:30:00'"
    assert pages(druid, edits, between) == ["Apple@00:50", "Banana@01:30"]  # both ends kept
    half_open = (
        "__time >= TIMESTAMP '2024-01-01 00:50:00' AND __time < TIMESTAMP '2024-01-01 01:30:00'"
    )
    assert pages(druid, edits, half_open) == ["Apple@00:50"]
    points = (
        "__time = TIMESTAMP '2024-01-01 00:10:00' "
        "OR __time IN (TIMESTAMP '2024-01-02 03:00:00', TIMESTAMP '2024-01-02 03:00:00.001')"
    )
    assert pages(druid, edits, points) == ["Apple@00:10", "Apple@03:00"]
    assert pages(druid, edits, "NOT __time <> TIMESTAMP '2024-01-01 02:15:00'") == ["Cherry@02:15"]
    mixed = "__time > TIMESTAMP '2024-01-01 02:00:00' OR page = 'Banana'"
    assert pages(druid, edits, mixed) == ["Banana@01:30", "Cherry@02:15", "Apple@03:00"]
    never = "__time < TIMESTAMP '2024-01-01 00:00:00' AND __time > TIMESTAMP '2024-01-02 00:00:00'"
    assert pages(druid, edits, never) == []
    before = f"SELECT COUNT(*) c FROM {edits} WHERE __time < TIMESTAMP '2024-01-01 01:00:00'"
    assert rows(druid, before) == [{"c": 2}]


def test_qualified_star_count_of_literal_and_time_order_unselected(
    druid: LocalDruid, edits: str
) -> None:
    assert rows(druid, f"SELECT e.* FROM {edits} e") == rows(druid, f"SELECT * FROM {edits}")
    assert rows(druid, f"SELECT COUNT(1) c FROM {edits}") == [{"c": 5}]
    latest = f"SELECT page FROM {edits} ORDER BY __time DESC LIMIT 2"
    assert rows(druid, latest) == [{"page": "Apple"}, {"page": "Cherry"}]


def test_scan_order_limit_offset(druid: LocalDruid, edits: str) -> None:
    latest = f"SELECT __time AS t, page FROM {edits} ORDER BY t DESC LIMIT 2"
    assert rows(druid, latest) == [
        {"t": "2024-01-02T03:00:00.000Z", "page": "Apple"},
        {"t": "2024-01-01T02:15:00.000Z", "page": "Cherry"},
    ]
    assert rows(druid, f"SELECT page FROM {edits} LIMIT 2 OFFSET 3") == [
        {"page": "Cherry"},
        {"page": "Apple"},
    ]
    assert rows(druid, f"SELECT page FROM {edits} LIMIT 0") == []
    floors = f"SELECT FLOOR(__time TO HOUR) h FROM {edits} WHERE page = 'Banana'"
    assert rows(druid, floors) == [{"h": "2024-01-01T01:00:00.000Z"}]


def test_dynamic_parameters(druid: LocalDruid, edits: str) -> None:
    query = f"SELECT page, added FROM {edits} WHERE added > ? AND page = ? AND __time < ?"
    parameters = [
        {"type": "BIGINT", "value": 5},
        {"type": "VARCHAR", "value": "Apple"},
        {"type": "TIMESTAMP", "value": "2024-01-01 00:30:00"},
    ]
    assert rows(druid, query, parameters=parameters) == [{"page": "Apple", "added": 10}]
    missing = error(druid, query, 400, parameters=parameters[:1])
    assert "parameter" in missing["errorMessage"]


def test_sql_and_native_give_the_same_numbers(druid: LocalDruid, edits: str) -> None:
    query = (
        f"SELECT page, COUNT(*) AS n, SUM(added) AS added, MAX(ratio) AS top FROM {edits} "
        "WHERE __time >= TIMESTAMP '2024-01-01 00:00:00' "
        "AND __time < TIMESTAMP '2024-01-02 00:00:00' "
        "AND tag IS NOT NULL GROUP BY page ORDER BY added DESC"
    )
    native = {
        "queryType": "groupBy",
        "dataSource": edits,
        "intervals": ["2024-01-01/2024-01-02"],
        "granularity": "all",
        "filter": {"type": "not", "field": {"type": "null", "column": "tag"}},
        "dimensions": ["page"],
        "aggregations": [
            {"type": "count", "name": "n"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
            {"type": "doubleMax", "name": "top", "fieldName": "ratio"},
        ],
        "limitSpec": {
            "type": "default",
            "columns": [
                {"dimension": "added", "direction": "descending", "dimensionOrder": "numeric"}
            ],
        },
    }
    from_native = [r["event"] for r in druid.query(native)]
    from_sql = rows(druid, query)
    assert from_sql == [{k: e[k] for k in ("page", "n", "added", "top")} for e in from_native]
    assert from_sql == [
        {"page": "Apple", "n": 1, "added": 10, "top": 0.5},
        {"page": "Banana", "n": 1, "added": 5, "top": None},
        {"page": "Cherry", "n": 1, "added": None, "top": 2.0},
    ]


# -- result formats ----------------------------------------------------------------------------


def test_result_format_object_with_headers(druid: LocalDruid, edits: str) -> None:
    query = f"SELECT __time, page, added FROM {edits} LIMIT 1"
    resp = sql(druid, query, header=True, typesHeader=True, sqlTypesHeader=True)
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers["X-Druid-SQL-Header-Included"] == "yes"
    assert resp.json() == [
        {
            "__time": {"type": "LONG", "sqlType": "TIMESTAMP"},
            "page": {"type": "STRING", "sqlType": "VARCHAR"},
            "added": {"type": "LONG", "sqlType": "BIGINT"},
        },
        {"__time": "2024-01-01T00:10:00.000Z", "page": "Apple", "added": 10},
    ]
    assert rows(druid, query, header=True) == [
        {"__time": None, "page": None, "added": None},
        {"__time": "2024-01-01T00:10:00.000Z", "page": "Apple", "added": 10},
    ]
    assert "X-Druid-SQL-Header-Included" not in sql(druid, query).headers


def test_result_format_array(druid: LocalDruid, edits: str) -> None:
    query = f"SELECT page, added, ratio FROM {edits} LIMIT 2"
    assert rows(druid, query, resultFormat="array") == [["Apple", 10, 0.5], ["Apple", 20, 1.5]]
    assert rows(
        druid, query, resultFormat="ARRAY", header=True, typesHeader=True, sqlTypesHeader=True
    ) == [
        ["page", "added", "ratio"],
        ["STRING", "LONG", "DOUBLE"],
        ["VARCHAR", "BIGINT", "DOUBLE"],
        ["Apple", 10, 0.5],
        ["Apple", 20, 1.5],
    ]


def test_result_format_lines(druid: LocalDruid, edits: str) -> None:
    query = f"SELECT page, tag FROM {edits} LIMIT 2"
    resp = sql(druid, query, resultFormat="objectLines", header=True, typesHeader=True)
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == (
        '{"page":{"type":"STRING"},"tag":{"type":"STRING"}}\n'
        '{"page":"Apple","tag":"x"}\n'
        '{"page":"Apple","tag":null}\n'
        "\n"
    )
    resp = sql(druid, query, resultFormat="arrayLines")
    assert resp.text == '["Apple","x"]\n["Apple",null]\n\n'
    assert sql(druid, f"SELECT page FROM {edits} LIMIT 0", resultFormat="arrayLines").text == "\n"


def test_result_format_csv(druid: LocalDruid, edits: str, texts: str) -> None:
    query = f"SELECT __time, page, tag, added, ratio FROM {edits} WHERE page = 'Apple'"
    resp = sql(druid, query, resultFormat="csv", header=True, sqlTypesHeader=True)
    assert resp.headers["content-type"].startswith("text/csv")
    assert resp.text == (
        "__time,page,tag,added,ratio\n"
        "TIMESTAMP,VARCHAR,VARCHAR,BIGINT,DOUBLE\n"
        "2024-01-01T00:10:00.000Z,Apple,x,10,0.5\n"
        "2024-01-01T00:50:00.000Z,Apple,,20,1.5\n"
        "2024-01-02T03:00:00.000Z,Apple,,7,0.25\n"
        "\n"
    )
    quoted = sql(druid, f"SELECT label, big FROM {texts}", resultFormat="csv")
    assert quoted.text == '"a,""b""",1.2345678E7\n"line\nbreak",1.0E-4\n\n'


def test_bad_result_format(druid: LocalDruid, edits: str) -> None:
    body = error(druid, f"SELECT page FROM {edits}", 400, resultFormat="table")
    assert "resultFormat" in body["errorMessage"]


def test_java_number_text() -> None:
    assert [java_double_text(v) for v in (0.5, 1.0, 1e7, 1234567.0, 0.001, 0.0001, -2.5e-9)] == [
        "0.5",
        "1.0",
        "1.0E7",
        "1234567.0",
        "0.001",
        "1.0E-4",
        "-2.5E-9",
    ]
    assert [java_double_text(v) for v in (0.0, -0.0, float("nan"), float("-inf"))] == [
        "0.0",
        "-0.0",
        "NaN",
        "-Infinity",
    ]
    assert java_float_text(0.1) == "0.1" and java_float_text(1.1e8) == "1.1E8"


# -- the request ---------------------------------------------------------------------------


def test_query_id_header_and_plain_text_body(druid: LocalDruid, edits: str) -> None:
    resp = sql(druid, f"SELECT COUNT(*) c FROM {edits}", context={"sqlQueryId": "sql-test-1"})
    assert resp.headers["X-Druid-SQL-Query-Id"] == "sql-test-1"
    plain = requests.post(
        f"{druid.url}{SQL}",
        data=f"SELECT COUNT(*) c FROM {edits}",
        headers={"Content-Type": "text/plain"},
        timeout=30,
        auth=druid.auth,
    )
    assert plain.status_code == 200 and plain.json() == [{"c": 5}]
    assert plain.headers["X-Druid-SQL-Query-Id"]


def test_cancel_unknown_sql_query(druid: LocalDruid) -> None:
    resp = requests.delete(f"{druid.url}{SQL}/no-such-query", timeout=30, auth=druid.auth)
    assert resp.status_code == 404


# -- errors ------------------------------------------------------------------------------------


def test_parse_error(druid: LocalDruid) -> None:
    body = error(druid, "SELEC page FROM x", 400)
    assert body["error"] == "SQL parse failed"
    assert body["errorClass"] == "org.apache.calcite.sql.parser.SqlParseException"
    assert error(druid, "SELECT 1; SELECT 2", 400)["error"] == "SQL parse failed"
    assert error(druid, "SELECT page FROM sql_edits WHERE page IN ()", 400)["error"] == (
        "SQL parse failed"
    )


def test_validation_errors(druid: LocalDruid, edits: str) -> None:
    cases = {
        "SELECT * FROM no_such_table": "Object 'no_such_table' not found",
        f"SELECT nope FROM {edits}": "Column 'nope' not found in any table",
        f"SELECT page FROM {edits} WHERE x.page = 'a'": "Table 'x' not found",
        f'SELECT page, "user" FROM {edits} GROUP BY page': "Expression 'user' is not being grouped",
        f"SELECT SUM(page) FROM {edits}": "Cannot apply 'SUM' to arguments of type",
        f"SELECT AVG(__time) FROM {edits}": "Cannot apply 'AVG' to arguments of type",
        f"SELECT page FROM {edits} GROUP BY 3": "Ordinal out of range",
    }
    for query, message in cases.items():
        body = error(druid, query, 400)
        assert body["error"] == "Plan validation failed", query
        assert message in body["errorMessage"], query


def test_scan_ordered_by_other_column_is_refused(druid: LocalDruid, edits: str) -> None:
    body = error(druid, f"SELECT page FROM {edits} ORDER BY page", 400)
    assert body["errorMessage"] == (
        "SQL query requires ordering a table by non-time column [[page]], which is not supported."
    )


def test_unsupported_constructs_answer_501(druid: LocalDruid, edits: str) -> None:
    cases = {
        f"SELECT a.page FROM {edits} a JOIN {edits} b ON a.page = b.page": "JOIN",
        f"SELECT UPPER(page) FROM {edits}": "UPPER",
        f"SELECT page FROM (SELECT page FROM {edits})": "subquery",
        f"SELECT page FROM {edits} UNION ALL SELECT page FROM {edits}": "UNION",
        f"SELECT DISTINCT COUNT(*) FROM {edits}": "SELECT DISTINCT of aggregates",
        "SELECT 1": "without FROM",
        "SELECT * FROM INFORMATION_SCHEMA.TABLES": "INFORMATION_SCHEMA",
        f"SELECT page FROM {edits} WHERE page = 1": "comparing STRING column [page]",
        f"SELECT page FROM {edits} WHERE page = NULL": "NULL",
        f"SELECT TIME_FLOOR(__time, 'PT1H', TIMESTAMP '2024-01-01 00:30:00') FROM {edits}": (
            "origin"
        ),
        f"SELECT COUNT(*) FROM {edits} WHERE __time < TIMESTAMP '2000-01-01 00:00:00' "
        "AND __time > TIMESTAMP '2001-01-01 00:00:00'": "no time",
        "EXPLAIN PLAN FOR SELECT 1": "EXPLAIN",
        f"SELECT page, COUNT(*) OVER () FROM {edits}": "OVER",
        f"SELECT SUM(DISTINCT added) FROM {edits}": "SUM(DISTINCT)",
        f"SELECT page FROM {edits} TABLESAMPLE SYSTEM (10)": "SAMPLE",
        f"SELECT page, SUM(added) s FROM {edits} GROUP BY 1 ORDER BY s NULLS LAST": "NULLS LAST",
        f"SELECT page FROM {edits} WHERE page = 'a' || 'b'": "['a' || 'b']",
    }
    for query, construct in cases.items():
        body = error(druid, query, 501)
        assert construct in body["errorMessage"], query
    zone = error(druid, f"SELECT page FROM {edits}", 501, context={"sqlTimeZone": "Asia/Tokyo"})
    assert "sqlTimeZone" in zone["errorMessage"]


def test_sql_task_answers_501(druid: LocalDruid) -> None:
    resp = druid.post({"query": "SELECT 1"}, path=f"{SQL}/task")
    assert resp.status_code == 501


@pytest.mark.parametrize(
    "query",
    [
        "",
        "SELECT",
        "SELECT * FROM sql_edits WHERE",
        "SELECT COUNT(*) FROM sql_edits GROUP BY COUNT(*)",
        "SELECT page FROM sql_edits WHERE __time > 5",
        "SELECT page FROM sql_edits WHERE __time > TIMESTAMP 'noon'",
        "SELECT page FROM sql_edits LIMIT -1",
        "SELECT SUM(SUM(added)) FROM sql_edits",
        "SELECT page FROM sql_edits WHERE COUNT(*) > 1",
        "SELECT * , page FROM sql_edits",
        "INSERT INTO sql_edits SELECT * FROM sql_edits",
    ],
)
def test_never_a_server_error(druid: LocalDruid, edits: str, query: str) -> None:
    resp = sql(druid, query)
    assert resp.status_code in (400, 501), resp.text
    assert set(resp.json()) == ERROR_KEYS


def test_outer_limit_from_context(druid: LocalDruid, edits: str) -> None:
    query = f"SELECT page FROM {edits}"
    assert rows(druid, query, context={"sqlOuterLimit": 2}) == [{"page": "Apple"}] * 2
    assert len(rows(druid, query + " LIMIT 1", context={"sqlOuterLimit": 3})) == 1


# -- the plans (no engine: sql_plan is a pure function of the SQL and the catalog) -----------


def catalog() -> dict[str, Datasource]:
    columns = {
        "page": Column("page", "c1", "STRING", "dimension"),
        "added": Column("added", "c2", "LONG", "dimension"),
    }
    segment = Segment(
        id=1,
        start=1_704_067_200_000,
        end=1_704_153_600_000,
        version="v1",
        partition=0,
        min_time=1_704_067_200_000,
        max_time=1_704_153_599_999,
        num_rows=1,
        dimensions=("page", "added"),
        metrics=(),
    )
    return {"wiki": Datasource("wiki", "ds_1", columns, (segment,))}


def native(query: str) -> dict[str, Any]:
    return sql_plan(query, catalog=catalog(), context={}).native


def test_plan_puts_time_conditions_in_intervals() -> None:
    day = (
        "SELECT page FROM wiki WHERE __time >= TIMESTAMP '2024-01-01 00:00:00' "
        "AND page = 'a' AND __time < TIMESTAMP '2024-01-02 00:00:00'"
    )
    plan = native(day)
    assert plan["intervals"] == {
        "type": "intervals",
        "intervals": ["2024-01-01T00:00:00.000Z/2024-01-02T00:00:00.000Z"],
    }
    assert plan["filter"] == {
        "type": "equals",
        "column": "page",
        "matchValueType": "STRING",
        "matchValue": "a",
    }
    between = native(
        "SELECT page FROM wiki WHERE __time BETWEEN TIMESTAMP '2024-01-01 00:00:00' "
        "AND TIMESTAMP '2024-01-01 01:00:00' OR __time = TIMESTAMP '2024-01-03 00:00:00'"
    )
    assert between["intervals"]["intervals"] == [
        "2024-01-01T00:00:00.000Z/2024-01-01T01:00:00.001Z",
        "2024-01-03T00:00:00.000Z/2024-01-03T00:00:00.001Z",
    ]
    assert "filter" not in between
    assert native("SELECT page FROM wiki")["intervals"]["intervals"] == [
        "-146136543-09-08T08:23:32.096Z/146140482-04-24T15:36:27.903Z"
    ]
    inside_or = native(
        "SELECT page FROM wiki WHERE __time >= TIMESTAMP '2024-01-01 12:00:00' OR page = 'a'"
    )
    assert inside_or["filter"]["fields"][0] == {
        "type": "range",
        "column": "__time",
        "matchValueType": "LONG",
        "lower": 1_704_110_400_000,
    }


def test_plan_query_types() -> None:
    scan = native("SELECT __time, page FROM wiki ORDER BY __time DESC LIMIT 5")
    assert (scan["queryType"], scan["order"], scan["limit"]) == ("scan", "descending", 5)
    assert scan["columns"] == ["__time", "page"]
    hourly = native("SELECT TIME_FLOOR(__time, 'PT1H'), SUM(added) FROM wiki GROUP BY 1")
    assert hourly["queryType"] == "timeseries"
    assert hourly["granularity"] == {"type": "period", "period": "PT1H", "timeZone": "UTC"}
    assert hourly["aggregations"] == [{"type": "longSum", "name": "a0", "fieldName": "added"}]
    assert hourly["context"]["skipEmptyBuckets"] is True
    top = native("SELECT page, COUNT(*) c FROM wiki GROUP BY page ORDER BY c DESC LIMIT 3")
    assert top["queryType"] == "groupBy"
    assert top["dimensions"] == [
        {"type": "default", "dimension": "page", "outputName": "d0", "outputType": "STRING"}
    ]
    assert top["limitSpec"] == {
        "type": "default",
        "columns": [{"dimension": "a0", "direction": "descending", "dimensionOrder": "numeric"}],
        "limit": 3,
    }
    average = native("SELECT AVG(added) FROM wiki")
    assert average["postAggregations"][0]["fn"] == "quotient"
