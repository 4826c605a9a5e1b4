"""Benchmark of localdruid against hand-written DuckDB SQL: four queries and batch ingestion."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request  # pydruid 0.6.9 uses urllib.request without importing it
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from pydruid.client import PyDruid
from pydruid.utils.aggregators import count, longsum
from pydruid.utils.filters import Dimension

REPO = Path(__file__).resolve().parent.parent
DATASOURCE = "wikiedits"
START_MS = 1_729_382_400_000  # 2024-10-20T00:00:00Z; the 30 days cross the US DST change
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
LA = "America/Los_Angeles"
TOPN_NAMESPACE = "Main"
# 20 languages, most edited first; 60 countries.
_LANGUAGE_TEXT = "en de fr ja ru es it zh pl pt nl sv uk ar fa ko vi he cs fi"
LANGUAGES = _LANGUAGE_TEXT.split()
NAMESPACES = ["Main", "User", "Talk", "Wikipedia", "User talk", "File", "Template", "Category"]
_COUNTRY_TEXT = (
    "United States,United Kingdom,Germany,France,Japan,India,Canada,Australia,Russia,Spain,"
    "Italy,Brazil,Mexico,Netherlands,Poland,Sweden,China,South Korea,Ukraine,Iran,Israel,"
    "Argentina,Turkey,Indonesia,Philippines,Vietnam,Czechia,Finland,Norway,Denmark,Austria,"
    "Switzerland,Belgium,Portugal,Ireland,New Zealand,South Africa,Egypt,Nigeria,Kenya,Chile,"
    "Colombia,Peru,Venezuela,Greece,Hungary,Romania,Bulgaria,Serbia,Croatia,Slovakia,"
    "Slovenia,Lithuania,Latvia,Estonia,Thailand,Malaysia,Singapore,Pakistan,Bangladesh"
)
COUNTRIES = _COUNTRY_TEXT.split(",")
DIMENSIONS = ["channel", "language", "namespace", "page", "user", "isRobot", "countryName"]
METRICS = ["added", "deleted", "delta"]


# -- data ----------------------------------------------------------------------------------------


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _zipf(n: int) -> str:
    """A Zipf-like rank in 1..n: log-uniform, so P(k) is about proportional to 1/k."""
    return f"CAST(floor(exp(random() * ln({n + 1}))) AS INTEGER)"


def generate_sql(path: Path, rows: int, days: int) -> str:
    """DuckDB SQL writing `rows` Wikipedia-edit-like JSON lines over `days` days to `path`."""
    span = days * DAY_MS
    draws = f"""
        SELECT {START_MS} + CAST(floor(random() * {span}) AS BIGINT) AS t,
               least({_zipf(20)}, 20) AS lang,
               least(CAST(floor(pow(random(), 3) * 8) AS INTEGER) + 1, 8) AS ns,
               least({_zipf(50_000)}, 50000) AS page,
               least({_zipf(200_000)}, 200000) AS usr,
               random() < 0.15 AS robot,
               CASE WHEN random() < 0.7 THEN NULL ELSE least({_zipf(60)}, 60) END AS country,
               CAST(floor(pow(random(), 4) * 5000) AS BIGINT) AS added,
               CAST(floor(pow(random(), 6) * 1000) AS BIGINT) AS deleted
        FROM range({int(rows)})"""
    return f"""
        COPY (
            SELECT strftime(epoch_ms(t), '%Y-%m-%dT%H:%M:%S.%gZ') AS "timestamp",
                   '#' || {_sql_list(LANGUAGES)}[lang] || '.wikipedia' AS channel,
                   {_sql_list(LANGUAGES)}[lang] AS language,
                   {_sql_list(NAMESPACES)}[ns] AS namespace,
                   'Page_' || page AS page,
                   'User_' || usr AS "user",
                   robot AS isRobot,
                   {_sql_list(COUNTRIES)}[country] AS countryName,
                   added, deleted, added - deleted AS delta
            FROM ({draws}) AS d
        ) TO '{path}' (FORMAT json)"""


def generate(path: Path, rows: int, days: int, threads: int) -> float:
    """Write the dataset; returns seconds taken."""
    started = time.perf_counter()
    with duckdb.connect(config={"threads": threads}) as con:
        con.execute(generate_sql(path, rows, days))
    return time.perf_counter() - started


# -- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_json(url: str, body: Any = None, timeout: float = 60.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


class Server:
    """A `python -m localdruid serve` subprocess on a data directory."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        cmd = [sys.executable, "-m", "localdruid", "serve", "--port", str(self.port)]
        cmd += ["--data-dir", str(self.data_dir)]
        # The generated input files sit next to the data directory, in the scratch directory.
        cmd += ["--allow-dir", str(self.data_dir.parent)]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=log)
        try:
            if self._healthy(timeout):
                return
        except BaseException:
            self.stop()
            raise
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"localdruid did not start; its log ends with:\n{tail}")

    def _healthy(self, timeout: float) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if http_json(f"{self.url}/status/health", timeout=2) is True:
                    return True
            except (urllib.error.URLError, OSError, ValueError):
                time.sleep(0.1)
        return False

    def stop(self, timeout: float = 60.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)  # uvicorn shuts down; the store checkpoints and closes
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def ingestion_task(datasource: str, path: Path) -> dict[str, Any]:
    """An index_parallel task reading the JSON file, rollup off, one segment per day."""
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": datasource,
                "timestampSpec": {"column": "timestamp", "format": "iso"},
                "dimensionsSpec": {"dimensions": DIMENSIONS},
                "metricsSpec": [{"type": "longSum", "name": m, "fieldName": m} for m in METRICS],
                "granularitySpec": {
                    "segmentGranularity": "day",
                    "queryGranularity": "none",
                    "rollup": False,
                },
            },
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {"type": "local", "files": [str(path)]},
                "inputFormat": {"type": "json"},
            },
            "tuningConfig": {"type": "index_parallel"},
        },
    }


