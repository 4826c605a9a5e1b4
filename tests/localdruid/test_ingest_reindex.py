"""Re-reading datasources: the `druid` and `combining` input sources, and `compact` tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from localdruid.cli import resolve_local_paths
from tests.localdruid.harness import LocalDruid, inline_task

ROWS = [
    {"timestamp": "2024-01-01T01:00:00Z", "a": "x", "b": "p", "n": 1},
    {"timestamp": "2024-01-01T01:30:00Z", "a": "x", "b": "q", "n": 2},
    {"timestamp": "2024-01-01T02:00:00Z", "a": "y", "b": "p", "n": 4},
    {"timestamp": "2024-01-02T01:00:00Z", "a": "x", "b": "p", "n": 8},
]
COUNT_AND_N = [
    {"type": "count", "name": "count"},
    {"type": "longSum", "name": "n", "fieldName": "n"},
]


def _source(druid: LocalDruid, name: str) -> str:
    """ROWS stored one row each (no rollup), with a count and a sum."""
    druid.ingest(inline_task(name, ROWS, dimensions=["a", "b"], metrics=COUNT_AND_N, rollup=False))
    return name


def _reindex(
    datasource: str,
    source: dict[str, Any],
    *,
    dimensions: list[Any] | None = None,
    metrics: list[dict[str, Any]] | None = None,
    query_granularity: str = "none",
    intervals: list[str] | None = None,
    timestamp: dict[str, Any] | None = None,
) -> dict[str, Any]:
    task = inline_task(
        datasource,
        [],
        dimensions=dimensions,
        metrics=metrics,
        query_granularity=query_granularity,
        intervals=intervals,
        timestamp=timestamp or {"column": "__time", "format": "millis"},
    )
    io = task["spec"]["ioConfig"]
    io["inputSource"] = source
    del io["inputFormat"]  # the druid input source has its own
    return task


def _druid(datasource: str, interval: str, **fields: Any) -> dict[str, Any]:
    return {"type": "druid", "dataSource": datasource, "interval": interval, **fields}


def _rows(
    druid: LocalDruid,
    datasource: str,
    dims: list[str],
    aggs: list[dict[str, Any]],
    granularity: str = "all",
) -> list[dict[str, Any]]:
    result = druid.query(
        {
            "queryType": "groupBy",
            "dataSource": datasource,
            "intervals": ["2000-01-01/2100-01-01"],
            "granularity": granularity,
            "dimensions": dims,
            "aggregations": aggs,
        }
    )
    if granularity == "all":
        return [r["event"] for r in result]
    return [{"t": r["timestamp"], **r["event"]} for r in result]


def _segments(druid: LocalDruid, datasource: str) -> list[tuple[str, int]]:
    result = druid.query(
        {
            "queryType": "segmentMetadata",
            "dataSource": datasource,
            "intervals": ["2000-01-01/2100-01-01"],
            "merge": False,
            "analysisTypes": ["interval"],
        }
    )
    return sorted((r["intervals"][0], r["numRows"]) for r in result)


def _columns(druid: LocalDruid, datasource: str) -> dict[str, Any]:
    resp = requests.get(
        f"{druid.url}/druid/v2/datasources/{datasource}",
        params={"interval": "2000-01-01/2100-01-01"},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


STORED = {"type": "count", "name": "stored"}  # counts stored rows, so it shows rollup
SUMS = [STORED, {"type": "longSum", "name": "count", "fieldName": "count"}]
N = {"type": "longSum", "name": "n", "fieldName": "n"}


def test_reindex_an_interval_through_a_filter(druid: LocalDruid) -> None:
    source = _source(druid, "rx_src1")
    filter_p = {"type": "selector", "dimension": "b", "value": "p"}
    druid.ingest(
        _reindex(
            "rx_filtered",
            _druid(source, "2024-01-01/2024-01-02", filter=filter_p),
            dimensions=["a"],
            metrics=[N],
        )
    )
    # Day 2 is outside the interval, the row with b=q fails the filter.
    assert _rows(druid, "rx_filtered", ["a"], [STORED, N]) == [
        {"a": "x", "stored": 1, "n": 1},
        {"a": "y", "stored": 1, "n": 4},
    ]
    boundary = druid.query({"queryType": "timeBoundary", "dataSource": "rx_filtered"})
    assert boundary[0]["result"] == {
        "minTime": "2024-01-01T01:00:00.000Z",
        "maxTime": "2024-01-01T02:00:00.000Z",
    }
    assert _columns(druid, "rx_filtered") == {"dimensions": ["a"], "metrics": ["n"]}


def test_reindex_rolls_up_and_counts_source_rows(druid: LocalDruid) -> None:
    source = _source(druid, "rx_src2")
    druid.ingest(
        _reindex(
            "rx_daily",
            # Druid ignores `dimensions` and `metrics` here: the dataSchema says what is read.
            _druid(source, "2024-01-01/2024-01-03", dimensions=["b"], metrics=["n"]),
            dimensions=["a"],
            metrics=[
                {"type": "longSum", "name": "count", "fieldName": "count"},
                {"type": "count", "name": "source_rows"},
                N,
            ],
            query_granularity="day",
            timestamp={"column": "__time", "format": "auto"},
        )
    )
    aggs = [*SUMS, {"type": "longSum", "name": "source_rows", "fieldName": "source_rows"}, N]
    assert _rows(druid, "rx_daily", ["a"], aggs, granularity="day") == [
        {
            "t": "2024-01-01T00:00:00.000Z",
            "a": "x",
            "stored": 1,
            "count": 2,
            "source_rows": 2,
            "n": 3,
        },
        {
            "t": "2024-01-01T00:00:00.000Z",
            "a": "y",
            "stored": 1,
            "count": 1,
            "source_rows": 1,
            "n": 4,
        },
        {
            "t": "2024-01-02T00:00:00.000Z",
            "a": "x",
            "stored": 1,
            "count": 1,
            "source_rows": 1,
            "n": 8,
        },
    ]


def test_reindex_discovers_the_source_columns(druid: LocalDruid) -> None:
    source = _source(druid, "rx_src3")
    druid.ingest(_reindex("rx_discovered", _druid(source, "2024-01-02/2024-01-03"), metrics=[N]))
    # Without a dimension list every other column is one, the source's metric `count` too.
    assert _columns(druid, "rx_discovered") == {"dimensions": ["a", "b", "count"], "metrics": ["n"]}
    assert _rows(druid, "rx_discovered", ["a", "b", "count"], [N]) == [
        {"a": "x", "b": "p", "count": "1", "n": 8}
    ]


def test_reindex_into_the_same_datasource_replaces_its_time_chunks(druid: LocalDruid) -> None:
    source = _source(druid, "rx_self")
    not_q = {"type": "not", "field": {"type": "selector", "dimension": "b", "value": "q"}}
    druid.ingest(
        _reindex(
            source,
            _druid(source, "2024-01-01/2024-01-02", filter=not_q),
            dimensions=["a", "b"],
            metrics=[{"type": "longSum", "name": "count", "fieldName": "count"}, N],
            intervals=["2024-01-01/2024-01-02"],
        )
    )
    assert _rows(druid, source, ["b"], [*SUMS, N], granularity="day") == [
        {"t": "2024-01-01T00:00:00.000Z", "b": "p", "stored": 2, "count": 2, "n": 5},
        {"t": "2024-01-02T00:00:00.000Z", "b": "p", "stored": 1, "count": 1, "n": 8},
    ]


def test_a_reindex_without_the_timestamp_column_parses_nothing(druid: LocalDruid) -> None:
    source = _source(druid, "rx_src4")
    task = _reindex(
        "rx_unparsed",
        _druid(source, "2024-01-01/2024-01-03"),
        dimensions=["a"],
        timestamp={"column": "timestamp", "format": "iso"},
    )
    status = druid.ingest(task)
    report = requests.get(
        f"{druid.url}/druid/indexer/v1/task/{status['status']['id']}/reports", timeout=10
    ).json()
    stats = report["ingestionStatsAndErrors"]["payload"]["rowStats"]["buildSegments"]
    assert (stats["processed"], stats["unparseable"]) == (0, 4)


def test_druid_input_source_can_ignore_the_timestamp_spec(tmp_path: Path) -> None:
    server = LocalDruid(
        tmp_path / "data", None, "--ignore-timestamp-spec-for-druid-input-source"
    ).start()
    try:
        source = _source(server, "src")
        server.ingest(
            _reindex(
                "copy",
                _druid(source, "2024-01-01/2024-01-03"),
                dimensions=["a"],
                metrics=[N],
                timestamp={"column": "timestamp", "format": "iso"},
            )
        )
        assert _rows(server, "copy", ["a"], [N], granularity="day") == [
            {"t": "2024-01-01T00:00:00.000Z", "a": "x", "n": 3},
            {"t": "2024-01-01T00:00:00.000Z", "a": "y", "n": 4},
            {"t": "2024-01-02T00:00:00.000Z", "a": "x", "n": 8},
        ]
    finally:
        server.stop()


def test_combining_reads_every_delegate_with_its_own_format(druid: LocalDruid) -> None:
    source = _source(druid, "rx_src5")
    inline = {"type": "inline", "data": '{"__time": 1704153600000, "a": "z", "n": 16}'}
    task = _reindex(
        "rx_combined",
        {"type": "combining", "delegates": [inline, _druid(source, "2024-01-01/2024-01-02")]},
        dimensions=["a"],
        metrics=[N],
    )
    task["spec"]["ioConfig"]["inputFormat"] = {"type": "json"}
    druid.ingest(task)
    assert _rows(druid, "rx_combined", ["a"], [N], granularity="day") == [
        {"t": "2024-01-01T00:00:00.000Z", "a": "x", "n": 3},
        {"t": "2024-01-01T00:00:00.000Z", "a": "y", "n": 4},
        {"t": "2024-01-02T00:00:00.000Z", "a": "z", "n": 16},
    ]


# -- compaction --------------------------------------------------------------------------------

EVENTS = [
    {"timestamp": "2024-01-01T01:10:00Z", "a": "x", "n": 1, "user": "u1"},
    {"timestamp": "2024-01-01T01:50:00Z", "a": "x", "n": 2, "user": "u2"},
    {"timestamp": "2024-01-01T02:10:00Z", "a": "y", "n": 4, "user": "u1"},
    {"timestamp": "2024-01-02T05:00:00Z", "a": "x", "n": 8, "user": "u3"},
]
UNIQUE = {"type": "hyperUnique", "name": "u", "fieldName": "user"}


def _appended_twice(druid: LocalDruid, name: str) -> str:
    """EVENTS in hourly segments, appended twice: each row is stored twice, in two segments."""
    for append in (False, True):
        druid.ingest(
            inline_task(
                name,
                EVENTS,
                dimensions=["a"],
                metrics=[*COUNT_AND_N, UNIQUE],
                segment_granularity="hour",
                append=append,
            )
        )
    return name


def _compact(datasource: str, interval: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "compact",
        "dataSource": datasource,
        "ioConfig": {"type": "compact", "inputSpec": {"type": "interval", "interval": interval}},
        "tuningConfig": {"type": "index_parallel", "maxRowsInMemory": 10},
        **fields,
    }


def _unique(druid: LocalDruid, datasource: str) -> float:
    result = druid.query(
        {
            "queryType": "timeseries",
            "dataSource": datasource,
            "intervals": ["2000-01-01/2100-01-01"],
            "granularity": "all",
            "aggregations": [{"type": "hyperUnique", "name": "u", "fieldName": "u"}],
        }
    )
    return float(result[0]["result"]["u"])


def test_compact_changes_granularities_and_combines_metrics(druid: LocalDruid) -> None:
    source = _appended_twice(druid, "cp_gran")
    unique = _unique(druid, source)
    assert _rows(druid, source, [], [STORED]) == [{"stored": 8}]
    druid.ingest(
        _compact(
            source,
            "2024-01-01/2024-01-03",
            granularitySpec={"segmentGranularity": "day", "queryGranularity": "hour"},
        )
    )
    assert _rows(druid, source, ["a"], [*SUMS, N], granularity="hour") == [
        {"t": "2024-01-01T01:00:00.000Z", "a": "x", "stored": 1, "count": 4, "n": 6},
        {"t": "2024-01-01T02:00:00.000Z", "a": "y", "stored": 1, "count": 2, "n": 8},
        {"t": "2024-01-02T05:00:00.000Z", "a": "x", "stored": 1, "count": 2, "n": 16},
    ]
    assert _segments(druid, source) == [
        ("2024-01-01T00:00:00.000Z/2024-01-02T00:00:00.000Z", 2),
        ("2024-01-02T00:00:00.000Z/2024-01-03T00:00:00.000Z", 1),
    ]
    assert _unique(druid, source) == unique == pytest.approx(3.0, rel=0.01)
    # The sketches were merged, not hashed again: a second compaction changes nothing.
    druid.ingest(_compact(source, "2024-01-01/2024-01-03"))
    assert _unique(druid, source) == unique
    assert _rows(druid, source, [], [*SUMS, N]) == [{"stored": 3, "count": 8, "n": 30}]


def test_compact_of_part_of_the_data_leaves_the_rest(druid: LocalDruid) -> None:
    source = _appended_twice(druid, "cp_part")
    druid.ingest(_compact(source, "2024-01-01/2024-01-02"))
    # Day 1 keeps its hourly segments and exact times, its twin rows merged; day 2 is untouched.
    assert _rows(druid, source, ["a"], [*SUMS, N], granularity="day") == [
        {"t": "2024-01-01T00:00:00.000Z", "a": "x", "stored": 2, "count": 4, "n": 6},
        {"t": "2024-01-01T00:00:00.000Z", "a": "y", "stored": 1, "count": 2, "n": 8},
        {"t": "2024-01-02T00:00:00.000Z", "a": "x", "stored": 2, "count": 2, "n": 16},
    ]
    assert _segments(druid, source) == [
        ("2024-01-01T01:00:00.000Z/2024-01-01T02:00:00.000Z", 2),
        ("2024-01-01T02:00:00.000Z/2024-01-01T03:00:00.000Z", 1),
        ("2024-01-02T05:00:00.000Z/2024-01-02T06:00:00.000Z", 1),
        ("2024-01-02T05:00:00.000Z/2024-01-02T06:00:00.000Z", 1),
    ]


def test_compact_with_chosen_dimensions_and_metrics(druid: LocalDruid) -> None:
    source = _appended_twice(druid, "cp_schema")
    druid.ingest(
        _compact(
            source,
            "2024-01-01/2024-01-03",
            dimensionsSpec={"dimensionExclusions": ["a"]},
            metricsSpec=[{"type": "longMax", "name": "top", "fieldName": "n"}],
            granularitySpec={"segmentGranularity": "month", "queryGranularity": "day"},
            ioConfig={
                "type": "compact",
                "inputSpec": {"type": "interval", "interval": "2024-01-01/2024-01-03"},
                "allowNonAlignedInterval": True,
            },
        )
    )
    # With no dimensions left, each day rolls up to one row; count and n are gone.
    assert _columns(druid, source) == {"dimensions": [], "metrics": ["top"]}
    top = {"type": "longMax", "name": "top", "fieldName": "top"}
    assert _rows(druid, source, [], [STORED, top], granularity="day") == [
        {"t": "2024-01-01T00:00:00.000Z", "stored": 1, "top": 4},
        {"t": "2024-01-02T00:00:00.000Z", "stored": 1, "top": 8},
    ]


def _failure(druid: LocalDruid, task: dict[str, Any]) -> str:
    status = druid.submit(task)
    assert status["status"]["status"] == "FAILED", status
    return str(status["status"]["errorMsg"])


def test_compaction_errors(druid: LocalDruid) -> None:
    assert _failure(druid, _compact("cp_nowhere", "2024-01-01/2024-01-02")) == (
        "No segments found for compaction. Please check that datasource name and interval "
        "are correct."
    )
    source = _appended_twice(druid, "cp_errors")
    unaligned = _compact(
        source, "2024-01-01T12:00:00Z/2024-01-03", granularitySpec={"segmentGranularity": "day"}
    )
    assert _failure(druid, unaligned) == (
        "Interval[2024-01-01T12:00:00.000Z/2024-01-03T00:00:00.000Z] to compact is not aligned "
        'with segmentGranularity["DAY"]'
    )
    segments = _compact(source, "2024-01-01/2024-01-02")
    segments["ioConfig"]["inputSpec"] = {"type": "segments", "segments": ["x"]}
    resp = druid.post(segments, "/druid/indexer/v1/task")
    assert resp.status_code == 501
    assert "inputSpec type [segments]" in resp.json()["errorMessage"]
    empty = _compact(source, "2024-01-01/2024-01-01")
    resp = druid.post(empty, "/druid/indexer/v1/task")
    assert resp.status_code == 400
    assert "is empty" in resp.json()["errorMessage"]
    # Nothing above changed the data: every row is still stored twice.
    assert _rows(druid, source, [], [STORED]) == [{"stored": 8}]


def test_discovery_leaves_stored_sketches_out(druid: LocalDruid) -> None:
    """Druid would make the sketch column `u` a string dimension of each sketch's text, which
    localdruid cannot write; it leaves it out (other metrics become dimensions, as in Druid).
    Naming it as a dimension answers 501."""
    source = _appended_twice(druid, "rx_sketch")
    druid.ingest(_reindex("rx_sketch_copy", _druid(source, "2024-01-01/2024-01-03"), metrics=[N]))
    assert _columns(druid, "rx_sketch_copy") == {"dimensions": ["a", "count"], "metrics": ["n"]}
    named = _reindex(
        "rx_sketch_named", _druid(source, "2024-01-01/2024-01-03"), dimensions=["a", "u"]
    )
    status = druid.submit(named)
    assert status["status"]["status"] == "FAILED"
    assert "stored sketch column [u]" in status["status"]["errorMsg"]


def test_unsupported_reindex_options_answer_501(druid: LocalDruid) -> None:
    source = _appended_twice(druid, "rx_unsupported")
    task = _reindex("rx_bad", {"type": "s3", "uris": ["s3://bucket/x.json"]})
    resp = druid.post(task, "/druid/indexer/v1/task")
    assert resp.status_code == 501
    assert resp.json()["errorMessage"] == "inputSource type [s3] is not supported by localdruid"
    bad_filter = _reindex(
        "rx_bad", _druid(source, "2024-01-01/2024-01-03", filter={"type": "nonsense"})
    )
    assert druid.post(bad_filter, "/druid/indexer/v1/task").status_code == 400


def test_cli_resolves_relative_paths_of_combined_local_sources(tmp_path: Path) -> None:
    delegate = {"type": "local", "baseDir": "data", "filter": "*.json"}
    task = {
        "type": "index_parallel",
        "spec": {
            "ioConfig": {
                "inputSource": {
                    "type": "combining",
                    "delegates": [delegate, {"type": "druid", "dataSource": "d"}],
                }
            }
        },
    }
    resolved = resolve_local_paths(task, tmp_path)
    delegates = resolved["spec"]["ioConfig"]["inputSource"]["delegates"]
    assert delegates == [
        {"type": "local", "baseDir": str((tmp_path / "data").resolve()), "filter": "*.json"},
        {"type": "druid", "dataSource": "d"},
    ]
