"""Security over real HTTP: basic auth, local input sources confined to allowed directories,
and hostile strings in queries and specs that stay data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.localdruid.conftest import timeseries
from tests.localdruid.harness import ROOT, LocalDruid, inline_task

USER, PASSWORD = "analyst", "s3cret: with a colon"
AUTH_ENV = {"LOCALDRUID_USERNAME": USER, "LOCALDRUID_PASSWORD": PASSWORD}
ERROR_KEYS = {"error", "errorMessage", "errorClass", "host"}


def _datasources(server: LocalDruid) -> list[str]:
    resp = requests.get(f"{server.url}/druid/v2/datasources", auth=server.auth, timeout=10)
    assert resp.status_code == 200, resp.text
    return list(resp.json())


# -- basic auth ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDruid]:
    server = LocalDruid(tmp_path_factory.mktemp("secured") / "data", env=AUTH_ENV).start()
    server.ingest(inline_task("guarded", [{"timestamp": "2024-01-01T00:00:00Z", "d": "x"}]))
    yield server
    server.stop()


def test_health_needs_no_credentials(secured: LocalDruid) -> None:
    for path in ("/status/health", "//status/health/"):
        resp = requests.get(f"{secured.url}{path}", timeout=10)
        assert resp.status_code == 200 and resp.json() is True


@pytest.mark.parametrize(
    "auth",
    [None, (USER, "wrong"), ("someone", PASSWORD), (USER, PASSWORD + "x"), (USER, "s3cret")],
    ids=["none", "wrong password", "wrong user", "longer password", "prefix of the password"],
)
def test_missing_or_wrong_credentials_are_401(
    secured: LocalDruid, auth: tuple[str, str] | None
) -> None:
    query = {"queryType": "timeBoundary", "dataSource": "guarded"}
    calls = [
        ("GET", "/status", None),
        ("GET", "/druid/v2/datasources", None),
        ("POST", "/druid/v2/", query),
        ("POST", "/druid/indexer/v1/task", inline_task("sneaky", [])),
        ("GET", "/no/such/path", None),
    ]
    for method, path, body in calls:
        resp = requests.request(method, f"{secured.url}{path}", json=body, auth=auth, timeout=10)
        assert resp.status_code == 401, (path, resp.text)
        assert resp.headers["WWW-Authenticate"].startswith("Basic")
        payload = resp.json()
        assert set(payload) >= ERROR_KEYS and payload["error"] == "Unauthorized request"
    assert "sneaky" not in _datasources(secured)


@pytest.mark.parametrize("header", ["Bearer abc", "Basic !!!", "Basic " + "YW5hbHlzdA==", "Basic"])
def test_malformed_authorization_headers_are_401(secured: LocalDruid, header: str) -> None:
    resp = requests.get(f"{secured.url}/status", headers={"Authorization": header}, timeout=10)
    assert resp.status_code == 401


def test_right_credentials_reach_every_endpoint(secured: LocalDruid) -> None:
    resp = requests.get(f"{secured.url}/status", auth=(USER, PASSWORD), timeout=10)
    assert resp.status_code == 200 and "version" in resp.json()
    result = secured.query({"queryType": "timeBoundary", "dataSource": "guarded"})
    assert result[0]["result"]["minTime"] == "2024-01-01T00:00:00.000Z"
    assert "guarded" in _datasources(secured)


def test_ingest_command_sends_the_credentials_from_the_environment(
    secured: LocalDruid, tmp_path: Path
) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(inline_task("by_cli", [{"timestamp": "2024-01-02T00:00:00Z"}])))
    command = [sys.executable, "-m", "localdruid", "ingest", str(spec), "--url", secured.url]
    bare = {k: v for k, v in os.environ.items() if not k.startswith("LOCALDRUID_")}
    refused = subprocess.run(
        command, cwd=ROOT, env=bare, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 1 and "Unauthorized" in refused.stderr
    done = subprocess.run(
        command, cwd=ROOT, env={**bare, **AUTH_ENV}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "SUCCESS" in done.stdout


def test_half_configured_auth_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALDRUID_")}
    done = subprocess.run(
        [sys.executable, "-m", "localdruid", "serve", "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        env={**env, "LOCALDRUID_USERNAME": USER},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "LOCALDRUID_PASSWORD" in done.stderr


def test_serve_help_documents_auth_and_allowed_dirs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "localdruid", "serve", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    for text in ("LOCALDRUID_USERNAME", "LOCALDRUID_PASSWORD", "--allow-dir"):
        assert text in out
    assert "LOCALDRUID_ALLOWED_DIRS" in out.replace("\n", " ").replace(" ", "")


# -- local input sources -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def confined(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalDruid, Path]]:
    """A server allowed to read its data directory and `<root>/in` (named in the environment),
    with input files inside and outside, and links from inside to outside."""
    root = tmp_path_factory.mktemp("confined")
    (root / "in").mkdir()
    (root / "out").mkdir()
    row = json.dumps({"timestamp": "2024-01-01T00:00:00Z", "d": "secret"})
    (root / "out" / "secret.json").write_text(row)
    (root / "in" / "ok.json").write_text(row.replace("secret", "fine"))
    (root / "in" / "link.json").symlink_to(root / "out" / "secret.json")
    (root / "in" / "outdir").symlink_to(root / "out", target_is_directory=True)
    server = LocalDruid(
        root / "data", env={"LOCALDRUID_ALLOWED_DIRS": str(root / "in")}, allow_dirs=[]
    ).start()
    yield server, root
    server.stop()


def _local_task(datasource: str, source: dict[str, Any]) -> dict[str, Any]:
    task = inline_task(datasource, [], dimensions=["d"])
    task["spec"]["ioConfig"]["inputSource"] = {"type": "local", **source}
    return task


def _refused(server: LocalDruid, task: dict[str, Any]) -> str:
    resp = requests.post(f"{server.url}/druid/indexer/v1/task", json=task, timeout=30)
    assert resp.status_code == 400, resp.text
    payload = resp.json()
    assert set(payload) >= ERROR_KEYS and payload["error"] == "Invalid input"
    return str(payload["errorMessage"])


def test_local_sources_outside_the_allowed_dirs_are_400(
    confined: tuple[LocalDruid, Path],
) -> None:
    server, root = confined
    cases = [
        ({"baseDir": "/etc", "filter": "passwd"}, "/etc"),
        ({"files": ["/etc/passwd"]}, "/etc/passwd"),
        ({"files": [str(root / "in" / ".." / "out" / "secret.json")]}, "secret.json"),
        ({"baseDir": str(root / "in" / ".."), "filter": "*.json"}, str(root / "in" / "..")),
        ({"files": ["../../../../../../etc/passwd"]}, "etc/passwd"),
        ({"files": [str(root / "in" / "link.json")]}, "link.json"),
        ({"baseDir": str(root / "in"), "filter": "*.json"}, "link.json"),
        ({"baseDir": str(root / "in" / "outdir"), "filter": "*"}, "outdir"),
        ({"files": [str(root / "in" / "ok.json"), "/etc/hostname"]}, "/etc/hostname"),
    ]
    for i, (source, named) in enumerate(cases):
        message = _refused(server, _local_task(f"escape{i}", source))
        assert named in message and "outside" in message, message
        assert "root:" not in message  # the file was named, never read
    assert not [name for name in _datasources(server) if name.startswith("escape")]


def test_local_sources_inside_the_allowed_dirs_load(confined: tuple[LocalDruid, Path]) -> None:
    server, root = confined
    server.ingest(_local_task("from_env_dir", {"files": [str(root / "in" / "ok.json")]}))
    inside = server.data_dir / "inputs"
    inside.mkdir()
    (inside / "a.json").write_text(json.dumps({"timestamp": "2024-01-01T00:00:00Z", "d": "own"}))
    server.ingest(_local_task("from_data_dir", {"baseDir": str(inside), "filter": "*.json"}))
    for datasource, value in (("from_env_dir", "fine"), ("from_data_dir", "own")):
        rows = server.query(
            {
                "queryType": "groupBy",
                "dataSource": datasource,
                "intervals": ["2024/2025"],
                "granularity": "all",
                "dimensions": ["d"],
            }
        )
        assert [row["event"]["d"] for row in rows] == [value]


# -- hostile strings -----------------------------------------------------------------------------

EVIL_DS = 'x"; DROP TABLE _localdruid_datasources; --'
EVIL_DIM = "a' OR 1=1 --"
EVIL_COL = 'b"); DROP TABLE edits; --'
EVIL_VALUE = "O'Brien \"quoted\" \\ '); DROP TABLE edits; --"


@pytest.fixture(scope="module")
def hostile(druid: LocalDruid) -> str:
    rows = [
        {"when": "2024-01-01T00:00:00Z", EVIL_DIM: EVIL_VALUE, EVIL_COL: 3},
        {"when": "2024-01-01T01:00:00Z", EVIL_DIM: "plain", EVIL_COL: 4},
    ]
    druid.ingest(
        inline_task(
            EVIL_DS,
            rows,
            dimensions=[EVIL_DIM],
            metrics=[{"type": "longSum", "name": EVIL_COL + "_sum", "fieldName": EVIL_COL}],
            timestamp={"column": "when", "format": "yyyy-MM-dd'T'HH:mm:ss'Z'"},
        )
    )
    return EVIL_DS


def test_hostile_names_and_values_are_only_data(
    druid: LocalDruid, edits: str, hostile: str
) -> None:
    boundary = druid.query({"queryType": "timeBoundary", "dataSource": hostile})
    assert boundary[0]["result"]["minTime"] == "2024-01-01T00:00:00.000Z"
    result = druid.query(
        {
            "queryType": "groupBy",
            "dataSource": hostile,
            "intervals": ["2024/2025"],
            "granularity": "all",
            "dimensions": [EVIL_DIM],
            "aggregations": [{"type": "longSum", "name": "total", "fieldName": EVIL_COL + "_sum"}],
        }
    )
    assert sorted((r["event"][EVIL_DIM], r["event"]["total"]) for r in result) == [
        (EVIL_VALUE, 3),
        ("plain", 4),
    ]
    resp = requests.get(
        f"{druid.url}/druid/v2/datasources/{urllib.parse.quote(hostile, safe='')}",
        params={"interval": "2024/2025"},
        timeout=10,
    )
    assert resp.json() == {"dimensions": [EVIL_DIM], "metrics": [EVIL_COL + "_sum"]}
    assert hostile in _datasources(druid)
    assert druid.query(timeseries(edits))[0]["result"]["rows"] == 6


@pytest.mark.parametrize(
    "filter_",
    [
        {"type": "selector", "dimension": EVIL_DIM, "value": EVIL_VALUE},
        {"type": "in", "dimension": EVIL_DIM, "values": [EVIL_VALUE, "' OR ''='"]},
        {"type": "like", "dimension": EVIL_DIM, "pattern": "O'Brien%"},
        {"type": "regex", "dimension": EVIL_DIM, "pattern": '^O\'Brien "quoted"'},
        {
            "type": "search",
            "dimension": EVIL_DIM,
            "query": {"type": "contains", "value": "'); DROP"},
        },
        {"type": "bound", "dimension": EVIL_DIM, "lower": "O'", "upper": "O'C"},
    ],
    ids=["selector", "in", "like", "regex", "search", "bound"],
)
def test_hostile_filter_values_match_exactly(
    druid: LocalDruid, hostile: str, filter_: dict[str, Any]
) -> None:
    result = druid.query(
        {
            "queryType": "timeseries",
            "dataSource": hostile,
            "intervals": ["2024/2025"],
            "granularity": "all",
            "filter": filter_,
            "aggregations": [{"type": "count", "name": "rows"}],
        }
    )
    assert result[0]["result"]["rows"] == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dataSource", "nope'; DROP TABLE edits; --"),
        ("dataSource", {"type": "table", "name": 'edits" UNION SELECT 1 --'}),
        ("intervals", ["2024-01-01'; DROP TABLE edits; --/2024-02-01"]),
        ("granularity", "day'; DROP TABLE edits; --"),
        ("filter", {"type": "regex", "dimension": "page", "pattern": "('"}),
        ("filter", {"type": "like", "dimension": "page", "pattern": "%' OR 1=1 --", "escape": "'"}),
        (
            "virtualColumns",
            [{"type": "expression", "name": "v", "expression": "1); DROP TABLE edits; --"}],
        ),
    ],
)
def test_hostile_query_fields_are_refused_or_empty(
    druid: LocalDruid, edits: str, field: str, value: Any
) -> None:
    query = timeseries(edits, **{field: value})
    resp = druid.post(query)
    assert resp.status_code < 500 or resp.status_code == 501, resp.text
    if resp.status_code == 200:
        assert all(r["result"].get("rows") in (0, None) for r in resp.json()), resp.text
    else:
        assert 400 <= resp.status_code < 502 and set(resp.json()) >= ERROR_KEYS
    assert druid.query(timeseries(edits))[0]["result"]["rows"] == 6
