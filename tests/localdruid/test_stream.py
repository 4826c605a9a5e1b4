"""Streaming ingestion over real HTTP: supervisors, pushes, durability, visibility, counts."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import requests

from localdruid import timeutil
from tests.localdruid.harness import LocalDruid, inline_task


def supervisor(datasource: str, **io: Any) -> dict[str, Any]:
    return {
        "type": "localdruid",
        "spec": {
            "dataSchema": {
                "dataSource": datasource,
                "timestampSpec": {"column": "ts", "format": "millis"},
                "dimensionsSpec": {"dimensions": ["page", {"type": "long", "name": "n"}]},
                "metricsSpec": [
                    {"type": "count", "name": "count"},
                    {"type": "longSum", "name": "added", "fieldName": "added"},
                ],
                "granularitySpec": {"segmentGranularity": "hour", "queryGranularity": "minute"},
            },
            "ioConfig": io,
        },
    }


def _start(druid: LocalDruid, spec: dict[str, Any]) -> str:
    resp = requests.post(f"{druid.url}/druid/indexer/v1/supervisor", json=spec, timeout=10)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


def _push(druid: LocalDruid, stream: str, body: Any) -> dict[str, int]:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    resp = requests.post(f"{druid.url}/localdruid/v1/push/{stream}", data=data, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _totals(druid: LocalDruid, datasource: str) -> dict[str, Any]:
    result = druid.query({
        "queryType": "timeseries", "dataSource": datasource, "granularity": "all",
        "intervals": ["2000/2100"],
        "aggregations": [{"type": "count", "name": "stored"},
                         {"type": "longSum", "name": "events", "fieldName": "count"},
                         {"type": "longSum", "name": "added", "fieldName": "added"}]})  # fmt: skip
    return result[0]["result"]


def _now_minute() -> int:
    return int(time.time() * 1000) // 60_000 * 60_000


def test_supervisor_lifecycle(druid: LocalDruid) -> None:
    stream = _start(druid, supervisor("s_life"))
    assert stream == "s_life"
    assert "s_life" in requests.get(f"{druid.url}/druid/indexer/v1/supervisor", timeout=5).json()
    status = requests.get(f"{druid.url}/druid/indexer/v1/supervisor/s_life/status", timeout=5)
    assert status.json()["payload"]["state"] == "RUNNING"
    stop = requests.post(f"{druid.url}/druid/indexer/v1/supervisor/s_life/terminate", timeout=5)
    assert stop.status_code == 200
    refused = requests.post(f"{druid.url}/localdruid/v1/push/s_life", data="[]", timeout=5)
    assert refused.status_code == 409
    unknown = requests.post(f"{druid.url}/localdruid/v1/push/nope", data="[]", timeout=5)
    assert unknown.status_code == 404
    wrong = requests.post(
        f"{druid.url}/druid/indexer/v1/supervisor", json={"type": "kafka", "spec": {}}, timeout=5
    )
    assert wrong.status_code == 400 and "localdruid" in wrong.json()["errorMessage"]


def test_pushed_events_are_visible_on_acknowledgement_and_rolled_up(druid: LocalDruid) -> None:
    stream = _start(druid, supervisor("s_visible"))
    minute = _now_minute()
    events = [{"ts": minute + i, "page": "A", "n": 1, "added": 10} for i in range(5)]
    events += [{"ts": minute + 5, "page": "B", "n": 2, "added": 1}]
    assert _push(druid, stream, events) == {"processed": 6, "unparseable": 0, "thrownAway": 0}
    # Visible at once: the push answers after its rows are committed.
    assert _totals(druid, "s_visible") == {"stored": 2, "events": 6, "added": 51}
    # Newline-delimited JSON works too; a later push extends the same realtime segment.
    ndjson = "\n".join(json.dumps({"ts": minute + 7, "page": "C", "added": 4}) for _ in range(3))
    assert _push(druid, stream, ndjson)["processed"] == 3
    assert _totals(druid, "s_visible")["events"] == 9
    segments = druid.query(
        {"queryType": "segmentMetadata", "dataSource": "s_visible", "intervals": ["2000/2100"]}
    )
    assert len(segments) == 1  # one hour chunk, one realtime segment


def test_bad_events_are_counted_never_crash(druid: LocalDruid) -> None:
    stream = _start(druid, supervisor("s_bad", lateMessageRejectionPeriod="PT1H"))
    minute = _now_minute()
    lines = [
        json.dumps({"ts": minute, "page": "ok", "added": 1}),
        "{not json",
        json.dumps(["an", "array"]),
        json.dumps({"ts": "yesterday", "page": "bad time"}),
        json.dumps({"ts": minute - 3 * 3_600_000, "page": "too late"}),
        json.dumps({"ts": minute, "page": "wrong type", "n": "abc", "added": "lots"}),
    ]
    counts = _push(druid, stream, "\n".join(lines))
    assert counts == {"processed": 2, "unparseable": 3, "thrownAway": 1}
    status = requests.get(f"{druid.url}/druid/indexer/v1/supervisor/s_bad/status", timeout=5)
    assert status.json()["payload"]["rowStats"] == counts
    assert _totals(druid, "s_bad")["events"] == 2


def test_streamed_and_batch_data_answer_together(druid: LocalDruid) -> None:
    history = [{"ts": 1_704_067_200_000 + i * 60_000, "page": "old", "added": 2} for i in range(10)]
    spec = supervisor("s_mixed")["spec"]["dataSchema"]
    task = inline_task(
        "s_mixed",
        history,
        dimensions=spec["dimensionsSpec"]["dimensions"],
        metrics=spec["metricsSpec"],
        timestamp=spec["timestampSpec"],
        segment_granularity="hour",
        query_granularity="minute",
    )
    druid.ingest(task)
    stream = _start(druid, supervisor("s_mixed"))
    _push(druid, stream, [{"ts": _now_minute(), "page": "new", "added": 5}])
    assert _totals(druid, "s_mixed") == {"stored": 11, "events": 11, "added": 25}


def test_concurrent_pushers_and_queries_lose_and_double_nothing(druid: LocalDruid) -> None:
    stream = _start(druid, supervisor("s_concurrent"))
    minute = _now_minute()
    errors: list[str] = []

    def pusher(worker: int) -> None:
        for batch in range(15):
            events = [
                {"ts": minute + worker * 1000 + batch * 10 + i, "page": f"p{worker}", "added": 1}
                for i in range(40)
            ]
            try:
                _push(druid, stream, events)
            except AssertionError as exc:
                errors.append(str(exc))

    def reader(done: threading.Event) -> None:
        while not done.is_set():
            resp = druid.post({"queryType": "timeBoundary", "dataSource": "s_concurrent"})
            if resp.status_code != 200:
                errors.append(resp.text)

    done = threading.Event()
    readers = [threading.Thread(target=reader, args=(done,)) for _ in range(2)]
    pushers = [threading.Thread(target=pusher, args=(w,)) for w in range(4)]
    for thread in readers + pushers:
        thread.start()
    for thread in pushers:
        thread.join()
    done.set()
    for thread in readers:
        thread.join()
    assert errors == []
    assert _totals(druid, "s_concurrent")["events"] == 4 * 15 * 40


def test_acknowledged_events_survive_kill_9(tmp_path: Path) -> None:
    server = LocalDruid(tmp_path / "data").start()
    try:
        stream = _start(server, supervisor("s_durable"))
        minute = _now_minute()
        _push(server, stream, [{"ts": minute, "page": "kept", "added": 7}] * 3)
        server.kill()  # SIGKILL: no shutdown, no checkpoint
        server.start()
        assert _totals(server, "s_durable")["events"] == 3
        # The supervisor is still there and keeps taking events after the restart.
        _push(server, stream, [{"ts": minute, "page": "kept", "added": 7}])
        assert _totals(server, "s_durable")["events"] == 4
    finally:
        server.stop()


def test_grouped_pushes_each_get_their_own_counts(druid: LocalDruid) -> None:
    """Concurrent pushes are loaded together (group commit) yet each answers for itself."""
    stream = _start(druid, supervisor("s_group", lateMessageRejectionPeriod="PT1H"))
    minute = _now_minute()
    answers: dict[int, dict[str, int]] = {}

    def pusher(worker: int) -> None:
        lines = [json.dumps({"ts": minute, "page": f"w{worker}", "added": 1})] * (worker + 1)
        lines += ["{broken"] * worker
        lines += [json.dumps({"ts": minute - 7_200_000, "page": "late"})] * (2 * worker)
        for _ in range(5):
            answers[worker] = _push(druid, stream, "\n".join(lines))

    threads = [threading.Thread(target=pusher, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {
        w: {"processed": w + 1, "unparseable": w, "thrownAway": 2 * w} for w in range(6)
    }
    assert _totals(druid, "s_group")["events"] == 5 * sum(w + 1 for w in range(6))


def _wait_for(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _segment_rows(druid: LocalDruid, datasource: str) -> list[int]:
    segments = druid.query(
        {"queryType": "segmentMetadata", "dataSource": datasource, "intervals": ["2000/2100"]}
    )
    return sorted(s["numRows"] for s in segments)


def test_closed_chunks_are_handed_off_rolled_up_across_pushes(druid: LocalDruid) -> None:
    spec = supervisor("s_handoff", lateMessageRejectionPeriod="PT1S")
    spec["spec"]["dataSchema"]["granularitySpec"] = {
        "segmentGranularity": "second",
        "queryGranularity": "none",
    }
    stream = _start(druid, spec)
    soon = int(time.time() * 1000) + 2000  # a chunk still open while the pushes arrive
    events = [{"ts": soon, "page": f"p{i % 4}", "added": 1} for i in range(12)]
    for _ in range(3):
        _push(druid, stream, events)
    # Until its chunk closes the realtime segment keeps each push's rows; a second after the
    # chunk's end it is handed off, rolled up across the pushes as Druid does at handoff.
    assert _totals(druid, "s_handoff") == {"stored": 12, "events": 36, "added": 36}
    assert _wait_for(lambda: _totals(druid, "s_handoff")["stored"] == 4)
    assert _totals(druid, "s_handoff") == {"stored": 4, "events": 36, "added": 36}
    assert _segment_rows(druid, "s_handoff") == [4]


def test_live_segments_are_rolled_up_again_as_they_grow(druid: LocalDruid) -> None:
    stream = _start(druid, supervisor("s_grow"))
    minute = _now_minute()
    events = [{"ts": minute, "page": f"p{i}", "added": 2} for i in range(6000)]
    _push(druid, stream, events)
    _push(druid, stream, events)
    # 12,000 stored rows pass the compaction threshold: they become 6,000, with nothing lost.
    assert _wait_for(lambda: _totals(druid, "s_grow")["stored"] == 6000)
    assert _totals(druid, "s_grow") == {"stored": 6000, "events": 12000, "added": 24000}


def test_iso_timestamps_in_any_form_parse_as_in_batch(druid: LocalDruid) -> None:
    spec = supervisor("s_iso")
    spec["spec"]["dataSchema"]["timestampSpec"] = {"column": "ts", "format": "iso"}
    stream = _start(druid, spec)
    minute = _now_minute()
    canonical = timeutil.format_instant(minute + 1234)  # 2026-...T..:..:01.234Z
    offset = timeutil.format_instant(minute).replace("Z", "+00:00")
    assert _push(druid, stream, [{"ts": canonical, "page": "a"}])["processed"] == 1
    # A push mixing forms takes the full ISO parser for all of its rows.
    mixed = [{"ts": canonical, "page": "b"}, {"ts": offset, "page": "c"}, {"ts": "nope"}]
    assert _push(druid, stream, mixed) == {"processed": 2, "unparseable": 1, "thrownAway": 0}
    boundary = druid.query({"queryType": "timeBoundary", "dataSource": "s_iso"})
    assert boundary[0]["result"]["minTime"] == timeutil.format_instant(minute)
    assert _totals(druid, "s_iso")["events"] == 3


def test_a_repeated_key_takes_its_last_value_as_in_druid(druid: LocalDruid) -> None:
    stream = _start(druid, supervisor("s_dup"))
    minute = _now_minute()
    lines = [f'{{"ts": {minute}, "page": "first", "page": "last", "added": 1}}']
    lines += [json.dumps({"ts": minute, "page": "other", "added": 2})]
    assert _push(druid, stream, "\n".join(lines))["processed"] == 2
    pages = druid.query({
        "queryType": "topN", "dataSource": "s_dup", "intervals": ["2000/2100"],
        "granularity": "all", "dimension": "page", "metric": "added", "threshold": 5,
        "aggregations": [{"type": "longSum", "name": "added", "fieldName": "added"}]})  # fmt: skip
    assert pages[0]["result"] == [{"page": "other", "added": 2}, {"page": "last", "added": 1}]
