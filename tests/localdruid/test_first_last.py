"""First and last aggregators over HTTP: ties on __time resolved in segment order, nulls, and
first/last metrics stored at ingestion as (time, value) pairs."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from tests.localdruid.harness import LocalDruid, inline_task

INTERVAL = "2024-05-01/2024-05-02"

# Rows of `fl_ties`, given out of order. A rolled-up segment sorts rows of the same time by its
# dimensions in order (k first, nulls first), so at 10:00 the segment order (k: v, x, y) is
#   null: from-null, 5, 0.5 | a: from-a, 9, 9.5 | b: from-b, 2, 2.5 | c: from-c, 1, -1.0
# and at 11:00: x: x1, 3, 3.5 | y: y1, 4, 4.5.
TIES = [
    {"timestamp": "2024-05-01T10:00:00Z", "k": "c", "v": "from-c", "x": 1, "y": -1.0},
    {"timestamp": "2024-05-01T10:00:00Z", "k": None, "v": "from-null", "x": 5, "y": 0.5},
    {"timestamp": "2024-05-01T10:00:00Z", "k": "b", "v": "from-b", "x": 2, "y": 2.5},
    {"timestamp": "2024-05-01T10:00:00Z", "k": "a", "v": "from-a", "x": 9, "y": 9.5},
    {"timestamp": "2024-05-01T11:00:00Z", "k": "y", "v": "y1", "x": 4, "y": 4.5},
    {"timestamp": "2024-05-01T11:00:00Z", "k": "x", "v": "x1", "x": 3, "y": 3.5},
]
TIE_DIMENSIONS: list[Any] = [
    "k",
    "v",
    {"type": "long", "name": "x"},
    {"type": "double", "name": "y"},
]

FIRST_LAST = [
    {"type": "stringFirst", "name": "sf", "fieldName": "v"},
    {"type": "stringLast", "name": "sl", "fieldName": "v"},
    {"type": "longFirst", "name": "lf", "fieldName": "x"},
    {"type": "longLast", "name": "ll", "fieldName": "x"},
    {"type": "doubleFirst", "name": "df", "fieldName": "y"},
    {"type": "doubleLast", "name": "dl", "fieldName": "y"},
]


@pytest.fixture(scope="module")
def ties(druid: LocalDruid) -> str:
    druid.ingest(
        inline_task(
            "fl_ties", TIES, dimensions=TIE_DIMENSIONS, metrics=[{"type": "count", "name": "n"}]
        )
    )
    return "fl_ties"


def timeseries(datasource: Any, granularity: str, **fields: Any) -> dict[str, Any]:
    query = {
        "queryType": "timeseries",
        "dataSource": datasource,
        "intervals": [INTERVAL],
        "granularity": granularity,
        "aggregations": FIRST_LAST,
    }
    query.update(fields)
    return query


HOUR_10 = {"sf": "from-null", "sl": "from-c", "lf": 5, "ll": 1, "df": 0.5, "dl": -1.0}
HOUR_11 = {"sf": "x1", "sl": "y1", "lf": 3, "ll": 4, "df": 3.5, "dl": 4.5}


def test_ties_on_time_follow_segment_order(druid: LocalDruid, ties: str) -> None:
    rows = druid.query(timeseries(ties, "hour"))
    assert [r["result"] for r in rows] == [HOUR_10, HOUR_11]


def test_ties_over_all_time(druid: LocalDruid, ties: str) -> None:
    [row] = druid.query(timeseries(ties, "all"))
    assert row["result"] == {
        "sf": "from-null",
        "sl": "y1",
        "lf": 5,
        "ll": 4,
        "df": 0.5,
        "dl": 4.5,
    }


def test_ties_in_groupby_and_filtered_timeseries(druid: LocalDruid, ties: str) -> None:
    query = {
        "queryType": "groupBy",
        "dataSource": ties,
        "intervals": [INTERVAL],
        "granularity": "all",
        "dimensions": [
            {"type": "default", "dimension": "x", "outputName": "odd", "outputType": "LONG"}
        ],
        "filter": {"type": "in", "dimension": "k", "values": ["a", "b", "c"]},
        "aggregations": FIRST_LAST[:2],
    }
    rows = druid.query(query)
    assert [(r["event"]["odd"], r["event"]["sf"], r["event"]["sl"]) for r in rows] == [
        (1, "from-c", "from-c"),
        (2, "from-b", "from-b"),
        (9, "from-a", "from-a"),
    ]
    query.pop("dimensions")
    query.update(queryType="timeseries")
    [row] = druid.query(query)
    assert row["result"] == {"sf": "from-a", "sl": "from-c"}


def test_ties_over_a_union(druid: LocalDruid, ties: str) -> None:
    # A second table whose rows sort before and after fl_ties' in its own segment order.
    other = [
        {"timestamp": "2024-05-01T12:00:00Z", "k": "q", "v": "q1", "x": 7, "y": 7.5},
        {"timestamp": "2024-05-01T12:00:00Z", "k": "p", "v": "p1", "x": 6, "y": 6.5},
    ]
    druid.ingest(inline_task("fl_ties_b", other, dimensions=TIE_DIMENSIONS))
    union = {"type": "union", "dataSources": [ties, "fl_ties_b"]}
    rows = druid.query(timeseries(union, "hour"))
    assert [r["result"] for r in rows] == [
        HOUR_10,
        HOUR_11,
        {"sf": "p1", "sl": "q1", "lf": 6, "ll": 7, "df": 6.5, "dl": 7.5},
    ]


def test_inline_rows_keep_their_order(druid: LocalDruid) -> None:
    inline = {
        "type": "inline",
        "columnNames": ["__time", "v", "x"],
        "columnTypes": ["LONG", "STRING", "LONG"],
        "rows": [[5, "b", 2], [5, "a", 1], [5, "c", 3], [9, "late", 0], [9, "later", 4]],
    }
    query = {
        "queryType": "timeseries",
        "dataSource": inline,
        "intervals": ["1970-01-01/1970-01-02"],
        "granularity": "all",
        "aggregations": [
            {"type": "stringFirst", "name": "sf", "fieldName": "v"},
            {"type": "stringLast", "name": "sl", "fieldName": "v"},
            {"type": "longFirst", "name": "lf", "fieldName": "x"},
            {"type": "longLast", "name": "ll", "fieldName": "x"},
        ],
    }
    [row] = druid.query(query)
    assert row["result"] == {"sf": "b", "sl": "later", "lf": 2, "ll": 4}


def test_a_null_value_still_counts_as_first_and_last(druid: LocalDruid) -> None:
    rows = [
        {"timestamp": "2024-05-01T09:00:00Z", "k": "a", "x": None, "y": None, "v": None},
        {"timestamp": "2024-05-01T10:00:00Z", "k": "b", "x": 4, "y": 4.5, "v": "mid"},
        {"timestamp": "2024-05-01T12:00:00Z", "k": "c"},
    ]
    druid.ingest(inline_task("fl_nulls", rows, dimensions=TIE_DIMENSIONS))
    [row] = druid.query(timeseries("fl_nulls", "all"))
    assert row["result"] == {"sf": None, "sl": None, "lf": None, "ll": None, "df": None, "dl": None}
    [empty] = druid.query(timeseries("fl_nulls", "all", intervals=["2024-05-01T00:00/PT1H"]))
    assert empty["result"] == {
        "sf": None,
        "sl": None,
        "lf": None,
        "ll": None,
        "df": None,
        "dl": None,
    }


# -- first/last metrics at ingestion -----------------------------------------------------------

# Rows of `fl_metrics` in input order, rolled up by hour and k. (10:00, a) keeps first (10:05 a1,
# input before the other 10:05 row) and last (10:50 a3-tie, input after the other 10:50 row);
# (10:00, b) keeps (10:30 b1) for both; (11:00, a) keeps (11:10, null) for both.
METRIC_ROWS = [
    {"timestamp": "2024-05-01T10:20:00Z", "k": "a", "v": "a2", "x": 2, "y": 2.5},
    {"timestamp": "2024-05-01T10:05:00Z", "k": "a", "v": "a1", "x": 1, "y": 1.5},
    {"timestamp": "2024-05-01T10:50:00Z", "k": "a", "v": "a3", "x": 3, "y": 3.5},
    {"timestamp": "2024-05-01T10:05:00Z", "k": "a", "v": "a1-tie", "x": 11, "y": 11.5},
    {"timestamp": "2024-05-01T10:50:00Z", "k": "a", "v": "a3-tie", "x": 13, "y": 13.5},
    {"timestamp": "2024-05-01T11:10:00Z", "k": "a"},
    {"timestamp": "2024-05-01T10:30:00Z", "k": "b", "v": "b1", "x": 5, "y": 5.25},
]
METRICS = [
    {"type": "count", "name": "n"},
    {"type": "stringFirst", "name": "sf", "fieldName": "v"},
    {"type": "stringLast", "name": "sl", "fieldName": "v"},
    {"type": "longFirst", "name": "lf", "fieldName": "x"},
    {"type": "longLast", "name": "ll", "fieldName": "x"},
    {"type": "doubleFirst", "name": "df", "fieldName": "y"},
    {"type": "doubleLast", "name": "dl", "fieldName": "y"},
    {"type": "floatFirst", "name": "ff", "fieldName": "y"},
    {"type": "floatLast", "name": "fl", "fieldName": "y"},
]
# The same aggregators over the stored columns, and a longFirst over the double pairs.
OVER_STORED = [
    {"type": "longSum", "name": "n", "fieldName": "n"},
    *({**m, "fieldName": m["name"]} for m in METRICS[1:]),
    {"type": "longFirst", "name": "lf_of_df", "fieldName": "df"},
]


def ingest_metrics(druid: LocalDruid, datasource: str) -> None:
    druid.ingest(
        inline_task(
            datasource, METRIC_ROWS, dimensions=["k"], metrics=METRICS, query_granularity="hour"
        )
    )


def stored_series(druid: LocalDruid, datasource: str, granularity: str) -> list[Any]:
    rows = druid.query(
        {
            "queryType": "timeseries",
            "dataSource": datasource,
            "intervals": [INTERVAL],
            "granularity": granularity,
            "aggregations": OVER_STORED,
        }
    )
    return [(r["timestamp"], r["result"]) for r in rows]


NULLS = {"sf": None, "sl": None, "lf": None, "ll": None, "df": None, "dl": None}
FIRST_A1 = {"sf": "a1", "lf": 1, "df": 1.5, "ff": 1.5, "lf_of_df": 1}


def test_metrics_roll_up_pairs_and_compare_stored_times(druid: LocalDruid) -> None:
    ingest_metrics(druid, "fl_metrics")
    # In the 10:00 bucket both stored rows have __time 10:00 (a before b in segment order); the
    # stored times decide: last is a's 10:50 pair, not b's 10:30 one.
    assert stored_series(druid, "fl_metrics", "hour") == [
        (
            "2024-05-01T10:00:00.000Z",
            {"n": 6, **FIRST_A1, "sl": "a3-tie", "ll": 13, "dl": 13.5, "fl": 13.5},
        ),
        ("2024-05-01T11:00:00.000Z", {"n": 1, **NULLS, "ff": None, "fl": None, "lf_of_df": None}),
    ]
    assert stored_series(druid, "fl_metrics", "all") == [
        (
            "2024-05-01T10:00:00.000Z",
            {"n": 7, **FIRST_A1, "sl": None, "ll": None, "dl": None, "fl": None},
        )
    ]


def test_metrics_grouped_by_dimension(druid: LocalDruid) -> None:
    ingest_metrics(druid, "fl_grouped")
    rows = druid.query(
        {
            "queryType": "groupBy",
            "dataSource": "fl_grouped",
            "intervals": [INTERVAL],
            "granularity": "all",
            "dimensions": ["k"],
            "aggregations": OVER_STORED[1:3],
        }
    )
    assert [r["event"] for r in rows] == [
        {"k": "a", "sf": "a1", "sl": None},
        {"k": "b", "sf": "b1", "sl": "b1"},
    ]


def test_metrics_reported_by_segment_metadata(druid: LocalDruid) -> None:
    ingest_metrics(druid, "fl_meta")
    [analysis] = druid.query(
        {
            "queryType": "segmentMetadata",
            "dataSource": "fl_meta",
            "intervals": [INTERVAL],
            "analysisTypes": ["aggregators"],
        }
    )
    aggregators = analysis["aggregators"]
    assert aggregators["sf"] == {
        "type": "stringFirst",
        "name": "sf",
        "fieldName": "v",
        "timeColumn": "__time",
        "maxStringBytes": 1024,
    }
    assert aggregators["dl"] == {
        "type": "doubleLast",
        "name": "dl",
        "fieldName": "y",
        "timeColumn": "__time",
    }
    assert analysis["columns"]["sf"]["typeSignature"] == "COMPLEX<serializablePairLongString>"
    assert analysis["columns"]["ll"]["type"] == "serializablePairLongLong"


def test_metrics_after_compaction_to_day(druid: LocalDruid) -> None:
    ingest_metrics(druid, "fl_compact")
    druid.ingest(
        {
            "type": "compact",
            "dataSource": "fl_compact",
            "ioConfig": {
                "type": "compact",
                "inputSpec": {"type": "interval", "interval": INTERVAL},
            },
            "granularitySpec": {"queryGranularity": "day"},
        }
    )
    # Two rows now, (a) and (b) at midnight; the pairs keep their own times.
    assert stored_series(druid, "fl_compact", "hour") == [
        (
            "2024-05-01T00:00:00.000Z",
            {"n": 7, **FIRST_A1, "sl": None, "ll": None, "dl": None, "fl": None},
        )
    ]
    [row] = druid.query(
        {
            "queryType": "timeseries",
            "dataSource": "fl_compact",
            "intervals": [INTERVAL],
            "granularity": "all",
            "filter": {"type": "selector", "dimension": "k", "value": "b"},
            "aggregations": [{"type": "count", "name": "rows"}, *OVER_STORED[1:3]],
        }
    )
    assert row["result"] == {"rows": 1, "sf": "b1", "sl": "b1"}


def test_metrics_appended_and_reindexed(druid: LocalDruid) -> None:
    ingest_metrics(druid, "fl_append")
    later = [
        {"timestamp": "2024-05-01T09:59:00Z", "k": "a", "v": "early", "x": 0, "y": 0.25},
        {"timestamp": "2024-05-01T12:00:00Z", "k": "c", "v": "late", "x": 9, "y": 9.75},
    ]
    druid.ingest(
        inline_task(
            "fl_append",
            later,
            dimensions=["k"],
            metrics=METRICS,
            query_granularity="hour",
            append=True,
        )
    )
    everything = {
        "n": 9,
        "sf": "early",
        "sl": "late",
        "lf": 0,
        "ll": 9,
        "df": 0.25,
        "dl": 9.75,
        "ff": 0.25,
        "fl": 9.75,
        "lf_of_df": 0,
    }
    assert stored_series(druid, "fl_append", "all") == [("2024-05-01T09:00:00.000Z", everything)]
    # Re-read through the druid input source into a day-granularity table: the stored pairs
    # combine by their own times.
    task = inline_task(
        "fl_reindexed",
        [],
        dimensions=[],
        metrics=[OVER_STORED[0], *OVER_STORED[1:-1]],
        query_granularity="day",
        timestamp={"column": "__time", "format": "millis"},
    )
    task["spec"]["ioConfig"]["inputSource"] = {
        "type": "druid",
        "dataSource": "fl_append",
        "interval": INTERVAL,
    }
    druid.ingest(task)
    assert stored_series(druid, "fl_reindexed", "all") == [("2024-05-01T00:00:00.000Z", everything)]


def test_other_aggregators_over_a_pair_column_answer_501(druid: LocalDruid) -> None:
    ingest_metrics(druid, "fl_501")
    query = timeseries(
        "fl_501", "all", aggregations=[{"type": "longSum", "name": "s", "fieldName": "lf"}]
    )
    assert druid.post(query).status_code == 501
    mismatched = [{"type": "stringFirst", "name": "s", "fieldName": "lf"}]
    assert druid.post(timeseries("fl_501", "all", aggregations=mismatched)).status_code == 501
    other_time = [{"type": "longFirst", "name": "s", "fieldName": "x", "timeColumn": "t2"}]
    assert druid.post(timeseries("fl_501", "all", aggregations=other_time)).status_code == 501


def _wait_for(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_streamed_pairs_combine_at_handoff(druid: LocalDruid) -> None:
    spec = {
        "type": "localdruid",
        "spec": {
            "dataSchema": {
                "dataSource": "fl_stream",
                "timestampSpec": {"column": "ts", "format": "millis"},
                "dimensionsSpec": {"dimensions": ["k"]},
                "metricsSpec": METRICS[:3],
                "granularitySpec": {"segmentGranularity": "second", "queryGranularity": "second"},
            },
            "ioConfig": {"lateMessageRejectionPeriod": "PT1S"},
        },
    }
    resp = requests.post(f"{druid.url}/druid/indexer/v1/supervisor", json=spec, timeout=10)
    assert resp.status_code == 200, resp.text
    stream = resp.json()["id"]
    second = (int(time.time() * 1000) + 2000) // 1000 * 1000  # a chunk still open meanwhile
    pushes = [
        [{"ts": second + 500, "k": "a", "v": "mid"}, {"ts": second + 100, "k": "a", "v": "early"}],
        [
            {"ts": second + 100, "k": "a", "v": "early-tie"},
            {"ts": second + 900, "k": "a", "v": "late"},
        ],
        [{"ts": second + 900, "k": "a", "v": "late-tie"}],
    ]
    for events in pushes:
        resp = requests.post(
            f"{druid.url}/localdruid/v1/push/{stream}", data=json.dumps(events), timeout=30
        )
        assert resp.status_code == 200, resp.text

    def totals() -> dict[str, Any]:
        query = timeseries("fl_stream", "all", intervals=["2000/2100"])
        query["aggregations"] = [
            {"type": "count", "name": "rows"},
            {"type": "longSum", "name": "n", "fieldName": "n"},
            *OVER_STORED[1:3],
        ]
        return dict(druid.query(query)[0]["result"])

    assert totals()["n"] == 5
    # Handed off, the pushes' rows become one: the first push's pair wins the tie for first,
    # the last push's for last.
    assert _wait_for(lambda: totals()["rows"] == 1)
    assert totals() == {"rows": 1, "n": 5, "sf": "early", "sl": "late-tie"}
