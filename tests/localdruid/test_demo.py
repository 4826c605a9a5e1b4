"""`make run` (python -m localdruid demo): serves, loads the sample once, stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.localdruid.harness import ROOT, free_port


def _run_demo(data_dir: Path, port: int) -> tuple[str, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localdruid",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            output.append(line)
            if "is ready" in line or time.monotonic() > deadline:
                break
        url = f"http://127.0.0.1:{port}"
        top = requests.post(
            f"{url}/druid/v2/",
            timeout=10,
            json={
                "queryType": "topN",
                "dataSource": "wikipedia",
                "intervals": ["2000/2100"],
                "granularity": "all",
                "dimension": "language",
                "metric": "edits",
                "threshold": 3,
                "aggregations": [{"type": "longSum", "name": "edits", "fieldName": "count"}],
            },
        ).json()
        assert top[0]["result"][0]["language"] == "en"
        rows = requests.post(
            f"{url}/druid/v2/",
            timeout=10,
            json={
                "queryType": "timeseries",
                "dataSource": "wikipedia",
                "intervals": ["2000/2100"],
                "granularity": "all",
                "aggregations": [{"type": "longSum", "name": "n", "fieldName": "count"}],
            },
        ).json()
        count = rows[0]["result"]["n"]
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
        output.append(rest)
    assert proc.returncode == 0, "".join(output)
    # Ctrl-C stopped the server it started, too.
    try:
        requests.get(f"http://127.0.0.1:{port}/status/health", timeout=2)
        raise AssertionError("the server is still running")
    except requests.ConnectionError:
        pass
    return "".join(output), count


def test_demo_loads_the_sample_once_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    first, count = _run_demo(data_dir, free_port())
    assert "loading the sample" in first and count == 5000
    again, count_again = _run_demo(data_dir, free_port())
    assert "already loaded" in again and count_again == 5000
