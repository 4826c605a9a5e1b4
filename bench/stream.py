"""Benchmark of localdruid's streaming pushes: sustained events per second against DuckDB inserting
the same batches, and the time from a push's acknowledgement to its events being visible."""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import shlex
import shutil
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import requests

# Run as `python bench/stream.py`, this directory is on sys.path: the server harness is shared.
from engine import COUNTRIES, LANGUAGES, NAMESPACES, Server, cores, in_scratch

DATASOURCE = "wikistream"
DIMENSIONS = ["channel", "language", "namespace", "page", "user", "countryName"]
TARGET_EVENTS_PER_S = 50_000
TARGET_P99_S = 1.0
WINDOW_S = 5.0  # throughput is also shown per window of this many seconds, to show it is sustained


# -- data ----------------------------------------------------------------------------------------


def supervisor_spec(timestamp_format: str) -> dict[str, Any]:
    """A Wikipedia-edit-like stream: six string dimensions, rolled up to the minute."""
    return {
        "type": "localdruid",
        "spec": {
            "dataSchema": {
                "dataSource": DATASOURCE,
                "timestampSpec": {"column": "timestamp", "format": timestamp_format},
                "dimensionsSpec": {"dimensions": DIMENSIONS},
                "metricsSpec": [
                    {"type": "count", "name": "count"},
                    {"type": "longSum", "name": "added", "fieldName": "added"},
                    {"type": "longSum", "name": "deleted", "fieldName": "deleted"},
                ],
                "granularitySpec": {
                    "segmentGranularity": "hour",
                    "queryGranularity": "minute",
                    "rollup": True,
                },
            },
            "ioConfig": {},
        },
    }


