"""Load benchmark of the site: gunicorn with production settings in front of localdruid, the
results endpoint of saved queries driven by concurrent clients with the cache on and off, against
the same Druid queries sent directly through pydruid in the same run."""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request  # pydruid 0.6.9 uses urllib.request without importing it
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from engine import (  # the harness of bench/engine.py (on sys.path)
    REPO,
    Server,
    cores,
    free_port,
    in_scratch,
)
from pydruid.client import PyDruid
from pydruid.query import Query

# Four of the demo's saved queries over the wikipedia stream (explorer/demo.py): one of each shape.
SLUGS = [
    "top-languages-by-article-edits",  # topN, last hour, filtered on namespace
    "hourly-edits-robots-vs-humans",  # timeseries by hour, filtered aggregators
    "top-pages-by-bytes-added",  # topN over the high-cardinality page, a post-aggregator
    "edits-by-country-and-namespace",  # groupBy with a not-null filter and a limitSpec
]
DATASOURCE = "wikipedia"
TARGET_CACHE_RATIO = 10.0
TARGET_OVERHEAD_MS = 10.0
DRUID_TIMEOUT_MS = 30_000

# Runs inside `manage.py shell` with the site's settings: the bench process itself needs no Django.
SETUP_SCRIPT = """
import json, os
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from explorer.demo import DEMO_QUERIES
from explorer.models import Visibility
from explorer.services import saved_query_save

plan = json.loads(os.environ["LOAD_BENCH_PLAN"])
users = get_user_model()
owner = users.objects.create_user("load-owner")
for spec in DEMO_QUERIES:
    if spec["slug"] in plan["slugs"]:
        data = {**spec, "cache_ttl": plan["cache_ttl"], "visibility": Visibility.EVERYONE}
        saved_query_save(owner=owner, data=data)
tokens = [
    Token.objects.create(user=users.objects.create_user(f"load-{i}")).key
    for i in range(plan["users"])
]
print(json.dumps({"tokens": tokens}))
"""


# Cache hits' run-log rows are written in batches (explorer/runlog.py): all must be there at the end
COUNT_CACHED_RUNS = (
    "from explorer.models import QueryRun; print(QueryRun.objects.filter(cached=True).count())"
)


# -- the site ------------------------------------------------------------------------------------


