"""Native batch ingestion through the task API: formats, timestamps, rollup, overwrite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from tests.localdruid.harness import ROOT, LocalDruid, inline_task


def _rows(
    druid: LocalDruid, datasource: str, dims: list[str], aggs: list[dict[str, Any]], **fields: Any
) -> list[dict[str, Any]]:
    query = {
        "queryType": "groupBy",
        "dataSource": datasource,
        "intervals": ["2000-01-01/2100-01-01"],
        "granularity": "all",
        "dimensions": dims,
        "aggregations": aggs,
    }
    query.update(fields)
    return [r["event"] for r in druid.query(query)]


def _report(druid: LocalDruid, status: dict[str, Any]) -> dict[str, Any]:
    task_id = status["status"]["id"]
    reports = requests.get(f"{druid.url}/druid/indexer/v1/task/{task_id}/reports", timeout=10)
    return reports.json()["ingestionStatsAndErrors"]["payload"]["rowStats"]["buildSegments"]


def test_csv_with_header_and_tsv_with_columns(druid: LocalDruid) -> None:
    csv_data = 'ts,city,n\n2024-01-01T00:00:00Z,"Paris, FR",1\n2024-01-01T01:00:00Z,Oslo,2\n'
    druid.ingest(
        inline_task(
            "ing_csv",
            csv_data,
            dimensions=["city"],
            metrics=[{"type": "longSum", "name": "n", "fieldName": "n"}],
            input_format={"type": "csv", "findColumnsFromHeader": True},
            timestamp={"column": "ts", "format": "auto"},
        )
    )
    assert _rows(
        druid, "ing_csv", ["city"], [{"type": "longSum", "name": "n", "fieldName": "n"}]
    ) == [{"city": "Oslo", "n": 2}, {"city": "Paris, FR", "n": 1}]

    tsv_data = "skip me\n1704067200000\tx\t5\n1704070800000\ty\t6\n"
    druid.ingest(
        inline_task(
            "ing_tsv",
            tsv_data,
            dimensions=["k"],
            metrics=[{"type": "doubleSum", "name": "v", "fieldName": "v"}],
            input_format={"type": "tsv", "columns": ["t", "k", "v"], "skipHeaderRows": 1},
            timestamp={"column": "t", "format": "millis"},
        )
    )
    assert _rows(
        druid, "ing_tsv", ["k"], [{"type": "doubleSum", "name": "v", "fieldName": "v"}]
    ) == [{"k": "x", "v": 5.0}, {"k": "y", "v": 6.0}]


def test_timestamp_formats(druid: LocalDruid) -> None:
    rows = [{"t": "2024010203", "d": "joda"}]
    druid.ingest(
        inline_task(
            "ing_joda", rows, dimensions=["d"], timestamp={"column": "t", "format": "yyyyMMddHH"}
        )
    )
    boundary = druid.query({"queryType": "timeBoundary", "dataSource": "ing_joda"})
    assert boundary[0]["result"]["minTime"] == "2024-01-02T03:00:00.000Z"

    rows = [{"t": 1704067200, "d": "posix"}]
    druid.ingest(
        inline_task(
            "ing_posix", rows, dimensions=["d"], timestamp={"column": "t", "format": "posix"}
        )
    )
    boundary = druid.query({"queryType": "timeBoundary", "dataSource": "ing_posix"})
    assert boundary[0]["result"]["minTime"] == "2024-01-01T00:00:00.000Z"


def test_unparseable_and_thrown_away_rows_are_counted(druid: LocalDruid) -> None:
    rows = [
        {"timestamp": "2024-01-01T00:00:00Z", "d": "kept"},
        {"timestamp": "not a time", "d": "bad"},
        {"d": "no timestamp"},
        {"timestamp": "2025-06-01T00:00:00Z", "d": "outside the intervals"},
        {"timestamp": "2024-01-01T05:00:00Z", "d": "filtered out"},
    ]
    status = druid.ingest(
        inline_task(
            "ing_counts",
            rows,
            dimensions=["d"],
            intervals=["2024-01-01/2024-02-01"],
            transform_filter={
                "type": "not",
                "field": {"type": "selector", "dimension": "d", "value": "filtered out"},
            },
        )
    )
    stats = _report(druid, status)
    assert (stats["processed"], stats["unparseable"], stats["thrownAway"]) == (1, 2, 2)
    assert _rows(druid, "ing_counts", ["d"], [{"type": "count", "name": "n"}]) == [
        {"d": "kept", "n": 1}
    ]


def test_missing_value_for_timestamps(druid: LocalDruid) -> None:
    druid.ingest(
        inline_task(
            "ing_missing",
            [{"d": "x"}],
            dimensions=["d"],
            timestamp={
                "column": "timestamp",
                "format": "iso",
                "missingValue": "2020-05-05T00:00:00Z",
            },
        )
    )
    boundary = druid.query({"queryType": "timeBoundary", "dataSource": "ing_missing"})
    assert boundary[0]["timestamp"] == "2020-05-05T00:00:00.000Z"


def test_typed_dimensions(druid: LocalDruid) -> None:
    rows = [
        {"timestamp": "2024-01-01T00:00:00Z", "n": "5.0", "f": "1.5", "s": 7},
        {"timestamp": "2024-01-01T00:00:01Z", "n": "5.5", "f": "x", "s": True},
    ]
    druid.ingest(
        inline_task(
            "ing_typed",
            rows,
            dimensions=[{"type": "long", "name": "n"}, {"type": "double", "name": "f"}, "s"],
        )
    )
    meta = druid.query(
        {
            "queryType": "segmentMetadata",
            "dataSource": "ing_typed",
            "intervals": ["2024-01-01/2024-01-02"],
            "merge": True,
        }
    )
    types = {name: col["type"] for name, col in meta[0]["columns"].items()}
    assert types == {"__time": "LONG", "n": "LONG", "f": "DOUBLE", "s": "STRING"}
    rows_out = _rows(
        druid,
        "ing_typed",
        [
            {"dimension": "n", "outputName": "n", "outputType": "LONG"},
            {"dimension": "f", "outputName": "f", "outputType": "DOUBLE"},
            "s",
        ],
        [{"type": "count", "name": "c"}],
    )
    assert rows_out == [
        {"n": None, "f": None, "s": "true", "c": 1},
        {"n": 5, "f": 1.5, "s": "7", "c": 1},
    ]


def test_schemaless_discovery_and_exclusions(druid: LocalDruid) -> None:
    rows = [{"timestamp": "2024-01-01T00:00:00Z", "a": "1", "b": "2", "secret": "x", "v": 3}]
    druid.ingest(
        inline_task(
            "ing_discover",
            rows,
            dimension_exclusions=["secret"],
            metrics=[{"type": "longSum", "name": "v_sum", "fieldName": "v"}],
        )
    )
    info = requests.get(
        f"{druid.url}/druid/v2/datasources/ing_discover",
        params={"interval": "2024-01-01/2024-01-02"},
        timeout=10,
    ).json()
    assert info == {"dimensions": ["a", "b"], "metrics": ["v_sum"]}


def test_rollup_at_query_granularity_and_without_rollup(druid: LocalDruid) -> None:
    rows = [{"timestamp": f"2024-01-01T00:{m:02d}:00Z", "d": "x", "v": m} for m in range(0, 60, 10)]
    rows.append({"timestamp": "2024-01-01T01:15:00Z", "d": "x", "v": 100})
    metrics = [
        {"type": "count", "name": "count"},
        {"type": "longSum", "name": "v", "fieldName": "v"},
    ]
    druid.ingest(
        inline_task("ing_rollup", rows, dimensions=["d"], metrics=metrics, query_granularity="hour")
    )
    result = druid.query(
        {
            "queryType": "timeseries",
            "dataSource": "ing_rollup",
            "granularity": "none",
            "intervals": ["2024-01-01/2024-01-02"],
            "aggregations": [
                {"type": "count", "name": "stored"},
                {"type": "longSum", "name": "input", "fieldName": "count"},
                {"type": "longSum", "name": "v", "fieldName": "v"},
            ],
            # Granularity none would fill every empty millisecond, as Druid does.
            "context": {"skipEmptyBuckets": True},
        }
    )
    assert [(r["timestamp"], r["result"]) for r in result] == [
        ("2024-01-01T00:00:00.000Z", {"stored": 1, "input": 6, "v": 150}),
        ("2024-01-01T01:00:00.000Z", {"stored": 1, "input": 1, "v": 100}),
    ]
    druid.ingest(inline_task("ing_norollup", rows, dimensions=["d"], metrics=metrics, rollup=False))
    count = druid.query(
        {
            "queryType": "timeseries",
            "dataSource": "ing_norollup",
            "granularity": "all",
            "intervals": ["2024-01-01/2024-01-02"],
            "aggregations": [{"type": "count", "name": "stored"}],
        }
    )
    assert count[0]["result"]["stored"] == 7


def _sums(druid: LocalDruid, datasource: str) -> list[tuple[str, int, int]]:
    result = druid.query(
        {
            "queryType": "timeseries",
            "dataSource": datasource,
            "granularity": "day",
            "intervals": ["2024-01-01/2024-01-10"],
            "aggregations": [
                {"type": "count", "name": "rows"},
                {"type": "longSum", "name": "v", "fieldName": "v"},
            ],
            "context": {"skipEmptyBuckets": True},
        }
    )
    return [(r["timestamp"][:10], r["result"]["rows"], r["result"]["v"]) for r in result]


def test_overwrite_append_and_drop_existing(druid: LocalDruid) -> None:
    metrics = [{"type": "longSum", "name": "v", "fieldName": "v"}]
    days = [{"timestamp": f"2024-01-0{d}T12:00:00Z", "k": "a", "v": d} for d in (1, 2, 3)]
    druid.ingest(inline_task("ing_over", days, dimensions=["k"], metrics=metrics))
    assert _sums(druid, "ing_over") == [
        ("2024-01-01", 1, 1),
        ("2024-01-02", 1, 2),
        ("2024-01-03", 1, 3),
    ]
    # Overwrite replaces only the day that receives data.
    druid.ingest(
        inline_task(
            "ing_over",
            [{"timestamp": "2024-01-02T01:00:00Z", "k": "a", "v": 20}],
            dimensions=["k"],
            metrics=metrics,
        )
    )
    assert _sums(druid, "ing_over") == [
        ("2024-01-01", 1, 1),
        ("2024-01-02", 1, 20),
        ("2024-01-03", 1, 3),
    ]
    # Appending the same row adds a row: rollup does not reach across segments.
    druid.ingest(
        inline_task(
            "ing_over",
            [{"timestamp": "2024-01-02T01:00:00Z", "k": "a", "v": 20}],
            dimensions=["k"],
            metrics=metrics,
            append=True,
        )
    )
    assert _sums(druid, "ing_over")[1] == ("2024-01-02", 2, 40)
    # dropExisting replaces every day of the intervals, even those without new rows.
    druid.ingest(
        inline_task(
            "ing_over",
            [{"timestamp": "2024-01-01T05:00:00Z", "k": "a", "v": 9}],
            dimensions=["k"],
            metrics=metrics,
            intervals=["2024-01-01/2024-01-03"],
            drop_existing=True,
        )
    )
    assert _sums(druid, "ing_over") == [("2024-01-01", 1, 9), ("2024-01-03", 1, 3)]


def test_local_input_source_and_failed_task(druid: LocalDruid, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.json").write_text(json.dumps({"timestamp": "2024-01-01T00:00:00Z", "f": "a"}))
    (folder / "sub" / "b.json").write_text(
        json.dumps({"timestamp": "2024-01-01T00:00:00Z", "f": "b"})
    )
    (folder / "c.txt").write_text("ignored")
    task = inline_task("ing_local", [], dimensions=["f"])
    task["spec"]["ioConfig"]["inputSource"] = {
        "type": "local",
        "baseDir": str(folder),
        "filter": "*.json",
    }
    druid.ingest(task)
    assert [r["f"] for r in _rows(druid, "ing_local", ["f"], [])] == ["a", "b"]

    task["spec"]["ioConfig"]["inputSource"] = {"type": "local", "files": [str(folder / "nope")]}
    status = druid.submit(task)
    assert status["status"]["status"] == "FAILED"
    assert "nope" in status["status"]["errorMsg"]
    # The failed task changed nothing.
    assert [r["f"] for r in _rows(druid, "ing_local", ["f"], [])] == ["a", "b"]


def test_invalid_specs_are_refused(druid: LocalDruid) -> None:
    url = f"{druid.url}/druid/indexer/v1/task"
    bad = [
        b"{not json",
        json.dumps({"type": "nope"}).encode(),
        json.dumps({"type": "index_parallel", "spec": {}}).encode(),
        json.dumps(inline_task("x", [], timestamp={"column": "t", "format": "qqq%"})).encode(),
    ]
    for body in bad:
        resp = requests.post(
            url, data=body, headers={"Content-Type": "application/json"}, timeout=10
        )
        assert 400 <= resp.status_code < 500, resp.text
        assert {"error", "errorMessage", "errorClass", "host"} <= set(resp.json())
    missing = requests.get(f"{url}/no_such_task/status", timeout=10)
    assert missing.status_code == 404


def test_data_survives_a_restart(tmp_path: Path) -> None:
    server = LocalDruid(tmp_path / "data").start()
    try:
        server.ingest(
            inline_task("kept", [{"timestamp": "2024-01-01T00:00:00Z", "d": "x"}], dimensions=["d"])
        )
    finally:
        server.stop()
    server.start()
    try:
        assert (
            server.query({"queryType": "timeBoundary", "dataSource": "kept"})[0]["timestamp"]
            == "2024-01-01T00:00:00.000Z"
        )
    finally:
        server.stop()


def test_ingest_command_shows_progress_and_counts(druid: LocalDruid, tmp_path: Path) -> None:
    data = tmp_path / "rows.json"
    data.write_text(
        "\n".join(
            json.dumps({"timestamp": f"2024-02-01T00:00:{s:02d}Z", "d": "x"}) for s in range(30)
        )
    )
    task = inline_task("ing_cli", [], dimensions=["d"])
    task["spec"]["ioConfig"]["inputSource"] = {
        "type": "local",
        "baseDir": ".",
        "filter": "rows.json",
    }
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(task))
    done = subprocess.run(
        [sys.executable, "-m", "localdruid", "ingest", str(spec), "--url", druid.url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "SUCCESS" in done.stdout and "30 rows processed" in done.stdout
    assert "%" in done.stderr  # the progress bar


def test_large_file_streams_with_bounded_memory(tmp_path: Path) -> None:
    """A file far larger than the memory limit loads without the server holding it."""
    path = tmp_path / "large.json"
    with open(path, "w") as out:
        for i in range(1_500_000):
            out.write(
                f'{{"timestamp": {1_704_067_200_000 + i * 1000}, "user": "u{i % 50_000}", '
                f'"page": "page number {i % 9_973}", "added": {i % 97}}}\n'
            )
    size_mb = path.stat().st_size / 2**20
    server = LocalDruid(tmp_path / "data", None, "--memory-limit", "200MB").start()
    try:
        task = inline_task(
            "large",
            [],
            dimensions=["user", "page"],
            rollup=False,
            metrics=[{"type": "longSum", "name": "added", "fieldName": "added"}],
            timestamp={"column": "timestamp", "format": "auto"},
        )
        task["spec"]["ioConfig"]["inputSource"] = {"type": "local", "files": [str(path)]}
        server.ingest(task)
        total = server.query(
            {
                "queryType": "timeseries",
                "dataSource": "large",
                "granularity": "all",
                "intervals": ["2024/2025"],
                "aggregations": [
                    {"type": "count", "name": "n"},
                    {"type": "longSum", "name": "a", "fieldName": "added"},
                ],
            }
        )
        assert total[0]["result"] == {"n": 1_500_000, "a": sum(i % 97 for i in range(1_500_000))}
        peak = server.peak_rss_mb()
    finally:
        server.stop()
    # Holding the parsed rows in Python would take gigabytes; DuckDB streams and spills.
    assert size_mb > 100
    assert peak < 600, f"peak RSS {peak:.0f} MiB for a {size_mb:.0f} MiB file"


def test_an_overwrite_is_seen_whole_or_not_at_all(druid: LocalDruid) -> None:
    """Queries during an overwrite of every day see the old total or the new one, never a mix."""
    import threading

    metrics = [{"type": "longSum", "name": "v", "fieldName": "v"}]

    def rows(value: int) -> list[dict[str, Any]]:
        return [
            {"timestamp": f"2024-03-{d:02d}T{h:02d}:00:00Z", "k": str(h % 5), "v": value}
            for d in range(1, 29)
            for h in range(24)
        ]

    druid.ingest(inline_task("atomic", rows(1), dimensions=["k"], metrics=metrics))
    old, new = 28 * 24, 28 * 24 * 2
    seen: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        query = {
            "queryType": "timeseries",
            "dataSource": "atomic",
            "granularity": "all",
            "intervals": ["2024-03-01/2024-04-01"],
            "aggregations": metrics,
        }
        while not done.is_set():
            seen.add(druid.query(query)[0]["result"]["v"])

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(3):
            druid.ingest(inline_task("atomic", rows(2), dimensions=["k"], metrics=metrics))
            druid.ingest(inline_task("atomic", rows(1), dimensions=["k"], metrics=metrics))
    finally:
        done.set()
        watcher.join()
    assert seen <= {old, new} and old in seen


def test_filter_without_rollup_keeps_every_matching_row(druid: LocalDruid) -> None:
    rows = [{"timestamp": "2024-01-01T00:00:00Z", "d": d, "v": 1} for d in ("a", "b", "a", "c")]
    status = druid.ingest(
        inline_task(
            "ing_norollup_filter",
            rows,
            dimensions=["d"],
            metrics=[{"type": "longSum", "name": "v", "fieldName": "v"}],
            rollup=False,
            transform_filter={"type": "in", "dimension": "d", "values": ["a", "c"]},
        )
    )
    assert _report(druid, status)["thrownAway"] == 1
    assert _rows(druid, "ing_norollup_filter", ["d"], [{"type": "count", "name": "n"}]) == [
        {"d": "a", "n": 2},
        {"d": "c", "n": 1},
    ]


def test_long_metrics_truncate_decimal_input_long_dimensions_do_not(druid: LocalDruid) -> None:
    rows = [
        {"timestamp": "2024-01-01T00:00:00Z", "d": "5.5", "v": "5.5"},
        {"timestamp": "2024-01-01T00:00:00Z", "d": "6.0", "v": 2.9},
    ]
    druid.ingest(
        inline_task(
            "ing_coerce",
            rows,
            dimensions=[{"type": "long", "name": "d"}],
            metrics=[{"type": "longSum", "name": "v", "fieldName": "v"}],
        )
    )
    out = _rows(
        druid,
        "ing_coerce",
        [{"dimension": "d", "outputName": "d", "outputType": "LONG"}],
        [{"type": "longSum", "name": "v", "fieldName": "v"}],
    )
    # Druid: a long dimension takes only exact values; a long metric reads (long) of the number.
    assert out == [{"d": None, "v": 5}, {"d": 6, "v": 2}]