def iso_ms(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def stamp(ms: int, timestamp_format: str) -> str | int:
    return ms if timestamp_format == "millis" else iso_ms(ms)


def _zipf(rng: random.Random, n: int) -> int:
    """A Zipf-like rank in 1..n: log-uniform, so P(k) is about proportional to 1/k."""
    return min(int(math.exp(rng.random() * math.log(n + 1))), n)


def make_event(rng: random.Random, now_ms: int, timestamp_format: str) -> dict[str, Any]:
    lang = LANGUAGES[_zipf(rng, len(LANGUAGES)) - 1]
    return {
        "timestamp": stamp(now_ms - rng.randrange(600_000), timestamp_format),  # last 10 min
        "channel": f"#{lang}.wikipedia",
        "language": lang,
        "namespace": NAMESPACES[min(int(rng.random() ** 3 * 8), 7)],
        "page": f"Page_{_zipf(rng, 50_000)}",
        "user": f"User_{_zipf(rng, 200_000)}",
        "countryName": None if rng.random() < 0.7 else COUNTRIES[_zipf(rng, len(COUNTRIES)) - 1],
        "added": int(rng.random() ** 4 * 5000),
        "deleted": int(rng.random() ** 6 * 1000),
    }


def make_bodies(count: int, batch: int, seed: int, timestamp_format: str) -> list[bytes]:
    """`count` newline-delimited JSON bodies of `batch` events each, stamped around now."""
    rng = random.Random(seed)
    now_ms = int(time.time() * 1000)
    lines = (json.dumps(make_event(rng, now_ms, timestamp_format)) for _ in range(batch * count))
    return ["\n".join(itertools.islice(lines, batch)).encode() for _ in range(count)]


# -- pushing -------------------------------------------------------------------------------------


@dataclass
class PushLog:
    """What one pusher (or one DuckDB inserter) did: when each batch was acknowledged, and how long
    it took."""

    acks: list[tuple[float, int]] = field(default_factory=list)  # (perf_counter at ack, events)
    latencies: list[float] = field(default_factory=list)  # seconds per push
    errors: list[str] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(n for _, n in self.acks)


Send = Callable[[int], int]  # sends body number i; returns the events acknowledged


def drive(senders: list[Send], bodies: int, seconds: float) -> tuple[list[PushLog], float, float]:
    """Run each sender in its own thread, cycling over its share of the bodies, until `seconds`
    have passed; returns the logs and the first start and last acknowledgement (perf_counter)."""
    logs = [PushLog() for _ in senders]
    barrier = threading.Barrier(len(senders) + 1)

    def work(k: int, send: Send, log: PushLog) -> None:
        barrier.wait()
        deadline = time.perf_counter() + seconds
        i = k
        while time.perf_counter() < deadline:
            before = time.perf_counter()
            try:
                n = send(i % bodies)
            except Exception as exc:  # a benchmark reports failures, it does not stop at one
                log.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                if len(log.errors) > 20:
                    return
                continue
            after = time.perf_counter()
            log.acks.append((after, n))
            log.latencies.append(after - before)
            i += len(senders)

    threads = [
        threading.Thread(target=work, args=(k, send, log), daemon=True)
        for k, (send, log) in enumerate(zip(senders, logs, strict=True))
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    last = max((t for log in logs for t, _ in log.acks), default=started)
    return logs, started, last


def pusher(url: str, bodies: list[bytes], sizes: list[int]) -> Send:
    """A sender POSTing bodies to the push endpoint over its own keep-alive session."""
    session = requests.Session()
    endpoint = f"{url}/localdruid/v1/push/{DATASOURCE}"

    def send(i: int) -> int:
        resp = session.post(endpoint, data=bodies[i], timeout=120)
        if resp.status_code != 200:
            raise RuntimeError(f"push answered {resp.status_code}: {resp.text[:200]}")
        counts = resp.json()
        if counts != {"processed": sizes[i], "unparseable": 0, "thrownAway": 0}:
            raise RuntimeError(f"push of {sizes[i]} events answered {counts}")
        return int(counts["processed"])

    return send


def duckdb_inserter(con: duckdb.DuckDBPyConnection, files: list[Path], sizes: list[int]) -> Send:
    """A sender inserting a batch file into table t on its own cursor; each INSERT commits."""
    cur = con.cursor()

    def send(i: int) -> int:
        cur.execute("INSERT INTO t SELECT * FROM read_json(?)", [str(files[i])])
        return sizes[i]

    return send


@dataclass
class Throughput:
    name: str
    events: int
    pushes: int
    seconds: float
    latencies: list[float]
    windows: list[float]  # events/s per WINDOW_S window
    errors: list[str]

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def throughput(name: str, logs: list[PushLog], started: float, last: float) -> Throughput:
    acks = sorted(a for log in logs for a in log.acks)
    seconds = last - started
    windows: list[float] = []
    edge, count = started + WINDOW_S, 0
    for at, n in acks:
        while at > edge:
            windows.append(count / WINDOW_S)
            edge, count = edge + WINDOW_S, 0
        count += n
    tail = last - (edge - WINDOW_S)
    if tail > WINDOW_S / 2:  # a short last window would read as a slowdown
        windows.append(count / tail)
    return Throughput(
        name,
        sum(n for _, n in acks),
        len(acks),
        seconds,
        [t for log in logs for t in log.latencies],
        windows,
        [e for log in logs for e in log.errors],
    )


def duckdb_baseline(
    scratch: Path, bodies: list[bytes], sizes: list[int], args: argparse.Namespace
) -> Throughput:
    """The same bodies inserted by in-process DuckDB from files, one transaction per batch."""
    files = []
    for i, body in enumerate(bodies):
        path = scratch / "batches" / f"batch-{i:05d}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(body)
        files.append(path)
    db = scratch / "baseline.duckdb"
    with duckdb.connect(str(db), config={"threads": os.cpu_count() or 1}) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("CREATE TABLE t AS SELECT * FROM read_json(?) LIMIT 0", [str(files[0])])
        senders = [duckdb_inserter(con, files, sizes) for _ in range(args.pushers)]
        drive(senders, len(files), args.warmup)
        con.execute("DELETE FROM t")
        logs, started, last = drive(senders, len(files), args.duration)
        result = throughput("DuckDB", logs, started, last)
        stored = con.execute("SELECT count(*) FROM t").fetchone()
        if stored is None or stored[0] != result.events:
            result.errors.append(f"DuckDB table holds {stored} rows, {result.events} acknowledged")
    shutil.rmtree(scratch / "batches", ignore_errors=True)
    return result


# -- visibility ----------------------------------------------------------------------------------


@dataclass
class Probe:
    push_s: float  # the marker push's round trip
    visible_s: float | None  # acknowledgement to the first query counting it; None if never
    polls: int


class Prober:
    """Pushes single marker events and times each from acknowledgement to visibility."""

    def __init__(self, url: str, give_up_s: float, timestamp_format: str) -> None:
        self.url = url
        self.timestamp_format = timestamp_format
        self.give_up_s = give_up_s
        self.session = requests.Session()
        self.run_id = uuid.uuid4().hex[:8]
        self.sent = 0
        self.acked = 0

    def probe(self) -> Probe:
        self.sent += 1
        marker = f"probe-{self.run_id}-{self.sent}"
        now_ms = int(time.time() * 1000)
        event = {"timestamp": stamp(now_ms, self.timestamp_format), "page": marker, "added": 1}
        started = time.perf_counter()
        resp = self.session.post(
            f"{self.url}/localdruid/v1/push/{DATASOURCE}", data=json.dumps(event), timeout=120
        )
        acked = time.perf_counter()
        if resp.status_code != 200 or resp.json().get("processed") != 1:
            raise RuntimeError(f"marker push answered {resp.status_code}: {resp.text[:200]}")
        self.acked += 1
        query: dict[str, Any] = {
            "queryType": "timeseries",
            "dataSource": DATASOURCE,
            "granularity": "all",
            "intervals": [f"{iso_ms(now_ms - 60_000)}/{iso_ms(now_ms + 60_000)}"],
            "filter": {"type": "selector", "dimension": "page", "value": marker},
            "aggregations": [{"type": "longSum", "name": "events", "fieldName": "count"}],
        }
        polls = 0
        while True:
            polls += 1
            rows = self.session.post(f"{self.url}/druid/v2/", json=query, timeout=120).json()
            seen = time.perf_counter()
            if sum(r["result"]["events"] or 0 for r in rows) >= 1:
                return Probe(acked - started, seen - acked, polls)
            if seen - acked > self.give_up_s:
                return Probe(acked - started, None, polls)


def probe_until(
    prober: Prober, done: threading.Event, every: float, out: list[Probe], errors: list[str]
) -> None:
    """Probe about every `every` seconds until `done`: each marker push is a load of its own when
    it does not join a pusher's group commit, so probing flat out would steal the pushers' time."""
    while not done.is_set():
        started = time.perf_counter()
        try:
            out.append(prober.probe())
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
        done.wait(max(0.0, every - (time.perf_counter() - started)))


# -- checks --------------------------------------------------------------------------------------


def stored_events(url: str) -> int:
    """longSum(count) over all time: the events the datasource holds, whatever the rollup."""
    query: dict[str, Any] = {
        "queryType": "timeseries",
        "dataSource": DATASOURCE,
        "granularity": "all",
        "intervals": ["1000/3000"],
        "aggregations": [{"type": "longSum", "name": "events", "fieldName": "count"}],
    }
    rows = requests.post(f"{url}/druid/v2/", json=query, timeout=300).json()
    return int(sum(r["result"]["events"] or 0 for r in rows))


def supervisor_processed(url: str) -> int:
    resp = requests.get(f"{url}/druid/indexer/v1/supervisor/{DATASOURCE}/status", timeout=60)
    return int(resp.json()["payload"]["rowStats"]["processed"])


# -- report --------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q % of the values at or below."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def print_throughput(item: Throughput) -> None:
    lat = item.latencies or [0.0]
    batches = item.pushes / item.seconds if item.seconds > 0 else 0.0
    print(
        f"  {item.name:<10} {item.rate:>10,.0f} events/s  {batches:>7.1f} batches/s  "
        f"latency median {ms(statistics.median(lat))}, p99 {ms(percentile(lat, 99))}"
        f"  ({item.events:,} events in {item.seconds:.1f} s)"
    )
    windows = ", ".join(f"{w / 1000:.1f}k" for w in item.windows)
    print(f"  {'':<10} per {WINDOW_S:g} s: {windows}")
    for error in item.errors[:5]:
        print(f"  {item.name} ERROR: {error}")


def print_visibility(name: str, probes: list[Probe]) -> float | None:
    """One line of the visibility table; returns the p99 (None when nothing was measured)."""
    if not probes:
        print(f"  {name:<12} no probes")
        return None
    seen = [p.visible_s for p in probes if p.visible_s is not None]
    lost = len(probes) - len(seen)
    # A marker never seen counts as infinitely late.
    p99 = percentile([*seen, *[math.inf] * lost], 99)
    first = sum(p.polls == 1 for p in probes) / len(probes)
    push = [p.push_s for p in probes]
    print(
        f"  {name:<12} {len(probes):>6} {ms(statistics.median(seen or [math.inf])):>10} "
        f"{ms(p99):>10} {ms(max(seen or [math.inf])):>10} {first:>11.0%} {lost:>6}"
        f"   marker push median {ms(statistics.median(push))}, p99 {ms(percentile(push, 99))}"
    )
    return p99


# -- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Push Wikipedia-edit-like events to localdruid's streaming endpoint from "
        "concurrent pushers for a fixed time; report sustained events/s against DuckDB inserting "
        "the same batches, and acknowledgement-to-visibility times of marker events. Scratch data "
        "goes under /tmp and is removed at the end."
    )
    parser.add_argument("--pushers", type=int, default=4, help="concurrent pushers (default 4)")
    parser.add_argument("--batch", type=int, default=5000, help="events per push (default 5000)")
    parser.add_argument(
        "--duration", type=float, default=30, help="seconds of timed pushing per side (default 30)"
    )
    parser.add_argument(
        "--warmup", type=float, default=3, help="seconds of untimed pushing first (default 3)"
    )
    parser.add_argument(
        "--events",
        type=int,
        default=400_000,
        help="distinct events generated before timing, cycled over (default 400,000)",
    )
    parser.add_argument(
        "--probes", type=int, default=200, help="visibility probes in the quiet phase (default 200)"
    )
    parser.add_argument(
        "--probe-every",
        type=float,
        default=0.25,
        help="seconds between the starts of visibility probes under load (default 0.25)",
    )
    parser.add_argument(
        "--give-up",
        type=float,
        default=10,
        help="seconds after which a marker not yet visible counts as lost (default 10)",
    )
    parser.add_argument(
        "--timestamp",
        choices=["iso", "millis"],
        default="iso",
        help="how events carry their time: ISO 8601 text (default) or epoch milliseconds",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed of the events")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    if min(args.pushers, args.batch, args.events, args.probes) < 1 or args.duration <= 0:
        parser.error("--pushers, --batch, --events, --probes and --duration must be positive")
    return args


def print_header(args: argparse.Namespace) -> None:
    print("command:", shlex.join(["python", *sys.argv]))
    print(
        f"machine: {cores()} cores, load average {os.getloadavg()[0]:.2f}, "
        f"python {sys.version.split()[0]}, duckdb {duckdb.__version__}"
    )
    print(
        f"load: {args.pushers} pushers x {args.batch:,}-event NDJSON batches ({args.timestamp} "
        f"timestamps) for {args.duration:g} s after {args.warmup:g} s of warm-up, per side; "
        f"{args.probes} quiet visibility probes\n",
        flush=True,
    )


def busy_cpu_seconds() -> float:
    """CPU seconds all processes have run since boot (Linux; 0 elsewhere). Interrupt time is left
    out: the benchmark's own loopback traffic is counted there, not in any process."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system = (int(f) for f in fields[:3])
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have exited (the server)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run(args: argparse.Namespace, scratch: Path) -> int:
    print_header(args)
    busy, own, started = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    count = max(args.pushers, math.ceil(args.events / args.batch))
    bodies = make_bodies(count, args.batch, args.seed, args.timestamp)
    sizes = [args.batch] * count
    megabytes = sum(map(len, bodies)) / 1e6
    print(
        f"generated {count:,} bodies, {count * args.batch:,} events, {megabytes:.0f} MB in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )

    server = Server(scratch / "localdruid", scratch / "server.log")
    loaded: list[Probe] = []
    quiet: list[Probe] = []
    probe_errors: list[str] = []
    try:
        server.start()
        spec = supervisor_spec(args.timestamp)
        resp = requests.post(f"{server.url}/druid/indexer/v1/supervisor", json=spec, timeout=60)
        resp.raise_for_status()
        senders = [pusher(server.url, bodies, sizes) for _ in range(args.pushers)]
        warm, _, _ = drive(senders, count, args.warmup)
        # New connections: one left idle since the warm-up may have been closed by the server.
        senders = [pusher(server.url, bodies, sizes) for _ in range(args.pushers)]
        prober = Prober(server.url, args.give_up, args.timestamp)
        done = threading.Event()
        probe_args = (prober, done, args.probe_every, loaded, probe_errors)
        probing = threading.Thread(target=probe_until, args=probe_args)
        probing.start()
        logs, first, last = drive(senders, count, args.duration)
        done.set()
        probing.join()
        ours = throughput("localdruid", logs, first, last)
        print(f"pushed for {args.duration:g} s; quiet probes...", flush=True)
        for _ in range(args.probes):
            try:
                quiet.append(prober.probe())
            except Exception as exc:
                probe_errors.append(f"{type(exc).__name__}: {exc}"[:300])
        acknowledged = sum(log.events for log in warm) + ours.events + prober.acked
        stored = stored_events(server.url)
        processed = supervisor_processed(server.url)
    finally:
        server.stop()
    print("DuckDB baseline...", flush=True)
    theirs = duckdb_baseline(scratch, bodies, sizes, args)
    others = busy_cpu_seconds() - busy - (own_cpu_seconds() - own)
    elapsed = time.perf_counter() - started

    print(f"\nsustained throughput, {args.pushers} pushers x {args.batch:,} events:")
    print_throughput(ours)
    print_throughput(theirs)
    ratio = ours.rate / theirs.rate if theirs.rate else math.nan
    print(f"  ratio localdruid / DuckDB events/s: {ratio:.2f}")

    print("\nacknowledgement -> visible (one marker event per push, polled with a timeseries):")
    print(
        f"  {'phase':<12} {'probes':>6} {'median':>10} {'p99':>10} {'max':>10} "
        f"{'first poll':>11} {'lost':>6}"
    )
    p99_loaded = print_visibility("under load", loaded)
    p99_quiet = print_visibility("quiet", quiet)
    for error in probe_errors[:5]:
        print(f"  probe ERROR: {error}")

    print("\ncorrectness:")
    print(
        f"  events acknowledged {acknowledged:,}; longSum(count) over all time {stored:,} "
        f"[{'ok' if stored == acknowledged else 'MISMATCH'}]; supervisor processed {processed:,} "
        f"[{'ok' if processed == acknowledged else 'MISMATCH'}]"
    )

    print(
        f"\nother processes used {max(others, 0):.0f} CPU-seconds of the {elapsed * cores():.0f} "
        f"the machine had during the run ({max(others, 0) / (elapsed * cores()):.0%})"
    )

    p99s = [p for p in (p99_loaded, p99_quiet) if p is not None]
    worst = max(p99s) if p99s else math.inf
    print("\ntargets:")
    verdict = "PASS" if ours.rate >= TARGET_EVENTS_PER_S else "MISS"
    print(f"  sustained >= {TARGET_EVENTS_PER_S:,} events/s: {ours.rate:,.0f}  {verdict}")
    verdict = "PASS" if worst < TARGET_P99_S else "MISS"
    print(f"  p99 ack -> visible < {TARGET_P99_S:g} s (worse phase): {ms(worst)}  {verdict}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return in_scratch("localdruid-stream-", args.keep, lambda scratch: run(args, scratch))


if __name__ == "__main__":
    sys.exit(main())