def ingest(url: str, task: dict[str, Any], timeout: float) -> tuple[float, int]:
    """Submit a task and poll it to SUCCESS; returns (wall seconds, rows processed)."""
    started = time.perf_counter()
    task_id = http_json(f"{url}/druid/indexer/v1/task", task)["task"]
    quoted = urllib.request.quote(task_id)
    deadline = time.monotonic() + timeout
    while True:
        status = http_json(f"{url}/druid/indexer/v1/task/{quoted}/status")["status"]
        if status["status"] != "RUNNING":
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"ingestion task {task_id} still running after {timeout:.0f} s")
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    if status["status"] != "SUCCESS":
        raise RuntimeError(f"ingestion task {task_id} failed: {status.get('errorMsg')}")
    reports = http_json(f"{url}/druid/indexer/v1/task/{quoted}/reports")
    stats = reports["ingestionStatsAndErrors"]["payload"]["rowStats"]["buildSegments"]
    return elapsed, int(stats.get("processed", 0))


# -- the four queries ----------------------------------------------------------------------------


@dataclass
class Bench:
    """One query: how localdruid is asked (through pydruid) and the DuckDB SQL baseline."""

    name: str
    druid: Callable[[PyDruid], list[tuple[Any, ...]]]
    sql: str


def epoch_ms(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp).timestamp() * 1000)


def physical_columns(db_path: Path, threads: int) -> tuple[str, dict[str, str]]:
    """The datasource's DuckDB table and the physical column of each Druid column."""
    with duckdb.connect(str(db_path), read_only=True, config={"threads": threads}) as con:
        row = con.execute(
            "SELECT doc FROM _localdruid_datasources WHERE name = ?", [DATASOURCE]
        ).fetchone()
    if row is None:
        raise RuntimeError(f"datasource {DATASOURCE} is not in the catalog")
    doc = json.loads(row[0])
    return doc["table"], {c["name"]: c["physical"] for c in doc["columns"]}