class Site:
    """The site under gunicorn with production settings, on a fresh SQLite database."""

    def __init__(self, scratch: Path, druid_url: str, args: argparse.Namespace) -> None:
        self.scratch = scratch
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = scratch / "gunicorn.log"
        self.proc: subprocess.Popen[bytes] | None = None
        # Nothing from the caller's environment or a developer's .env may change the settings.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
        self.env.update(
            DJANGO_SETTINGS_MODULE="druidsite.settings",
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            # Plain HTTP on loopback: with the redirect on, every request would answer 301.
            DJANGO_SECURE_SSL_REDIRECT="false",
            DJANGO_STATIC_ROOT=str(scratch / "static"),
            DATABASE_URL=f"sqlite:///{scratch / 'db.sqlite3'}"
            + (f"?{args.db_options}" if args.db_options else ""),
            CACHE_URL=args.cache_url,
            RESULTS_THROTTLE_RATE=args.throttle_rate,
            DRUID_URL=druid_url,
            DRUID_USERNAME="",
            DRUID_PASSWORD="",
            DRUID_TIMEOUT_MS=str(DRUID_TIMEOUT_MS),
            LOG_LEVEL="WARNING",
        )

    def manage(self, *command: str, extra: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=REPO,
            env={**self.env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {command[0]} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def prepare(self, slugs: list[str], users: int, cache_ttl: int) -> list[str]:
        """Migrate, collect the static files, create the saved queries; returns API tokens."""
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        plan = json.dumps({"slugs": slugs, "users": users, "cache_ttl": cache_ttl})
        out = self.manage("shell", "-c", SETUP_SCRIPT, extra={"LOAD_BENCH_PLAN": plan})
        return list(json.loads(out.strip().splitlines()[-1])["tokens"])

    def start(self, token: str, timeout: float = 60.0) -> None:
        cmd = [sys.executable, "-m", "gunicorn", "druidsite.wsgi"]
        cmd += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(self.args.workers)]
        cmd += ["--threads", str(self.args.threads), "--timeout", "120"]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                answer = requests.get(
                    f"{self.url}/api/queries/",
                    headers={"Authorization": f"Token {token}"},
                    timeout=5,
                )
                if answer.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"gunicorn did not serve the API; its log ends with:\n{tail}")

    def stop(self, timeout: float = 30.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def load_data(url: str, args: argparse.Namespace) -> None:
    """Backfill the wikipedia stream with localdruid's own generator (batch tasks, inline data)."""
    cmd = [sys.executable, "-m", "localdruid", "generate", "wikipedia", "--url", url]
    cmd += ["--backfill", args.backfill, "--backfill-rate", str(args.rate), "--duration", "0"]
    cmd += ["--quiet", "--seed", "42"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"the backfill failed:\n{done.stdout}{done.stderr}")


def druid_query_of(url: str, token: str, slug: str) -> dict[str, Any]:
    """The exact Druid JSON the site sends for a saved query (relative intervals resolved, as
    `GET /api/queries/{slug}/druid/` shows), taken from the meta of a first, uncached run."""
    answer = requests.get(
        f"{url}/api/queries/{slug}/results/?refresh=1",
        headers={"Authorization": f"Token {token}"},
        timeout=DRUID_TIMEOUT_MS / 1000 + 30,
    )
    if answer.status_code != 200:
        raise RuntimeError(f"the first run of {slug} answered {answer.status_code}: {answer.text}")
    return dict(answer.json()["meta"]["druid_query"])


# -- the clients ---------------------------------------------------------------------------------

# One request by one client: its sequence number in, None or an error's description out.
Call = Callable[[int], str | None]


def site_client(url: str, token: str, slugs: list[str], refresh: bool, hits: list[int]) -> Call:
    """A keep-alive connection on the results endpoint; counts the answers that were cache hits.

    It speaks through the standard library's http.client: the clients share the machine's two
    cores with the site, and requests costs about 1 ms of CPU per request against 0.15 ms, so
    with requests the load generator itself took a fifth of the CPU of the cached phase."""
    parts = urllib.parse.urlsplit(url)
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    suffix = "?refresh=1" if refresh else ""
    paths = [f"/api/queries/{slug}/results/{suffix}" for slug in slugs]
    timeout = DRUID_TIMEOUT_MS / 1000 + 30
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def call(k: int) -> str | None:
        target = paths[k % len(paths)]
        for attempt in (1, 2):
            try:
                connection.request("GET", target, headers=headers)
                answer = connection.getresponse()
                body = answer.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server may close a kept-alive connection between two requests: one retry
                # on a new connection, as any HTTP client does; a second failure counts.
                connection.close()
                if attempt == 2:
                    raise
        if answer.status != 200:
            return f"HTTP {answer.status} on {target}: {body[:300]!r}"
        if json.loads(body)["meta"]["cached"]:
            hits.append(1)
        return None

    return call


def druid_body(query: dict[str, Any]) -> dict[str, Any]:
    """What explorer/client.py posts for a query: a private copy with a queryId and a timeout."""
    body = json.loads(json.dumps(query))
    context = body.setdefault("context", {})
    context["queryId"] = str(uuid.uuid4())
    context["timeout"] = min(int(context.get("timeout") or DRUID_TIMEOUT_MS), DRUID_TIMEOUT_MS)
    return body


def pydruid_client(url: str, queries: list[dict[str, Any]]) -> Call:
    """The same native queries, posted the way the site's client posts them (pydruid's _post)."""
    client = PyDruid(url, "druid/v2/")

    def call(k: int) -> str | None:
        body = druid_body(queries[k % len(queries)])
        result = client._post(Query(body, body["queryType"]))
        if not isinstance(result.result, list):
            return f"not a list of results: {str(result.result)[:300]}"
        return None

    return call


# -- CPU accounting ------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used; 0 when it is gone or there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if int(entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (all processes, anyone's)."""
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle and iowait
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS


def own(proc: subprocess.Popen[bytes] | None) -> list[int]:
    return [proc.pid] if proc is not None else [-1]


class Meter:
    """CPU seconds used by the site, localdruid and the clients, and by the machine: what is
    left is other processes' (on a shared machine, they take cores from the bench)."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups

    def read(self) -> dict[str, float]:
        used = {name: sum(map(process_cpu, pids())) for name, pids in self.groups.items()}
        used["machine"] = machine_cpu()
        return used

    @staticmethod
    def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {name: after[name] - before[name] for name in before}


# -- phases --------------------------------------------------------------------------------------


@dataclass
class Phase:
    """What one phase measured: latencies of the successful requests, and the failures."""

    name: str
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # ms
    errors: int = 0
    samples: list[str] = field(default_factory=list)
    hits: int | None = None
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by side, during the phase

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def drive(
    name: str,
    make: Callable[[int], Call],
    clients: int,
    seconds: float,
    max_requests: int,
    meter: Meter,
) -> Phase:
    """`clients` threads, each with its own connection, calling as fast as answers come back,
    until `seconds` have passed or `max_requests` have been started."""
    phase = Phase(name, clients)
    calls = [make(i) for i in range(clients)]
    lock = threading.Lock()
    issued = 0
    start = threading.Barrier(clients + 1)
    deadline = 0.0

    def run(i: int, call: Call) -> None:
        nonlocal issued
        mine: list[float] = []
        start.wait()
        k = i  # each client begins on a different query, then goes round-robin
        while time.perf_counter() < deadline:
            with lock:
                if issued >= max_requests:
                    break
                issued += 1
            began = time.perf_counter()
            try:
                problem = call(k)
            except Exception as exc:  # every failure counts; the first few are shown
                problem = f"{type(exc).__name__}: {str(exc)[:300]}"
            elapsed = (time.perf_counter() - began) * 1000
            k += 1
            with lock:
                if problem is None:
                    mine.append(elapsed)
                else:
                    phase.errors += 1
                    if len(phase.samples) < 5:
                        phase.samples.append(problem)
        with lock:
            phase.latencies += mine

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    before = meter.read()
    began = time.perf_counter()
    deadline = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - began
    phase.cpu = meter.delta(before, meter.read())
    return phase


@dataclass
class Sequential:
    """One client alternating the site (cache off) and pydruid on the same query, per query."""

    site: dict[str, list[float]]
    druid: dict[str, list[float]]
    pairs: dict[str, list[float]]  # site minus pydruid, same query, same round
    errors: list[str]
    cpu: dict[str, float] = field(default_factory=dict)

    def all(self, side: dict[str, list[float]]) -> list[float]:
        return [ms for values in side.values() for ms in values]

    def overhead(self, slug: str | None = None) -> float:
        """The median of the paired differences (site minus pydruid on the same query, one
        right after the other), for one query or over all of them."""
        return percentile(self.all(self.pairs) if slug is None else self.pairs[slug], 50)

    def site_cpu_ms(self) -> float:
        """The site's CPU per request of its own: the pydruid calls never reach it."""
        return self.cpu.get("site", 0.0) * 1000 / max(1, len(self.all(self.site)))


def sequential(
    site: Call, druid: Call, slugs: list[str], seconds: float, meter: Meter
) -> Sequential:
    """Without queueing: the site's own cost per request, paired with the engine's on each query.
    Alternating the two sides makes a drift of the machine's speed hit both alike."""
    out = Sequential(*({s: [] for s in slugs} for _ in range(3)), errors=[])
    before = meter.read()
    deadline = time.perf_counter() + seconds
    k = 0
    while time.perf_counter() < deadline or k < len(slugs):
        slug = slugs[k % len(slugs)]
        pair = []
        for side, call in ((out.site, site), (out.druid, druid)):
            began = time.perf_counter()
            try:
                problem = call(k)
            except Exception as exc:
                problem = f"{type(exc).__name__}: {str(exc)[:300]}"
            if problem is None:
                pair.append((time.perf_counter() - began) * 1000)
                side[slug].append(pair[-1])
            else:
                out.errors.append(problem)
        if len(pair) == 2:
            out.pairs[slug].append(pair[0] - pair[1])
        k += 1
    out.cpu = Meter.delta(before, meter.read())
    return out


# -- the run -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ncores = cores()
    parser = argparse.ArgumentParser(
        description=(
            "The site under load: gunicorn with production settings, localdruid behind it, the "
            "results endpoint of four demo saved queries driven by concurrent clients with the "
            "cache on and off, and the same Druid queries sent directly through pydruid."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=20, help="length of each load phase")
    parser.add_argument(
        "--max-requests", type=int, default=50_000, help="requests at most per load phase"
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument(
        "--workers", type=int, default=ncores, help="gunicorn worker processes (default: cores)"
    )
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument(
        "--cache-url",
        default="locmem://",
        help="the site's CACHE_URL; locmem is per worker process, each worker warms its own",
    )
    parser.add_argument(
        "--cache-ttl", type=int, default=300, help="cache_ttl given to every saved query (s)"
    )
    parser.add_argument(
        "--throttle-rate",
        default="100000/s",
        help="RESULTS_THROTTLE_RATE: high enough never to throttle, per second so that the "
        "throttle's history per user stays short",
    )
    parser.add_argument(
        "--db-options",
        default="",
        help="a query string appended to the SQLite DATABASE_URL, e.g. conn_max_age=600 "
        "(django-environ's spelling of CONN_MAX_AGE)",
    )
    parser.add_argument(
        "--sequential-seconds",
        type=float,
        default=10,
        help="length of the one-client measurement (site and pydruid alternating)",
    )
    parser.add_argument(
        "--warmup-seconds", type=float, default=3, help="cached load before measuring"
    )
    parser.add_argument("--backfill", default="P1D", help="history to generate (ISO period)")
    parser.add_argument("--rate", type=float, default=5, help="mean generated events per second")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    if min(args.seconds, args.max_requests, args.clients, args.workers, args.threads) <= 0:
        parser.error("--seconds, --max-requests, --clients, --workers and --threads must be > 0")
    return args


def print_phases(phases: list[Phase]) -> None:
    print(
        f"\n{'phase':<30} {'clients':>7} {'requests':>8} {'req/s':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'errors':>6} {'cache hits':>10}"
    )
    for ph in phases:
        hits = "" if ph.hits is None else f"{ph.hits / max(1, len(ph.latencies)):.0%}"
        print(
            f"{ph.name:<30} {ph.clients:>7} {ph.requests:>8} {ph.throughput:>8.1f} "
            f"{ph.p(50):>8.1f} {ph.p(99):>8.1f} {ph.errors:>6} {hits:>10}"
        )
    for ph in phases:
        for sample in ph.samples:
            print(f"  error in {ph.name}: {sample}")
    ncores = cores()
    print(
        f"\nCPU in cores (CPU seconds / wall seconds, of {ncores}), and CPU ms per request\n"
        f"{'phase':<30} {'site':>6} {'druid':>6} {'clients':>7} {'others':>6} {'idle':>6} "
        f"{'site ms/req':>11} {'druid ms/req':>12}"
    )
    for ph in phases:
        used = {k: v / ph.seconds for k, v in ph.cpu.items()}
        ours = used["site"] + used["druid"] + used["client"]
        others = max(0.0, used["machine"] - ours)
        idle = max(0.0, ncores - used["machine"])
        per = {k: v * 1000 / max(1, ph.requests) for k, v in ph.cpu.items()}
        print(
            f"{ph.name:<30} {used['site']:>6.2f} {used['druid']:>6.2f} {used['client']:>7.2f} "
            f"{others:>6.2f} {idle:>6.2f} {per['site']:>11.2f} {per['druid']:>12.2f}"
        )


def print_sequential(seq: Sequential, slugs: list[str]) -> None:
    print(
        f"\none client, cache off, site and pydruid alternating "
        f"({len(seq.all(seq.site))} + {len(seq.all(seq.druid))} requests)"
    )
    print(f"{'query':<34} {'site p50':>9} {'pydruid p50':>12} {'overhead p50':>13}")
    for slug in slugs:
        print(
            f"{slug:<34} {percentile(seq.site[slug], 50):>9.1f} "
            f"{percentile(seq.druid[slug], 50):>12.1f} {seq.overhead(slug):>13.1f}"
        )
    print(
        f"{'all four':<34} {percentile(seq.all(seq.site), 50):>9.1f} "
        f"{percentile(seq.all(seq.druid), 50):>12.1f} {seq.overhead():>13.1f}"
    )
    print(f"the site's own CPU per request in this run: {seq.site_cpu_ms():.1f} ms")
    for sample in seq.errors[:5]:
        print(f"  error in the one-client run: {sample}")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_targets(
    cached: Phase, uncached: Phase, direct: Phase, seq: Sequential, logged: int, hits: int
) -> None:
    errors = sum(p.errors for p in (cached, uncached, direct)) + len(seq.errors)
    ratio = cached.throughput / uncached.throughput if uncached.throughput else math.inf
    overhead = seq.overhead()
    loaded = uncached.p(50) - direct.p(50)
    print("\ntargets")
    print(f"  zero errors: {errors} error(s)  {verdict(errors == 0)}")
    print(
        f"  cached throughput >= {TARGET_CACHE_RATIO:g}x uncached: {cached.throughput:.0f} / "
        f"{uncached.throughput:.0f} req/s = {ratio:.1f}x  {verdict(ratio >= TARGET_CACHE_RATIO)}"
    )
    print(
        f"  uncached overhead p50 < {TARGET_OVERHEAD_MS:g} ms (one client, median of site - "
        f"pydruid on the same query): {overhead:.1f} ms  {verdict(overhead < TARGET_OVERHEAD_MS)}"
    )
    print(
        f"  every cache hit in the run log: {logged:,} rows for {hits:,} hits answered  "
        f"{verdict(logged == hits)}"
    )
    print(
        f"  for information, under load ({uncached.clients} clients): site p50 - pydruid p50 = "
        f"{uncached.p(50):.1f} - {direct.p(50):.1f} = {loaded:.1f} ms (includes queueing for "
        "the site's worker threads)"
    )


def run(args: argparse.Namespace, scratch: Path) -> int:
    print("command:", shlex.join(["python", *sys.argv]))
    print(
        f"machine: {cores()} cores, python {sys.version.split()[0]}; gunicorn {args.workers} "
        f"worker(s) x {args.threads} thread(s); {args.clients} clients; CACHE_URL "
        f"{args.cache_url}; cache_ttl {args.cache_ttl} s; phases of {args.seconds:g} s or "
        f"{args.max_requests:,} requests",
        flush=True,
    )
    druid = Server(scratch / "localdruid", scratch / "localdruid.log")
    site = Site(scratch, druid.url, args)
    try:
        druid.start()
        began = time.perf_counter()
        load_data(druid.url, args)
        print(
            f"data: wikipedia backfill {args.backfill} at {args.rate:g} events/s, "
            f"loaded in {time.perf_counter() - began:.1f} s",
            flush=True,
        )
        tokens = site.prepare(SLUGS, args.clients, args.cache_ttl)
        site.start(tokens[0])
        queries = [druid_query_of(site.url, tokens[0], slug) for slug in SLUGS]
        print(f"site up at {site.url}; warming up", flush=True)
        meter = Meter({
            "site": lambda: [*own(site.proc), *children(own(site.proc)[0])],
            "druid": lambda: own(druid.proc),
            "client": lambda: [os.getpid()],
        })  # fmt: skip

        answered_hits = 0

        def site_phase(name: str, refresh: bool, seconds: float) -> Phase:
            nonlocal answered_hits
            hits: list[int] = []
            phase = drive(
                name,
                lambda i: site_client(site.url, tokens[i], SLUGS, refresh, hits),
                args.clients,
                seconds,
                args.max_requests,
                meter,
            )
            phase.hits = len(hits)
            answered_hits += len(hits)
            print(f"{name}: done", flush=True)
            return phase

        site_phase("warm-up", False, args.warmup_seconds)
        seq = sequential(
            site_client(site.url, tokens[0], SLUGS, True, []),
            pydruid_client(druid.url, queries),
            SLUGS,
            args.sequential_seconds,
            meter,
        )
        print("one client: done", flush=True)
        uncached = site_phase("site, cache off (?refresh=1)", True, args.seconds)
        direct = drive(
            "pydruid direct",
            lambda i: pydruid_client(druid.url, queries),
            args.clients,
            args.seconds,
            args.max_requests,
            meter,
        )
        print("pydruid direct: done", flush=True)
        cached = site_phase("site, cache on", False, args.seconds)
    finally:
        site.stop()  # gunicorn's graceful stop: each worker writes its queued run-log rows
        druid.stop()
    logged = int(site.manage("shell", "-c", COUNT_CACHED_RUNS).strip().splitlines()[-1])
    print_phases([cached, uncached, direct])
    print_sequential(seq, SLUGS)
    print_targets(cached, uncached, direct, seq, logged, answered_hits)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    socket.setdefaulttimeout(120)  # pydruid's urlopen has no timeout of its own
    return in_scratch("druidsite-load-", args.keep, lambda scratch: run(args, scratch))


if __name__ == "__main__":
    sys.exit(main())
