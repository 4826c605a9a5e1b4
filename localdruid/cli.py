"""Command line: `python -m localdruid serve | ingest | generate`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localdruid import auth

DEFAULT_URL = "http://127.0.0.1:8082"
ALLOWED_DIRS_ENV = "LOCALDRUID_ALLOWED_DIRS"


def allowed_dirs(flags: list[str], environ: Mapping[str, str] = os.environ) -> list[Path]:
    """Directories local input sources may read, besides the data directory: `--allow-dir`
    flags, then LOCALDRUID_ALLOWED_DIRS (separated like PATH)."""
    listed = environ.get(ALLOWED_DIRS_ENV, "").split(os.pathsep)
    return [Path(d).resolve() for d in [*flags, *listed] if d.strip()]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from localdruid.server import create_app

    try:
        credentials = auth.credentials_from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    allowed = allowed_dirs(args.allow_dir)
    app, engine = create_app(
        Path(args.data_dir),
        host=f"{args.host}:{args.port}",
        memory_limit=args.memory_limit,
        allowed_dirs=allowed,
        credentials=credentials,
        ignore_druid_timestamp_spec=args.ignore_timestamp_spec_for_druid_input_source,
    )
    print(
        f"localdruid serving {Path(args.data_dir).resolve()} on http://{args.host}:{args.port}"
        f" (basic auth {'on' if credentials else 'off'}; local input sources may read "
        f"{', '.join(str(d) for d in engine.allowed_dirs)})",
        flush=True,
    )
    try:
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            access_log=args.access_log,
        )
    finally:
        engine.close()
    return 0


def request(url: str, data: bytes | None = None, timeout: float = 30) -> Any:
    """GET, or POST the given JSON bytes, with the environment's credentials; the JSON answer."""
    req = urllib.request.Request(
        url,
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json", **auth.authorization_headers()},
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"null")


def error_text(exc: urllib.error.HTTPError) -> str:
    """Druid's error message from an error answer, for a one-line CLI message."""
    try:
        body = json.loads(exc.read())
        return str(body.get("errorMessage") or body.get("error") or body)
    except ValueError:
        return str(exc)


def resolve_local_paths(task: dict[str, Any], base: Path) -> dict[str, Any]:
    """Make a local input source's relative paths (a combining source's delegates' too) relative
    to the spec file, not the server."""
    pending = [task.get("spec", {}).get("ioConfig", {}).get("inputSource", {})]
    while pending:
        source = pending.pop()
        if not isinstance(source, dict):
            continue
        if source.get("type") == "combining" and isinstance(source.get("delegates"), list):
            pending.extend(source["delegates"])
        if source.get("type") != "local":
            continue
        if isinstance(source.get("baseDir"), str) and not os.path.isabs(source["baseDir"]):
            source["baseDir"] = str((base / source["baseDir"]).resolve())
        if isinstance(source.get("files"), list):
            source["files"] = [
                f if not isinstance(f, str) or os.path.isabs(f) else str((base / f).resolve())
                for f in source["files"]
            ]
    return task


def ingest(url: str, task: dict[str, Any], *, progress: bool = True) -> dict[str, Any]:
    """Submit a task and follow it to the end, drawing a progress bar; returns the final status."""
    from tqdm import tqdm

    task_id = request(f"{url}/druid/indexer/v1/task", json.dumps(task).encode())["task"]
    bar = tqdm(
        total=100,
        unit="%",
        desc="pending",
        disable=not progress,
        bar_format="{desc:<10} {bar} {n:.0f}% [{elapsed}]",
    )
    try:
        while True:
            doc = request(f"{url}/druid/indexer/v1/task/{urllib.parse.quote(task_id)}/status")
            phase = doc.get("progress", {})
            bar.set_description_str(str(phase.get("phase", "")))
            bar.n = round(100 * float(phase.get("fraction", 0)), 1)
            bar.refresh()
            if doc["status"]["status"] != "RUNNING":
                return doc
            time.sleep(0.2)
    finally:
        bar.close()


def _ingest(args: argparse.Namespace) -> int:
    try:
        auth.credentials_from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = Path(args.spec)
    try:
        task = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    task = resolve_local_paths(task, path.parent)
    try:
        doc = ingest(args.url.rstrip("/"), task, progress=not args.quiet)
    except urllib.error.HTTPError as exc:
        print(f"error: the server refused the task: {error_text(exc)}", file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"error: cannot reach localdruid at {args.url}: {exc.reason}", file=sys.stderr)
        return 1
    status = doc["status"]
    if status["status"] != "SUCCESS":
        print(f"task {status['id']} FAILED: {status.get('errorMsg')}", file=sys.stderr)
        return 1
    reports = request(
        f"{args.url.rstrip('/')}/druid/indexer/v1/task/{urllib.parse.quote(status['id'])}/reports"
    )
    stats = reports["ingestionStatsAndErrors"]["payload"]["rowStats"]["buildSegments"]
    print(
        f"task {status['id']} SUCCESS in {status['duration']} ms: "
        f"{stats.get('processed', 0)} rows processed, {stats.get('unparseable', 0)} unparseable, "
        f"{stats.get('thrownAway', 0)} thrown away"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m localdruid",
        description="localdruid: an embedded Apache Druid-compatible server on DuckDB. It answers "
        "Druid's native query API (POST /druid/v2/) and native batch ingestion "
        "(POST /druid/indexer/v1/task), so any Druid client can use it.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the server",
        description="Run the Druid-compatible HTTP server.",
        epilog=f"Basic auth: set {auth.USERNAME_ENV} and {auth.PASSWORD_ENV} in the environment "
        "(never on the command line) and every endpoint except /status/health asks for them; "
        "`ingest` and `generate` send them from the same variables. Local input sources may "
        "only read files under the data directory and the --allow-dir directories.",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; use 0.0.0.0 to expose it)",
    )
    serve.add_argument("--port", type=int, default=8082, help="port (default 8082, Druid's broker)")
    serve.add_argument(
        "--data-dir",
        default="var/localdruid",
        help="where data persists across restarts (default var/localdruid)",
    )
    serve.add_argument(
        "--memory-limit",
        default="",
        help="DuckDB memory limit, e.g. 2GB (default: 80%% of RAM); larger work spills to disk",
    )
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level (default warning)",
    )
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument(
        "--allow-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a directory `local` input sources may read, besides the data directory "
        f"(repeatable; also {ALLOWED_DIRS_ENV}, separated by '{os.pathsep}')",
    )
    serve.add_argument(
        "--ignore-timestamp-spec-for-druid-input-source",
        action="store_true",
        help="rows read by the `druid` input source keep their __time whatever the task's "
        "timestampSpec says, like Druid's druid.indexer.task."
        "ignoreTimestampSpecForDruidInputSource (the behaviour of Druid 0.19 and earlier)",
    )
    serve.set_defaults(func=_serve)

    ing = sub.add_parser(
        "ingest",
        help="submit an ingestion spec and follow it",
        description="Submit a Druid native batch task (index, index_parallel or compact) to a "
        "running server, draw a progress bar until the task ends, and print its row counts. "
        "Relative paths of a local input source are taken relative to the spec file. "
        f"Sends basic auth credentials from {auth.USERNAME_ENV} and {auth.PASSWORD_ENV} "
        "when they are set.",
    )
    ing.add_argument("spec", help="path of the ingestion spec (JSON)")
    ing.add_argument("--url", default=DEFAULT_URL, help=f"server URL (default {DEFAULT_URL})")
    ing.add_argument("--quiet", action="store_true", help="no progress bar")
    ing.set_defaults(func=_ingest)

    from localdruid import generate

    generate.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
