"""The scan query over real HTTP: batches per segment, both result formats, column choice,
limit/offset batching, time order, filters, intervals, and Druid-shaped refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.localdruid.conftest import INTERVAL
from tests.localdruid.harness import LocalDruid, inline_task

DAY1, NOON1, MORNING2, EVENING2 = 1704067200000, 1704110400000, 1704175200000, 1704218400000
ALL_COLUMNS = ["__time", "page", "channel", "count", "added", "weight"]
SIGNATURE = [
    {"name": "__time", "type": "LONG"},
    {"name": "page", "type": "STRING"},
    {"name": "channel", "type": "STRING"},
    {"name": "count", "type": "LONG"},
    {"name": "added", "type": "LONG"},
    {"name": "weight", "type": "FLOAT"},
]
# Each segment's rows in the order its cursor reads them: __time, then page, then channel,
# nulls first; "" is a value of its own.
DAY1_ROWS = [
    [DAY1, "A", None, 1, 3, 1.5],
    [DAY1, "B", "en", 1, 5, 0.1],
    [NOON1, "", "fr", 1, 1, 2.0],
]
DAY2_ROWS = [
    [MORNING2, None, "de", 1, 2, 3.0],
    [MORNING2, "C", "en", 1, 10, 0.25],
    [EVENING2, "A", "en", 1, 7, 0.5],
]


@pytest.fixture(scope="session")
def scanned(druid: LocalDruid) -> dict[str, str]:
    """Two day segments of three rows each; returns each day's segment id (from
    segmentMetadata, since the version is the ingestion time)."""
    rows = [
        {"timestamp": "2024-01-02T18:00:00Z", "page": "A", "channel": "en", "added": 7, "w": 0.5},
        {"timestamp": "2024-01-01T00:00:00Z", "page": "B", "channel": "en", "added": 5, "w": 0.1},
        {"timestamp": "2024-01-01T12:00:00Z", "page": "", "channel": "fr", "added": 1, "w": 2},
        {"timestamp": "2024-01-02T06:00:00Z", "page": "C", "channel": "en", "added": 10, "w": 0.25},
        {"timestamp": "2024-01-01T00:00:00Z", "page": "A", "added": 3, "w": 1.5},
        {"timestamp": "2024-01-02T06:00:00Z", "channel": "de", "added": 2, "w": 3},
    ]
    metrics = [
        {"type": "count", "name": "count"},
        {"type": "longSum", "name": "added", "fieldName": "added"},
        {"type": "floatSum", "name": "weight", "fieldName": "w"},
    ]
    druid.ingest(inline_task("scanned", rows, dimensions=["page", "channel"], metrics=metrics))
    meta = druid.query(
        {
            "queryType": "segmentMetadata",
            "dataSource": "scanned",
            "intervals": [INTERVAL],
            "analysisTypes": [],
        }
    )
    return {m["id"].split("_")[1][:10]: m["id"] for m in meta}


def scan(**fields: Any) -> dict[str, Any]:
    query: dict[str, Any] = {"queryType": "scan", "dataSource": "scanned", "intervals": [INTERVAL]}
    query.update(fields)
    return query


def batch(
    segment: str | None, columns: list[str], events: list[Any], signature: list[Any]
) -> dict[str, Any]:
    return {"segmentId": segment, "columns": columns, "events": events, "rowSignature": signature}


def as_maps(rows: list[list[Any]], columns: list[str] = ALL_COLUMNS) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def error(druid: LocalDruid, query: dict[str, Any], status: int) -> dict[str, Any]:
    resp = druid.post(query)
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "errorMessage", "errorClass", "host"}
    return dict(body)


def test_segment_ids_name_datasource_interval_and_version(scanned: dict[str, str]) -> None:
    assert scanned["2024-01-01"].startswith(
        "scanned_2024-01-01T00:00:00.000Z_2024-01-02T00:00:00.000Z_"
    )
    assert scanned["2024-01-02"].startswith(
        "scanned_2024-01-02T00:00:00.000Z_2024-01-03T00:00:00.000Z_"
    )


def test_scan_all_columns_as_list(druid: LocalDruid, scanned: dict[str, str]) -> None:
    assert druid.query(scan()) == [
        batch(scanned["2024-01-01"], ALL_COLUMNS, as_maps(DAY1_ROWS), SIGNATURE),
        batch(scanned["2024-01-02"], ALL_COLUMNS, as_maps(DAY2_ROWS), SIGNATURE),
    ]
    # An empty column list also means every column; Druid 31+ ignores `legacy`.
    assert druid.query(scan(columns=[], resultFormat="list")) == druid.query(scan())
    assert druid.query(scan(legacy=True, batchSize=0)) == druid.query(scan())


def test_scan_compacted_list_of_chosen_columns_with_a_missing_one(
    druid: LocalDruid, scanned: dict[str, str]
) -> None:
    columns = ["added", "nope", "__time"]
    signature = [{"name": "added", "type": "LONG"}, {"name": "nope"}, SIGNATURE[0]]
    result = druid.query(scan(columns=columns, resultFormat="compactedList"))
    assert result == [
        batch(
            scanned["2024-01-01"],
            columns,
            [[3, None, DAY1], [5, None, DAY1], [1, None, NOON1]],
            signature,
        ),
        batch(
            scanned["2024-01-02"],
            columns,
            [[2, None, MORNING2], [10, None, MORNING2], [7, None, EVENING2]],
            signature,
        ),
    ]


def test_limit_and_offset_keep_druids_batches(druid: LocalDruid, scanned: dict[str, str]) -> None:
    # Batches of two within each segment: [A B] [""] | [null C] [A]. The limit keeps four
    # rows (offset + limit), the offset then drops the first one from its batch.
    result = druid.query(scan(columns=["page"], batchSize=2, limit=3, offset=1))
    signature = [SIGNATURE[1]]
    assert result == [
        batch(scanned["2024-01-01"], ["page"], [{"page": "B"}], signature),
        batch(scanned["2024-01-01"], ["page"], [{"page": ""}], signature),
        batch(scanned["2024-01-02"], ["page"], [{"page": None}], signature),
    ]
    assert druid.query(scan(columns=["page"], offset=6)) == []
    # A limit of 0 is no limit, as in Druid.
    assert sum(len(b["events"]) for b in druid.query(scan(limit=0))) == 6


def test_time_order_across_segments(druid: LocalDruid, scanned: dict[str, str]) -> None:
    columns = ["__time", "page"]
    signature = SIGNATURE[:2]
    descending = druid.query(
        scan(
            columns=columns, order="descending", limit=4, batchSize=3, resultFormat="compactedList"
        )
    )
    # Time-ordered batches mix segments, so Druid names none of them.
    assert descending == [
        batch(None, columns, [[EVENING2, "A"], [MORNING2, "C"], [MORNING2, None]], signature),
        batch(None, columns, [[NOON1, ""]], signature),
    ]
    ascending = druid.query(scan(columns=columns, order="ascending", resultFormat="compactedList"))
    assert ascending == [
        batch(
            None,
            columns,
            [
                [DAY1, "A"],
                [DAY1, "B"],
                [NOON1, ""],
                [MORNING2, None],
                [MORNING2, "C"],
                [EVENING2, "A"],
            ],
            signature,
        )
    ]
    by = druid.query(
        scan(
            columns=columns,
            orderBy=[{"columnName": "__time", "order": "descending"}],
            limit=4,
            batchSize=3,
            resultFormat="compactedList",
        )
    )
    assert by == descending


def test_filters_nulls_and_empty_strings(druid: LocalDruid, scanned: dict[str, str]) -> None:
    columns = ["__time", "page", "channel"]
    en = druid.query(
        scan(
            columns=columns,
            resultFormat="compactedList",
            filter={"type": "selector", "dimension": "channel", "value": "en"},
        )
    )
    assert [b["events"] for b in en] == [
        [[DAY1, "B", "en"]],
        [[MORNING2, "C", "en"], [EVENING2, "A", "en"]],
    ]
    empty = druid.query(
        scan(columns=columns, filter={"type": "selector", "dimension": "page", "value": ""})
    )
    assert empty == [
        batch(
            scanned["2024-01-01"],
            columns,
            [{"__time": NOON1, "page": "", "channel": "fr"}],
            SIGNATURE[:3],
        )
    ]
    null = druid.query(
        scan(
            columns=columns, resultFormat="compactedList", filter={"type": "null", "column": "page"}
        )
    )
    assert [b["events"] for b in null] == [[[MORNING2, None, "de"]]]
    nothing = {"type": "selector", "dimension": "page", "value": "Z"}
    assert druid.query(scan(filter=nothing)) == []


def test_each_query_interval_reads_a_segment_in_its_own_batch(
    druid: LocalDruid, scanned: dict[str, str]
) -> None:
    intervals = ["2024-01-01T00:00/2024-01-01T06:00", "2024-01-01T10:00/2024-01-02T07:00"]
    result = druid.query(
        scan(intervals=intervals, columns=["__time", "page"], resultFormat="compactedList")
    )
    day1, day2 = scanned["2024-01-01"], scanned["2024-01-02"]
    assert [(b["segmentId"], b["events"]) for b in result] == [
        (day1, [[DAY1, "A"], [DAY1, "B"]]),
        (day1, [[NOON1, ""]]),
        (day2, [[MORNING2, None], [MORNING2, "C"]]),
    ]
    assert druid.query(scan(intervals=["2023-01-01/2023-02-01"])) == []
    assert druid.query(scan(dataSource="no_such_datasource")) == []


def test_druid_corpus_sparse_columns(druid: LocalDruid) -> None:
    """Druid's msq-sparse-column expectation (corpus), ingested natively with the same rollup:
    all-null dimensions scan as nulls, in the dimensions' order, metrics last."""
    data = [
        ("C", "F", None),
        ("C", "J", None),
        ("H", "X", None),
        ("Z", "S", None),
        ("H", "X", None),
        ("H", "Z", None),
        ("J", "R", None),
        ("H", "T", None),
        ("H", "X", None),
        (None, "X", "A"),
    ]
    rows = []
    for dim_a, dim_b, dim_c in data:
        row: dict[str, Any] = {"time": "2015-09-12T00:46:58.771Z", "dimB": dim_b, "metA": 1}
        row.update({k: v for k, v in (("dimA", dim_a), ("dimC", dim_c)) if v is not None})
        rows.append(row)
    task = inline_task(
        "sparse",
        rows,
        dimensions=["dimB", "dimA", "dimC", "dimD", "dimE", "dimF"],
        metrics=[
            {"type": "count", "name": "count"},
            {"type": "longSum", "name": "sum_metA", "fieldName": "metA"},
        ],
        segment_granularity="hour",
        query_granularity="hour",
        timestamp={"column": "time", "format": "iso"},
    )
    druid.ingest(task)
    result = druid.query(
        {
            "queryType": "scan",
            "dataSource": "sparse",
            "intervals": ["2013-01-01/2020-01-02"],
            "resultFormat": "compactedList",
        }
    )
    assert len(result) == 1
    assert result[0]["columns"] == [
        "__time", "dimB", "dimA", "dimC", "dimD", "dimE", "dimF", "count", "sum_metA",
    ]  # fmt: skip
    hour = 1442016000000
    assert result[0]["events"] == [
        [hour, "F", "C", None, None, None, None, 1, 1],
        [hour, "J", "C", None, None, None, None, 1, 1],
        [hour, "R", "J", None, None, None, None, 1, 1],
        [hour, "S", "Z", None, None, None, None, 1, 1],
        [hour, "T", "H", None, None, None, None, 1, 1],
        [hour, "X", None, "A", None, None, None, 1, 1],
        [hour, "X", "H", None, None, None, None, 3, 3],
        [hour, "Z", "H", None, None, None, None, 1, 1],
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"resultFormat": "bogus"}, "Scan query result format [bogus] is not supported."),
        ({"order": "ascending", "columns": ["page"]}, "The __time column must be selected"),
        ({"order": "sideways"}, "unknown order [sideways]"),
        ({"limit": -1}, "limit must be greater than 0"),
        ({"offset": -1}, "offset must be greater than or equal to 0"),
        ({"batchSize": -5}, "batchSize must be greater than 0"),
        (
            {"order": "ascending", "orderBy": [{"columnName": "__time", "order": "descending"}]},
            "Cannot provide 'order' incompatible with 'orderBy'",
        ),
        ({"queryType": "select"}, "The 'select' query has been removed, use 'scan' instead."),
    ],
)
def test_invalid_scans_are_druid_400s(
    druid: LocalDruid, scanned: dict[str, str], fields: dict[str, Any], message: str
) -> None:
    body = error(druid, scan(**fields), 400)
    assert body["error"] == "Invalid input"
    assert message in body["errorMessage"]


