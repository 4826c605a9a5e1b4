"""An ingestion killed with SIGKILL mid-task: after a restart the datasource is exactly what it was
before that task (the replace is atomic), the task says FAILED, and running it again replaces."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

from tests.localdruid.harness import LocalDruid, inline_task

BASE_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
ROWS = 2_000_000  # 80 ms apart: about two days, both also holding the first version


def _totals(server: LocalDruid) -> list[tuple[str, int, int]]:
    result = server.query(
        {
            "queryType": "timeseries",
            "dataSource": "killed",
            "intervals": ["2024-01-01/2024-01-04"],
            "granularity": "day",
            "aggregations": [
                {"type": "count", "name": "rows"},
                {"type": "longSum", "name": "v", "fieldName": "v"},
            ],
        }
    )
    return [(r["timestamp"][:10], r["result"]["rows"], r["result"]["v"]) for r in result]


def _task(rows: list[dict[str, Any]] | str) -> dict[str, Any]:
    return inline_task(
        "killed",
        rows,
        dimensions=["id"],
        metrics=[{"type": "longSum", "name": "v", "fieldName": "v"}],
        rollup=False,
        input_format={"type": "csv", "findColumnsFromHeader": True},
        timestamp={"column": "t", "format": "millis"},
    )


def _status(server: LocalDruid, task_id: str) -> dict[str, Any]:
    url = f"{server.url}/druid/indexer/v1/task/{task_id}/status"
    return dict(requests.get(url, timeout=10).json()["status"])


def test_ingestion_killed_mid_task_leaves_the_previous_version(tmp_path: Path) -> None:
    first = "t,id,v\n" + "".join(
        f"{BASE_MS + hour * 3_600_000},first{hour},7\n" for hour in range(0, 60, 3)
    )
    big = tmp_path / "big.csv"
    with open(big, "w") as out:
        out.write("t,id,v\n")
        out.writelines(f"{BASE_MS + i * 80},id{i},2\n" for i in range(ROWS))
    replace = _task([])
    replace["spec"]["ioConfig"]["inputSource"] = {"type": "local", "files": [str(big)]}

    server = LocalDruid(tmp_path / "data").start()
    try:
        server.ingest(_task(first))
        before = _totals(server)
        assert before == [("2024-01-01", 8, 56), ("2024-01-02", 8, 56), ("2024-01-03", 4, 28)]

        resp = requests.post(f"{server.url}/druid/indexer/v1/task", json=replace, timeout=30)
        task_id = resp.json()["task"]
        deadline = time.monotonic() + 30
        while _status(server, task_id)["runnerStatusCode"] != "RUNNING":
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.01)
        time.sleep(0.3)  # well inside the load: reading, rolling up, writing
        assert _status(server, task_id)["status"] == "RUNNING", "finished before the kill"
        server.kill()  # SIGKILL: no shutdown, no cleanup

        server.start()
        assert _totals(server) == before
        status = _status(server, task_id)
        assert status["status"] == "FAILED"
        assert "stopped before the task finished" in status["errorMsg"]

        server.ingest(replace)  # the same task again, this time to the end
        per_day = 86_400_000 // 80
        assert _totals(server) == [
            ("2024-01-01", per_day, 2 * per_day),
            ("2024-01-02", ROWS - per_day, 2 * (ROWS - per_day)),
            ("2024-01-03", 4, 28),  # not in the new data's days: kept
        ]
    finally:
        server.stop()
