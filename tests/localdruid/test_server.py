"""The HTTP surface: paths, metadata endpoints and queries, error bodies, pydruid as a client."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from pydruid.client import PyDruid
from pydruid.utils.aggregators import count, doublesum, longsum
from pydruid.utils.filters import Dimension
from pydruid.utils.postaggregator import Const, Field

from tests.localdruid.conftest import INTERVAL, slow_query, timeseries
from tests.localdruid.harness import ROOT, LocalDruid

ERROR_KEYS = {"error", "errorMessage", "errorClass", "host"}


@pytest.mark.parametrize("path", ["/druid/v2", "/druid/v2/", "//druid/v2/", "/druid/v2/?pretty"])
def test_query_paths_pydruid_and_curl_use(druid: LocalDruid, edits: str, path: str) -> None:
    resp = requests.post(f"{druid.url}{path}", json=timeseries(edits), timeout=10)
    assert resp.status_code == 200
    assert resp.json()[0]["result"]["rows"] == 6
    assert resp.headers["Content-Type"].startswith("application/json")


def test_status_health_and_datasources(druid: LocalDruid, edits: str) -> None:
    assert requests.get(f"{druid.url}/status/health", timeout=5).json() is True
    assert "version" in requests.get(f"{druid.url}/status", timeout=5).json()
    assert edits in requests.get(f"{druid.url}/druid/v2/datasources/", timeout=5).json()
    info = requests.get(
        f"{druid.url}/druid/v2/datasources/{edits}", params={"interval": INTERVAL}, timeout=5
    ).json()
    assert info == {
        "dimensions": ["channel", "page", "user"],
        "metrics": ["count", "added", "deleted", "added_d", "user_unique"],
    }
    # Like Druid's broker: only the last week by default, and no 404 for unknown names.
    recent = requests.get(f"{druid.url}/druid/v2/datasources/{edits}", timeout=5).json()
    assert recent == {"dimensions": [], "metrics": []}
    unknown = requests.get(f"{druid.url}/druid/v2/datasources/nope", timeout=5)
    assert unknown.status_code == 200 and unknown.json() == {"dimensions": [], "metrics": []}


def test_unknown_path_is_a_json_404(druid: LocalDruid) -> None:
    resp = requests.get(f"{druid.url}/druid/v3/nothing", timeout=5)
    assert resp.status_code == 404 and set(resp.json()) >= ERROR_KEYS


def test_time_boundary_and_datasource_metadata(druid: LocalDruid, edits: str) -> None:
    assert druid.query({"queryType": "timeBoundary", "dataSource": edits}) == [
        {
            "timestamp": "2024-01-01T00:10:00.000Z",
            "result": {
                "minTime": "2024-01-01T00:10:00.000Z",
                "maxTime": "2024-01-02T05:00:00.000Z",
            },
        }
    ]
    assert druid.query(
        {
            "queryType": "timeBoundary",
            "dataSource": edits,
            "bound": "maxTime",
            "filter": {"type": "selector", "dimension": "channel", "value": "fr"},
        }
    ) == [
        {"timestamp": "2024-01-01T01:05:00.000Z", "result": {"maxTime": "2024-01-01T01:05:00.000Z"}}
    ]
    assert druid.query({"queryType": "timeBoundary", "dataSource": "nope"}) == []
    assert druid.query({"queryType": "dataSourceMetadata", "dataSource": edits}) == [
        {
            "timestamp": "2024-01-02T05:00:00.000Z",
            "result": {"maxIngestedEventTime": "2024-01-02T05:00:00.000Z"},
        }
    ]


def test_segment_metadata(druid: LocalDruid, edits: str) -> None:
    per_segment = druid.query(
        {"queryType": "segmentMetadata", "dataSource": edits, "intervals": [INTERVAL]}
    )
    assert [s["numRows"] for s in per_segment] == [4, 2]
    assert per_segment[0]["intervals"] == ["2024-01-01T00:00:00.000Z/2024-01-02T00:00:00.000Z"]
    merged = druid.query(
        {
            "queryType": "segmentMetadata",
            "dataSource": edits,
            "intervals": [INTERVAL],
            "merge": True,
            "analysisTypes": ["cardinality", "minmax", "aggregators", "rollup"],
        }
    )
    assert len(merged) == 1 and merged[0]["id"] == "merged" and merged[0]["numRows"] == 6
    channel = merged[0]["columns"]["channel"]
    assert (
        channel["type"],
        channel["cardinality"],
        channel["minValue"],
        channel["maxValue"],
        channel["hasNulls"],
    ) == ("STRING", 4, "de", "fr", True)
    assert merged[0]["columns"]["user_unique"]["typeSignature"] == "COMPLEX<hyperUnique>"
    assert merged[0]["aggregators"]["added"] == {
        "type": "longSum",
        "name": "added",
        "fieldName": "added",
    }
    assert merged[0]["rollup"] is True


BAD_QUERIES = [
    ("malformed JSON", b'{"queryType": ', 400, "Json parse failed"),
    ("not an object", b"[1, 2]", 400, None),
    (
        "unknown query type",
        json.dumps({"queryType": "nope", "dataSource": "edits"}).encode(),
        400,
        None,
    ),
    (
        "missing intervals",
        json.dumps(
            {"queryType": "timeseries", "dataSource": "edits", "granularity": "all"}
        ).encode(),
        400,
        None,
    ),
    (
        "unknown aggregator",
        json.dumps(
            timeseries("edits", aggregations=[{"type": "bogusSum", "name": "x", "fieldName": "y"}])
        ).encode(),
        400,
        None,
    ),
    ("wrong field type", json.dumps({**timeseries("edits"), "granularity": 5}).encode(), 400, None),
    ("bad interval", json.dumps(timeseries("edits", intervals=["yesterday"])).encode(), 400, None),
    (
        "huge threshold",
        json.dumps(
            {
                "queryType": "topN",
                "dataSource": "edits",
                "intervals": [INTERVAL],
                "granularity": "all",
                "dimension": "page",
                "metric": "c",
                "threshold": 10**12,
                "aggregations": [{"type": "count", "name": "c"}],
            }
        ).encode(),
        400,
        None,
    ),
    (
        "post-aggregator reads an unknown name",
        json.dumps(
            timeseries(
                "edits",
                postAggregations=[{"type": "fieldAccess", "name": "p", "fieldName": "nope"}],
            )
        ).encode(),
        400,
        None,
    ),
    (
        "unsupported feature",
        json.dumps(
            {
                **timeseries("edits"),
                "virtualColumns": [{"type": "mv-filtered", "name": "v", "delegate": "page"}],
            }
        ).encode(),
        501,
        "Unsupported query",
    ),
    (
        "unsupported query type",
        json.dumps(
            {"queryType": "windowOperator", "dataSource": "edits", "intervals": [INTERVAL]}
        ).encode(),
        501,
        None,
    ),
]


@pytest.mark.parametrize(
    ("name", "body", "status", "code"), BAD_QUERIES, ids=[q[0] for q in BAD_QUERIES]
)
def test_bad_queries_get_druid_shaped_errors(
    druid: LocalDruid, edits: str, name: str, body: bytes, status: int, code: str | None
) -> None:
    resp = requests.post(
        f"{druid.url}/druid/v2/",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert resp.status_code == status, resp.text
    payload = resp.json()
    assert set(payload) >= ERROR_KEYS and payload["errorMessage"]
    if code:
        assert payload["error"] == code
    # The server keeps serving, and the data is untouched.
    assert druid.query(timeseries(edits))[0]["result"]["rows"] == 6


def test_sql_in_every_string_field_is_only_data(druid: LocalDruid, edits: str) -> None:
    evil = "x\"; DROP TABLE ds_1; SELECT '1"
    query = {
        "queryType": "groupBy",
        "dataSource": edits,
        "intervals": [INTERVAL],
        "granularity": "all",
        "dimensions": [evil, {"dimension": evil, "outputName": evil + "2"}],
        "aggregations": [{"type": "longSum", "name": evil + "3", "fieldName": evil}],
        "filter": {
            "type": "or",
            "fields": [
                {"type": "like", "dimension": evil, "pattern": evil},
                {
                    "type": "search",
                    "dimension": "page",
                    "query": {"type": "contains", "value": evil},
                },
                {"type": "in", "dimension": "page", "values": [evil, "A"]},
            ],
        },
    }
    result = druid.query(query)
    assert result == [
        {
            "version": "v1",
            "timestamp": "2024-01-01T00:00:00.000Z",
            "event": {evil: None, evil + "2": None, evil + "3": None},
        }
    ]
    assert druid.query(timeseries(edits))[0]["result"]["rows"] == 6


def test_timeout_answers_504(druid: LocalDruid, big: str) -> None:
    resp = druid.post(slow_query(big, timeout_ms=10))
    assert resp.status_code == 504, resp.text
    assert resp.json()["error"] == "Query timeout"
    assert set(resp.json()) >= ERROR_KEYS


def test_cancel_a_running_query(druid: LocalDruid, big: str) -> None:
    answers: list[requests.Response] = []
    query = slow_query(big, timeout_ms=60_000)
    query["context"]["queryId"] = "cancel-me"
    runner = threading.Thread(target=lambda: answers.append(druid.post(query)))
    runner.start()
    deadline = time.monotonic() + 30
    while runner.is_alive() and time.monotonic() < deadline:
        # The query runs for a fraction of a second; keep asking until it has answered.
        assert requests.delete(f"{druid.url}/druid/v2/cancel-me", timeout=5).status_code == 202
        time.sleep(0.01)
    runner.join(timeout=30)
    assert answers[0].status_code == 500, answers[0].text
    assert answers[0].json()["error"] == "Query cancelled"
    # Cancelling an id nobody runs is accepted too, as in Druid.
    assert requests.delete(f"{druid.url}/druid/v2/nobody", timeout=5).status_code == 202


def test_pydruid_client(druid: LocalDruid, edits: str) -> None:
    import urllib.request  # noqa: F401  (pydruid 0.6.9 needs it imported; see shared reference)

    client = PyDruid(druid.url, "druid/v2/")
    ts = client.timeseries(
        datasource=edits,
        granularity="day",
        intervals=INTERVAL,
        aggregations={"added": longsum("added"), "rows": count("rows")},
        post_aggregations={"per_row": Field("added") / Field("rows") * Const(1)},
        filter=Dimension("channel") == "en",
    )
    assert [(r["timestamp"], r["result"]["added"]) for r in ts.result] == [
        ("2024-01-01T00:00:00.000Z", 35),
        ("2024-01-02T00:00:00.000Z", 100),
    ]
    top = client.topn(
        datasource=edits,
        granularity="all",
        intervals=INTERVAL,
        aggregations={"added": doublesum("added")},
        dimension="page",
        metric="added",
        threshold=2,
    )
    assert [(r["page"], r["added"]) for r in top.result[0]["result"]] == [("A", 117.0), ("B", 25.0)]
    group = client.groupby(
        datasource=edits,
        granularity="all",
        intervals=INTERVAL,
        dimensions=["channel"],
        aggregations={"n": count("n")},
        filter=~(Dimension("page") == "A"),
    )
    assert [r["event"] for r in group.result] == [
        {"channel": None, "n": 1},
        {"channel": "de", "n": 1},
        {"channel": "en", "n": 1},
    ]
    assert (
        client.time_boundary(datasource=edits).result[0]["result"]["minTime"]
        == "2024-01-01T00:10:00.000Z"
    )


def test_concurrent_queries_during_ingestion(druid: LocalDruid, edits: str) -> None:
    from tests.localdruid.harness import inline_task

    rows = [
        {"timestamp": f"2024-05-01T00:{i % 60:02d}:00Z", "d": str(i % 7), "v": i}
        for i in range(20000)
    ]
    errors: list[str] = []
    done = threading.Event()

    def hammer() -> None:
        while not done.is_set():
            resp = druid.post(timeseries(edits))
            if resp.status_code != 200 or resp.json()[0]["result"]["rows"] != 6:
                errors.append(resp.text)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        druid.ingest(
            inline_task(
                "concurrent",
                rows,
                dimensions=["d"],
                metrics=[{"type": "longSum", "name": "v", "fieldName": "v"}],
            )
        )
    finally:
        done.set()
        for t in threads:
            t.join()
    assert errors == []
    total = druid.query(
        {
            "queryType": "timeseries",
            "dataSource": "concurrent",
            "granularity": "all",
            "intervals": ["2024-05-01/2024-05-02"],
            "aggregations": [{"type": "longSum", "name": "v", "fieldName": "v"}],
        }
    )
    assert total[0]["result"]["v"] == sum(range(20000))


def test_help_documents_every_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "localdruid", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    for command in ("serve", "ingest", "generate"):
        assert command in out
    serve = subprocess.run(
        [sys.executable, "-m", "localdruid", "serve", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    assert "--data-dir" in serve and "127.0.0.1" in serve


def test_binds_loopback_by_default(druid: LocalDruid) -> None:
    port = f"{druid.port:04X}"
    listening = [
        line.split()[1]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[1].endswith(f":{port}") and line.split()[3] == "0A"
    ]
    assert listening == [f"0100007F:{port}"]  # 127.0.0.1 only