def benches(table: str, col: dict[str, str], start: int, end: int) -> list[Bench]:
    interval = [f"{iso_utc(start)}/{iso_utc(end)}"]
    where = f"WHERE __time >= {start} AND __time < {end}"
    added, page, ns, channel = (col[k] for k in ("added", "page", "namespace", "channel"))
    aggs = {"count": count("count"), "added": longsum("added")}
    context = {"timeout": 600_000}

    def series(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [
            (epoch_ms(r["timestamp"]), r["result"]["count"], r["result"]["added"]) for r in rows
        ]

    def hourly(client: PyDruid) -> list[tuple[Any, ...]]:
        q = client.timeseries(
            datasource=DATASOURCE,
            granularity="hour",
            intervals=interval,
            aggregations=aggs,
            context=context,
        )
        return series(q.result)

    def topn(client: PyDruid) -> list[tuple[Any, ...]]:
        q = client.topn(
            datasource=DATASOURCE,
            granularity="all",
            intervals=interval,
            dimension="page",
            filter=Dimension("namespace") == TOPN_NAMESPACE,
            aggregations={"edits": count("count")},
            metric="edits",
            threshold=10,
            context=context,
        )
        return [(r["page"], r["edits"]) for r in q.result[0]["result"]]

    def groupby(client: PyDruid) -> list[tuple[Any, ...]]:
        q = client.groupby(
            datasource=DATASOURCE,
            granularity="all",
            intervals=interval,
            dimensions=["channel", "namespace"],
            aggregations=aggs,
            context=context,
        )
        return [
            (e["channel"], e["namespace"], e["count"], e["added"])
            for e in (r["event"] for r in q.result)
        ]

    def la_days(client: PyDruid) -> list[tuple[Any, ...]]:
        q = client.timeseries(
            datasource=DATASOURCE,
            granularity={"type": "period", "period": "P1D", "timeZone": LA},
            intervals=interval,
            aggregations=aggs,
            context=context,
        )
        return series(q.result)

    t = f'"{table}"'
    return [
        Bench(
            "timeseries hour",
            hourly,
            f"SELECT __time // {HOUR_MS} * {HOUR_MS} AS h, count(*), sum({added}) "
            f"FROM {t} {where} GROUP BY 1 ORDER BY 1",
        ),
        Bench(
            "topN page (namespace=Main)",
            topn,
            f"SELECT {page}, count(*) AS edits FROM {t} {where} AND {ns} = '{TOPN_NAMESPACE}' "
            f"GROUP BY 1 ORDER BY edits DESC, {page} LIMIT 10",
        ),
        Bench(
            "groupBy channel x namespace",
            groupby,
            f"SELECT {channel}, {ns}, count(*), sum({added}) FROM {t} {where} "
            "GROUP BY 1, 2 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST",
        ),
        Bench(
            "timeseries P1D America/LA",
            la_days,
            f"SELECT epoch_ms(timezone('{LA}', d)), n, s FROM ("
            f"SELECT date_trunc('day', timezone('{LA}', epoch_ms(__time)::TIMESTAMPTZ)) AS d, "
            f"count(*) AS n, sum({added}) AS s FROM {t} {where} GROUP BY 1) ORDER BY 1",
        ),
    ]


def iso_utc(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = run()
    return (time.perf_counter() - started) * 1000, answer


def warm(run: Callable[[], Any], runs: int, seconds: float) -> None:
    """At least `runs` runs, and more until `seconds` have passed (allocators and caches settle)."""
    started, done = time.perf_counter(), 0
    while done < runs or (time.perf_counter() - started < seconds and done < 200):
        run()
        done += 1


def compare(
    druid: Callable[[], Any], sql: Callable[[], Any], args: argparse.Namespace
) -> tuple[Timing, Timing]:
    """Warm both up, then alternate them so that drifts of the machine's speed hit both alike."""
    warm(druid, args.warmup, args.warmup_seconds)
    warm(sql, args.warmup, args.warmup_seconds)
    d_times, s_times = [], []
    for _ in range(args.repeat):
        ms, d_rows = timed(druid)
        d_times.append(ms)
        ms, s_rows = timed(sql)
        s_times.append(ms)
    return Timing(statistics.median(d_times), d_rows), Timing(statistics.median(s_times), s_rows)


@dataclass
class Timing:
    ms: float
    rows: list[tuple[Any, ...]]


def query_timings(
    url: str, con: duckdb.DuckDBPyConnection, items: list[Bench], args: argparse.Namespace
) -> list[tuple[Timing, Timing]]:
    """Each query through pydruid and as SQL on the copy of the same table."""
    client = PyDruid(url, "druid/v2")
    out = []
    for item in items:
        out.append(
            compare(
                lambda b=item: b.druid(client),
                lambda s=item.sql: [tuple(r) for r in con.execute(s).fetchall()],
                args,
            )
        )
        print(f"  timed {item.name}", flush=True)
    return out


def same_answer(druid: list[tuple[Any, ...]], sql: list[tuple[Any, ...]]) -> str:
    """'ok' when both give the same rows; otherwise what differs (row count, totals)."""
    if druid == sql:
        return f"ok ({len(druid)} rows)"
    totals = [sum(r[-1] or 0 for r in rows) for rows in (druid, sql)]
    return f"DIFFERENT: {len(druid)} vs {len(sql)} rows, last-column totals {totals}"


# -- ingestion comparison ------------------------------------------------------------------------


def duckdb_ingest(path: Path, db: Path, threads: int) -> float:
    """Seconds of DuckDB's CREATE TABLE AS read_json of the file, into a new on-disk database."""
    db.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(db), config={"threads": threads}) as con:
            started = time.perf_counter()
            con.execute("CREATE TABLE t AS SELECT * FROM read_json(?)", [str(path)])
            return time.perf_counter() - started
    finally:
        db.unlink(missing_ok=True)


def ingest_comparison(
    url: str, path: Path, scratch: Path, threads: int, args: argparse.Namespace
) -> tuple[float, float, int]:
    """Median seconds of localdruid and of DuckDB ingesting the file, alternated; and its rows."""
    ours, theirs, rows = [], [], 0
    # One untimed run of each first: this VM makes first-touched memory slow.
    ingest(url, ingestion_task(f"{DATASOURCE}_ingest_warmup", path), args.timeout)
    duckdb_ingest(path, scratch / "read_json.duckdb", threads)
    for i in range(args.ingest_repeat):
        secs, rows = ingest(url, ingestion_task(f"{DATASOURCE}_ingest_{i}", path), args.timeout)
        ours.append(secs)
        theirs.append(duckdb_ingest(path, scratch / "read_json.duckdb", threads))
    print(
        "ingestion runs (s): localdruid "
        + ", ".join(f"{t:.2f}" for t in ours)
        + "; DuckDB "
        + ", ".join(f"{t:.2f}" for t in theirs)
    )
    return statistics.median(ours), statistics.median(theirs), rows


# -- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time localdruid (pydruid over HTTP) against hand-written DuckDB SQL on the "
        "same table: four native queries and batch ingestion of JSON. Scratch data goes under "
        "/tmp and is removed at the end."
    )
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows (default 10,000,000)")
    parser.add_argument("--days", type=int, default=30, help="days of data (default 30)")
    parser.add_argument(
        "--ingest-rows",
        type=int,
        default=1_000_000,
        help="rows of the ingestion comparison file (default 1,000,000)",
    )
    parser.add_argument(
        "--warmup", type=int, default=1, help="least warm-up runs per query and engine (default 1)"
    )
    parser.add_argument(
        "--warmup-seconds",
        type=float,
        default=3.0,
        help="keep warming up a query until this many seconds have passed (default 3)",
    )
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per query (default 7)")
    parser.add_argument(
        "--ingest-repeat",
        type=int,
        default=3,
        help="timed ingestions of each kind, after one untimed (default 3)",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds allowed per ingestion (default 3600)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.days < 1 or args.ingest_rows < 1 or args.repeat < 1:
        parser.error("--rows, --days, --ingest-rows and --repeat must be positive")
    return args


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def print_header(args: argparse.Namespace, threads: int) -> None:
    print("command:", shlex.join(["python", *sys.argv]))
    print(
        f"machine: {cores()} cores (os.cpu_count()={os.cpu_count()}), "
        f"python {sys.version.split()[0]}, duckdb {duckdb.__version__}, DuckDB threads {threads}"
    )
    print(f"data: {args.rows:,} rows over {args.days} days; ingestion file {args.ingest_rows:,}")
    print(
        f"timing: median of {args.repeat} alternated runs per engine, after at least "
        f"{args.warmup} warm-up run(s) and {args.warmup_seconds:g} s of warm-up\n",
        flush=True,
    )


def print_queries(
    items: list[Bench], timings: list[tuple[Timing, Timing]], rows: int, ncores: int
) -> list[str]:
    """The results table; returns the names of the queries that missed the 1.3 target."""
    misses = []
    print(
        f"\n{'query':<28} {'localdruid ms':>13} {'DuckDB ms':>10} {'ratio':>6} {'<=1.3':>6}"
        f" {'Mrows/s/core':>13}  same answer"
    )
    for item, (ours, theirs) in zip(items, timings, strict=True):
        ratio = ours.ms / theirs.ms
        if ratio > 1.3:
            misses.append(item.name)
        rate = rows / (ours.ms / 1000) / ncores / 1e6
        print(
            f"{item.name:<28} {ours.ms:>13.1f} {theirs.ms:>10.1f} {ratio:>6.2f} "
            f"{'met' if ratio <= 1.3 else 'MISSED':>6} {rate:>13.2f}  "
            f"{same_answer(ours.rows, theirs.rows)}"
        )
    return misses


def copy_database(data_dir: Path, scratch: Path) -> Path:
    """A copy of the stopped server's database file, for the SQL baseline to open read-only."""
    copy = scratch / "baseline.duckdb"
    shutil.copyfile(data_dir / "localdruid.duckdb", copy)
    wal = data_dir / "localdruid.duckdb.wal"
    if wal.exists():
        shutil.copyfile(wal, scratch / "baseline.duckdb.wal")
    return copy


def run(args: argparse.Namespace, scratch: Path) -> int:
    threads = os.cpu_count() or 1  # what the server's Store uses
    print_header(args, threads)
    data, small = scratch / "edits.json", scratch / "edits-small.json"
    secs = generate(data, args.rows, args.days, threads)
    print(f"generated {data} ({data.stat().st_size / 1e9:.2f} GB) in {secs:.1f} s")
    secs = generate(small, args.ingest_rows, args.days, threads)
    print(f"generated {small} ({small.stat().st_size / 1e6:.0f} MB) in {secs:.1f} s", flush=True)

    data_dir = scratch / "localdruid"
    server = Server(data_dir, scratch / "server.log")
    try:
        server.start()
        ours, theirs, small_rows = ingest_comparison(server.url, small, scratch, threads, args)
        ingest_ratio = ours / theirs
        print(
            f"ingestion of {small_rows:,} JSON rows (median of {args.ingest_repeat}): localdruid "
            f"{ours:.2f} s, DuckDB read_json CTAS {theirs:.2f} s, ratio {ingest_ratio:.2f} "
            f"(target <= 2: {'met' if ingest_ratio <= 2 else 'MISSED'})",
            flush=True,
        )
        secs, processed = ingest(server.url, ingestion_task(DATASOURCE, data), args.timeout)
        print(
            f"ingested {processed:,} rows (rollup off) through localdruid in {secs:.1f} s "
            f"= {processed / secs / 1e3:.0f} k rows/s",
            flush=True,
        )
        server.stop()
        baseline = copy_database(data_dir, scratch)
        server.start()
        table, col = physical_columns(baseline, threads)
        items = benches(table, col, START_MS, START_MS + args.days * DAY_MS)
        config = {"threads": threads}
        with duckdb.connect(str(baseline), read_only=True, config=config) as con:
            con.execute("SET TimeZone = 'UTC'")
            timings = query_timings(server.url, con, items, args)
    finally:
        server.stop()
    misses = print_queries(items, timings, processed, cores())
    if ingest_ratio > 2:
        misses.append("ingestion")
    print("\ntargets missed: " + ", ".join(misses) if misses else "\nall targets met")
    return 0


def in_scratch(prefix: str, keep: bool, run: Callable[[Path], int]) -> int:
    """Run a benchmark in a new scratch directory under /tmp, removed afterwards unless kept
    (the benchmarks' --keep)."""
    scratch = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    try:
        return run(scratch)
    finally:
        if keep:
            print(f"scratch kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    socket.setdefaulttimeout(900)  # pydruid's urlopen has no timeout of its own
    return in_scratch("localdruid-bench-", args.keep, lambda scratch: run(args, scratch))


if __name__ == "__main__":
    sys.exit(main())
