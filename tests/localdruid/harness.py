"""A real localdruid process for tests: started on a free port, fed through the task API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from localdruid.auth import PASSWORD_ENV, USERNAME_ENV

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalDruid:
    """`python -m localdruid serve` as a subprocess bound to 127.0.0.1."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *extra: str,
        env: dict[str, str] | None = None,
        allow_dirs: Sequence[Path] | None = None,
    ) -> None:
        self.extra = list(extra)  # more `serve` options
        self.env = dict(env or {})  # more environment, e.g. LOCALDRUID_USERNAME and _PASSWORD
        # Tests write input files next to the data directory unless they say where.
        self.allow_dirs = [data_dir.parent] if allow_dirs is None else list(allow_dirs)
        user, password = self.env.get(USERNAME_ENV), self.env.get(PASSWORD_ENV)
        self.auth = (user, password) if user and password else None  # what the helpers send
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"localdruid-{self.port}.log"

    def start(self, timeout: float = 30.0) -> LocalDruid:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "NO_PROXY": "127.0.0.1,localhost",
            **self.env,
        }
        allow = [arg for d in self.allow_dirs for arg in ("--allow-dir", str(d))]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "localdruid",
                    "serve",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                    *allow,
                    *self.extra,
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"localdruid exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/status/health", timeout=1).json() is True:
                    return self
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("localdruid did not become healthy")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def peak_rss_mb(self) -> float:
        """The server's peak resident memory so far (VmHWM), in MiB."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    # -- HTTP ------------------------------------------------------------------------------------

    def post(self, query: Any, path: str = "/druid/v2/") -> requests.Response:
        return requests.post(f"{self.url}{path}", json=query, timeout=60, auth=self.auth)

    def query(self, query: dict[str, Any]) -> Any:
        resp = self.post(query)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def submit(self, task: dict[str, Any]) -> dict[str, Any]:
        resp = requests.post(
            f"{self.url}/druid/indexer/v1/task", json=task, timeout=30, auth=self.auth
        )
        assert resp.status_code == 200, resp.text
        task_id = resp.json()["task"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = requests.get(
                f"{self.url}/druid/indexer/v1/task/{task_id}/status", timeout=10, auth=self.auth
            ).json()
            if status["status"]["status"] != "RUNNING":
                return status
            time.sleep(0.05)
        raise TimeoutError(task_id)

    def ingest(self, task: dict[str, Any]) -> dict[str, Any]:
        status = self.submit(task)
        assert status["status"]["status"] == "SUCCESS", status
        return status


def inline_task(
    datasource: str,
    rows: list[dict[str, Any]] | str,
    *,
    dimensions: list[Any] | None = None,
    metrics: list[dict[str, Any]] | None = None,
    segment_granularity: Any = "day",
    query_granularity: Any = "none",
    rollup: bool = True,
    intervals: list[str] | None = None,
    input_format: dict[str, Any] | None = None,
    timestamp: dict[str, Any] | None = None,
    append: bool = False,
    drop_existing: bool = False,
    transform_filter: Any = None,
    dimension_exclusions: list[str] | None = None,
) -> dict[str, Any]:
    """An index_parallel task over inline data (JSON rows, or text for other formats)."""
    data = rows if isinstance(rows, str) else "\n".join(json.dumps(r) for r in rows)
    granularity: dict[str, Any] = {
        "segmentGranularity": segment_granularity,
        "queryGranularity": query_granularity,
        "rollup": rollup,
    }
    if intervals:
        granularity["intervals"] = intervals
    schema: dict[str, Any] = {
        "dataSource": datasource,
        "timestampSpec": timestamp or {"column": "timestamp", "format": "iso"},
        "dimensionsSpec": {"dimensions": dimensions or []},
        "metricsSpec": metrics or [],
        "granularitySpec": granularity,
    }
    if dimension_exclusions:
        schema["dimensionsSpec"]["dimensionExclusions"] = dimension_exclusions
    if transform_filter is not None:
        schema["transformSpec"] = {"filter": transform_filter}
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": schema,
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {"type": "inline", "data": data},
                "inputFormat": input_format or {"type": "json"},
                "appendToExisting": append,
                "dropExisting": drop_existing,
            },
            "tuningConfig": {"type": "index_parallel"},
        },
    }


def scan_rows(druid: LocalDruid, datasource: str, columns: list[str]) -> list[list[Any]]:
    """The rows of a datasource, as compacted lists of the given columns."""
    result = druid.query(
        {
            "queryType": "scan",
            "dataSource": datasource,
            "intervals": ["2000-01-01/2100-01-01"],
            "columns": columns,
            "resultFormat": "compactedList",
        }
    )
    return [event for batch in result for event in batch["events"]]


def stored_dimensions(druid: LocalDruid, datasource: str) -> list[str]:
    """The dimensions the broker lists for a datasource."""
    resp = requests.get(
        f"{druid.url}/druid/v2/datasources/{datasource}?interval=2000-01-01/2100-01-01",
        timeout=10,
    )
    return list(resp.json()["dimensions"])


def column_types(druid: LocalDruid, datasource: str) -> dict[str, str]:
    """Each column's type, as merged segmentMetadata reports it."""
    result = druid.query(
        {
            "queryType": "segmentMetadata",
            "dataSource": datasource,
            "intervals": ["2000-01-01/2100-01-01"],
            "merge": True,
            "analysisTypes": [],
        }
    )
    return {name: column["type"] for name, column in result[0]["columns"].items()}