@pytest.mark.parametrize(
    ("fields", "feature"),
    [
        ({"resultFormat": "valueVector"}, "valueVector"),
        ({"orderBy": [{"columnName": "page", "order": "ascending"}]}, "orderBy ['page']"),
        (
            {"virtualColumns": [{"type": "mv-filtered", "name": "v", "delegate": "page"}]},
            "Virtual column type [mv-filtered]",
        ),
        ({"dataSource": "edits"}, "column [user_unique] of type [COMPLEX<hyperUnique>]"),
    ],
)
def test_unsupported_scans_are_501s(
    druid: LocalDruid, scanned: dict[str, str], edits: str, fields: dict[str, Any], feature: str
) -> None:
    body = error(druid, scan(**fields), 501)
    assert body["error"] == "Unsupported query"
    assert feature in body["errorMessage"]


def test_complex_columns_left_out_scan_fine(druid: LocalDruid, edits: str) -> None:
    result = druid.query(
        scan(dataSource=edits, columns=["page", "added_d"], limit=1, resultFormat="compactedList")
    )
    assert [(b["columns"], b["events"]) for b in result] == [(["page", "added_d"], [["A", 10.0]])]


def test_segments_with_different_columns(druid: LocalDruid) -> None:
    """Each segment answers its own columns; a column it lacks reads as null with no type."""
    count = [{"type": "count", "name": "count"}]
    day1 = [{"timestamp": "2024-01-01T01:00:00Z", "page": p} for p in ("b", "a")]
    day2 = [
        {"timestamp": "2024-01-02T01:00:00Z", "channel": "x", "page": "z"},
        {"timestamp": "2024-01-02T01:00:00Z", "channel": "w", "page": "zz"},
    ]
    druid.ingest(inline_task("mixed", day1, dimensions=["page"], metrics=count))
    druid.ingest(inline_task("mixed", day2, dimensions=["channel", "page"], metrics=count))
    t1, t2 = 1704070800000, 1704157200000
    short, wide = ["__time", "page", "count"], ["__time", "channel", "page", "count"]
    result = druid.query(scan(dataSource="mixed", resultFormat="compactedList"))
    # The second segment is sorted by its own dimension order: channel first.
    assert [(b["columns"], b["events"]) for b in result] == [
        (short, [[t1, "a", 1], [t1, "b", 1]]),
        (wide, [[t2, "w", "zz", 1], [t2, "x", "z", 1]]),
    ]
    chosen = druid.query(scan(dataSource="mixed", columns=["__time", "channel"]))
    assert [(b["rowSignature"], b["events"]) for b in chosen] == [
        (
            [SIGNATURE[0], {"name": "channel"}],
            [{"__time": t1, "channel": None}, {"__time": t1, "channel": None}],
        ),
        (
            [SIGNATURE[0], {"name": "channel", "type": "STRING"}],
            [{"__time": t2, "channel": "w"}, {"__time": t2, "channel": "x"}],
        ),
    ]
    # Time-ordered, one batch mixes both: it takes its columns from its first row, as Druid's.
    ordered = druid.query(scan(dataSource="mixed", order="descending"))
    assert len(ordered) == 1
    assert ordered[0]["columns"] == wide
    assert ordered[0]["events"] == [
        {"__time": t2, "channel": "x", "page": "z", "count": 1},
        {"__time": t2, "channel": "w", "page": "zz", "count": 1},
        {"__time": t1, "page": "b", "count": 1},
        {"__time": t1, "page": "a", "count": 1},
    ]
