"""`make run` (manage.py demo) end to end: the set-up twice on fresh data duplicates nothing, and
the full demo serves the site with live streams and stops every process on Ctrl-C."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from explorer.demo import DEMO_QUERIES
from tests.localdruid.harness import ROOT, LocalDruid, free_port

TABLES = ("auth_user", "explorer_savedquery", "explorer_dashboard", "explorer_dashboarditem")


def _env(tmp_path: Path, druid_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'site.sqlite3'}",  # no var/ yet
        "DRUID_URL": f"http://127.0.0.1:{druid_port}",
        "DJANGO_SETTINGS_MODULE": "druidsite.settings",
    }


def _demo(tmp_path: Path, druid_port: int, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--data-dir", str(tmp_path / "druid"),
         "--backfill", "PT2H", "--wikipedia-rate", "2", "--webstream-rate", "20", *args],
        cwd=ROOT, env=_env(tmp_path, druid_port), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _rows(tmp_path: Path) -> dict[str, int]:
    with sqlite3.connect(tmp_path / "var" / "site.sqlite3") as db:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _events(url: str, datasource: str, interval: str = "2000/2100") -> int:
    result = requests.post(f"{url}/druid/v2/", timeout=10, json={
        "queryType": "timeseries", "dataSource": datasource, "intervals": [interval],
        "granularity": "all", "aggregations": [
            {"type": "longSum", "name": "n", "fieldName": "count" if datasource == "wikipedia"
             else "rows"}]}).json()  # fmt: skip
    return int(result[0]["result"]["n"] or 0) if result else 0


def _druid_totals(tmp_path: Path) -> dict[str, Any]:
    server = LocalDruid(tmp_path / "druid").start()
    try:
        return {
            "wikipedia": _events(server.url, "wikipedia"),
            "webstream": _events(server.url, "webstream"),
            "datasources": requests.get(f"{server.url}/druid/v2/datasources", timeout=5).json(),
        }
    finally:
        server.stop()


def test_setting_up_twice_on_a_fresh_machine_duplicates_nothing(tmp_path: Path) -> None:
    first = _demo(tmp_path, free_port(), "--setup-only")
    output, _ = first.communicate(timeout=240)
    assert first.returncode == 0, output
    assert f"{len(DEMO_QUERIES)} of {len(DEMO_QUERIES)} demo queries created" in output
    rows, totals = _rows(tmp_path), _druid_totals(tmp_path)
    assert rows == {"auth_user": 1, "explorer_savedquery": len(DEMO_QUERIES),
                    "explorer_dashboard": 1, "explorer_dashboarditem": 5}  # fmt: skip
    assert sorted(totals["datasources"]) == ["webstream", "wikipedia"]
    assert totals["wikipedia"] > 2 * 3600 * 2 * 0.3  # two hours at 2/s, at the day's low
    assert totals["webstream"] > 2 * 3600 * 1 * 0.3

    again = _demo(tmp_path, free_port(), "--setup-only")
    output, _ = again.communicate(timeout=240)
    assert again.returncode == 0, output
    assert f"0 of {len(DEMO_QUERIES)} demo queries created" in output
    assert "already there" in output  # the dashboard, and the history
    assert _rows(tmp_path) == rows
    assert _druid_totals(tmp_path) == totals


def test_the_demo_serves_live_streams_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    druid_port, site_port = free_port(), free_port()
    druid, site = f"http://127.0.0.1:{druid_port}", f"http://127.0.0.1:{site_port}"
    demo = _demo(tmp_path, druid_port, "--addr", f"127.0.0.1:{site_port}")
    output: list[str] = []
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 180
        for line in demo.stdout:
            output.append(line)
            if "Ctrl-C stops everything" in line or time.monotonic() > deadline:
                break
        text = "".join(output)
        assert "Druid Explorer is running." in text, text
        assert "log in as demo / " in text
        assert requests.get(f"{site}/accounts/login/", timeout=5).status_code == 200
        assert requests.get(f"{site}/", timeout=5, allow_redirects=False).status_code == 302
        before = _events(druid, "webstream")
        time.sleep(1.5)
        assert _events(druid, "webstream") > before  # the live generator keeps pushing
    finally:
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=60)
        output.append(rest)
    assert demo.returncode == 0, "".join(output)
    assert "stopped: site, webstream, wikipedia, localdruid" in rest
    for url in (druid + "/status/health", site + "/accounts/login/"):
        try:
            requests.get(url, timeout=2)
            raise AssertionError(f"{url} still answers after Ctrl-C")
        except requests.ConnectionError:
            pass
