"""`python -m localdruid generate`: plausible events, daily rhythm, idempotent backfill, live."""

from __future__ import annotations

import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from random import Random
from typing import Any

import requests

from localdruid import timeutil
from localdruid.generate import (
    MAX_TASK_EVENTS,
    backfill_slices,
    backfill_window,
    data_schema,
    expected_events,
    generate_events,
    rhythm,
    sample_timestamps,
    supervisor_spec,
)
from tests.localdruid.harness import ROOT, LocalDruid, free_port

HOUR = timeutil.HOUR
NOON = 1_735_732_800_000  # 2025-01-01T12:00:00Z


def _share(events: list[dict[str, Any]], field: str, value: Any) -> float:
    return sum(e[field] == value for e in events) / len(events)


def _generate(druid_url: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1,localhost"}
    return subprocess.run(
        [sys.executable, "-m", "localdruid", "generate", *args, "--url", druid_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _events_before(druid: LocalDruid, datasource: str, end_ms: int) -> int:
    result = druid.query({
        "queryType": "timeseries", "dataSource": datasource, "granularity": "all",
        "intervals": [timeutil.format_interval(0, end_ms)],
        "aggregations": [{"type": "longSum", "name": "events", "fieldName": "count"}]})  # fmt: skip
    return int(result[0]["result"]["events"] or 0)


def _processed(druid: LocalDruid, stream: str) -> int:
    resp = requests.get(f"{druid.url}/druid/indexer/v1/supervisor/{stream}/status", timeout=5)
    return int(resp.json()["payload"]["rowStats"]["processed"]) if resp.status_code == 200 else 0


# -- the events --------------------------------------------------------------------------------


def test_wikipedia_edits_are_skewed_and_plausible() -> None:
    events = generate_events("wikipedia", Random(11), [NOON] * 20_000)
    types = {"added": int, "deleted": int, "delta": int}
    for e in events:
        assert e["timestamp"] == "2025-01-01T12:00:00.000Z"
        assert all(isinstance(e[k], types.get(k, str)) for k in e if k != "countryName")
        assert e["delta"] == e["added"] - e["deleted"] and e["added"] >= 0 and e["deleted"] >= 0
        assert e["channel"] == f"#{e['language']}.wikipedia"
        assert e["isRobot"] in ("true", "false") and e["isAnonymous"] in ("true", "false")
        # Like Druid's own sample: only anonymous (IP) edits carry a country.
        assert (e["countryName"] is not None) == (e["isAnonymous"] == "true")
    languages = Counter(e["language"] for e in events)
    assert 15 <= len(languages) <= 20
    assert languages.most_common(1)[0][0] == "en" and 0.25 < languages["en"] / 20_000 < 0.45
    assert 0.60 < _share(events, "namespace", "article") < 0.70
    assert {e["namespace"] for e in events} >= {"article", "talk", "user", "template", "category"}
    assert 0.13 < _share(events, "isRobot", "true") < 0.17
    assert 0.15 < _share(events, "isAnonymous", "true") < 0.22
    pages = Counter(e["page"] for e in events)
    assert len(pages) > 1000  # a long tail ...
    top = sum(n for _, n in pages.most_common(len(pages) // 10))
    assert top > 0.5 * len(events)  # ... under a fat head
    users = Counter(e["user"] for e in events)
    assert len(users) > 2000 and users.most_common(1)[0][1] < 0.1 * len(events)
    assert _share(events, "deleted", 0) > 0.6
    added = [e["added"] for e in events]
    assert max(added) > 50 * statistics.median(added)  # a Pareto tail


def test_web_requests_are_skewed_and_plausible() -> None:
    events = generate_events("webstream", Random(12), [NOON + i for i in range(20_000)])
    for e in events:
        assert set(e) == {"timestamp", "url", "referrer", "userAgent", "country", "method",
                          "statusCode", "latency", "bytes"}  # fmt: skip
        assert e["url"].startswith("/") and e["statusCode"].isdigit()
        assert isinstance(e["latency"], float) and e["latency"] >= 0
        assert isinstance(e["bytes"], int) and e["bytes"] >= 0
    assert events[1]["timestamp"] == "2025-01-01T12:00:00.001Z"
    urls = Counter(e["url"] for e in events)
    assert urls.most_common(1)[0][0] == "/" and 100 < len(urls) < 1000
    assert 0.8 < _share(events, "statusCode", "200") < 0.9
    assert Counter(e["referrer"] for e in events).most_common(1)[0][0] == "-"
    assert 10 <= len({e["userAgent"] for e in events}) <= 20
    latency = sorted(e["latency"] for e in events)
    assert 20 < latency[len(latency) // 2] < 100 < latency[int(len(latency) * 0.99)]


def test_the_same_seed_gives_the_same_events() -> None:
    times = [NOON + i * 1000 for i in range(50)]
    for kind in ("wikipedia", "webstream"):
        assert generate_events(kind, Random(5), times) == generate_events(kind, Random(5), times)
        assert generate_events(kind, Random(5), times) != generate_events(kind, Random(6), times)


def test_the_daily_rhythm_peaks_in_the_afternoon_and_averages_one() -> None:
    day = [rhythm(NOON + m * timeutil.MINUTE) for m in range(24 * 60)]
    assert abs(statistics.mean(day) - 1) < 1e-6
    assert abs(max(day) - 1.5) < 1e-3 and abs(rhythm(NOON + 3 * HOUR) - 1.5) < 1e-9  # 15:00
    assert abs(min(day) - 0.5) < 1e-3 and abs(rhythm(NOON - 9 * HOUR) - 0.5) < 1e-9  # 03:00
    assert abs(expected_events(NOON, NOON + 24 * HOUR, 2.0) - 2.0 * 86_400) < 1e-6
    assert abs(expected_events(NOON + 3 * HOUR - 1, NOON + 3 * HOUR + 1, 1.0) - 0.003) < 1e-9
    # History follows it: the busiest hour holds about three times the quietest.
    times = sample_timestamps(Random(1), NOON - 12 * HOUR, NOON + 12 * HOUR, 2.0)
    assert abs(len(times) / (24 * 3600 * 2.0) - 1) < 0.02
    assert times == sorted(times) and times[0] >= NOON - 12 * HOUR and times[-1] < NOON + 12 * HOUR
    per_hour = Counter((t // HOUR) % 24 for t in times)
    assert 2.5 < per_hour[15] / per_hour[3] < 3.5


def test_the_backfill_stops_at_existing_data_and_runs_newest_first() -> None:
    period = timeutil.parse_period("P1D")
    now = NOON + 25 * 60_000 + 123
    assert backfill_window(now, period, None) == (now - 24 * HOUR, now)
    # Existing data from 11:40: the 11:00 chunk holding it is never replaced.
    assert backfill_window(now, period, NOON - 20 * 60_000) == (now - 24 * HOUR, NOON - HOUR)
    assert backfill_window(now, period, now - 25 * HOUR) is None
    start, end = now - 24 * HOUR, now
    slices = backfill_slices(start, end, 10.0)
    assert slices[0][1] == end and slices[-1][0] == start
    assert all(newer[0] == older[1] for newer, older in itertools.pairwise(slices))
    assert all(lo % HOUR == 0 for lo, _, _ in slices[:-1])  # cut at chunk boundaries
    assert all(hi - lo <= 24 * HOUR and 10 * 1.5 * (hi - lo) / 1000 < MAX_TASK_EVENTS
               for lo, hi, _ in slices)  # fmt: skip
    assert not any(append for *_, append in slices)
    assert len(backfill_slices(start, end, 0.1)) == 2  # 25 hour chunks; at most 24 a task
    # A rate too high for an hour per task: the newest piece replaces the chunk, others append.
    busy = backfill_slices(NOON, NOON + HOUR, 500.0)
    assert [a for *_, a in busy] == [False] + [True] * (len(busy) - 1) and len(busy) > 1


def test_supervisor_spec_declares_the_datasource_the_demo_queries() -> None:
    spec = supervisor_spec("wikipedia")
    schema = spec["spec"]["dataSchema"]
    assert spec["type"] == "localdruid" and schema["dataSource"] == "wikipedia"
    assert "namespace" in schema["dimensionsSpec"]["dimensions"]
    assert {"type": "count", "name": "count"} in schema["metricsSpec"]
    web = supervisor_spec("webstream", datasource="web2")["spec"]["dataSchema"]
    assert web["dataSource"] == "web2" and {"type": "count", "name": "rows"} in web["metricsSpec"]


# -- the command, against a real server ----------------------------------------------------------


def test_backfill_then_live_and_a_rerun_adds_no_history(druid: LocalDruid) -> None:
    ds = f"gen_wiki_{uuid.uuid4().hex[:6]}"
    args = ["wikipedia", "--datasource", ds, "--backfill", "PT6H", "--backfill-rate", "2",
            "--rate", "20", "--duration", "2", "--seed", "3"]  # fmt: skip
    began = int(time.time() * 1000)
    first = _generate(druid.url, *args)
    assert first.returncode == 0, first.stderr
    assert "backfilling" in first.stdout and "stopped after" in first.stdout

    bounds = druid.query({"queryType": "timeBoundary", "dataSource": ds})[0]["result"]
    assert abs(timeutil.parse_instant(bounds["minTime"]) - (began - 6 * HOUR)) < 5 * 60_000
    segments = druid.query({"queryType": "segmentMetadata", "dataSource": ds,
                            "intervals": ["2000/2100"], "analysisTypes": ["interval"]})  # fmt: skip
    chunks = {timeutil.parse_interval(s["intervals"][0]) for s in segments}
    assert 6 <= len(chunks) <= 8 and all(e - s == HOUR and s % HOUR == 0 for s, e in chunks)
    assert _processed(druid, ds) > 0
    cut = began // 60_000 * 60_000  # live events are truncated to the minute (queryGranularity)
    history = _events_before(druid, ds, cut)
    total = _events_before(druid, ds, began + 3_600_000)
    assert history > 6 * 3600 * 2 * 0.4 and total > history

    again = _generate(druid.url, *args)
    assert again.returncode == 0, again.stderr
    assert "already there" in again.stdout
    assert _events_before(druid, ds, cut) == history  # no duplicated history
    assert _events_before(druid, ds, began + 3_600_000) > total  # but more live events


def test_ctrl_c_stops_cleanly_and_live_events_fill_every_second(druid: LocalDruid) -> None:
    ds = f"gen_web_{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1,localhost"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "localdruid", "generate", "webstream", "--rate", "60",
         "--datasource", ds, "--url", druid.url],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while _processed(druid, ds) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped after" in out

    now = int(time.time() * 1000)
    result = druid.query({
        "queryType": "timeseries", "dataSource": ds, "granularity": "second",
        "intervals": [timeutil.format_interval(now - 60_000, now)],
        "aggregations": [{"type": "longSum", "name": "events", "fieldName": "rows"}]})  # fmt: skip
    counts = {timeutil.parse_instant(r["timestamp"]): r["result"]["events"] or 0 for r in result}
    busy = [second for second, n in counts.items() if n]
    inner = range(min(busy) + 1000, max(busy), 1000)  # the whole seconds of streaming
    assert len(inner) >= 2 and all(counts.get(second, 0) > 0 for second in inner)
    assert sum(counts.values()) == _processed(druid, ds)


def test_an_unreachable_server_is_a_warning_live_and_an_error_for_backfill() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    live = _generate(url, "webstream", "--duration", "1")
    assert live.returncode == 0 and "Traceback" not in live.stderr
    assert live.stderr.count("warning: cannot reach") == 1
    backfill = _generate(url, "wikipedia", "--backfill", "PT1H", "--duration", "1")
    assert backfill.returncode == 1 and "cannot reach localdruid" in backfill.stderr
    assert "Traceback" not in backfill.stderr


def test_the_kafka_example_feeds_the_same_schema_into_real_druid() -> None:
    """docs/kafka-wikipedia-supervisor.json (in the README) must match what the demo streams."""
    kafka = json.loads((ROOT / "docs" / "kafka-wikipedia-supervisor.json").read_text())
    assert kafka["type"] == "kafka" and kafka["spec"]["ioConfig"]["type"] == "kafka"
    assert kafka["spec"]["dataSchema"] == data_schema("wikipedia")
