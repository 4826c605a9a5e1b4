"""Faults with a real localdruid process: stopped, frozen past the timeout, timing out itself,
answering garbage, and killed and restarted with a query in flight. The API answers 503, 504 or
502 with a clear message, failed runs are logged and cache nothing, failed writes write nothing,
and the site recovers by itself once localdruid is back."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from explorer import client
from explorer.models import QueryRun, SavedQuery, Tag
from tests.datasets import EDITS, EDITS_METRICS
from tests.explorer.conftest import TIMESERIES, api, make_query
from tests.localdruid.harness import LocalDruid, inline_task

pytestmark = pytest.mark.django_db

TOTAL_ADDED = sum(row["added"] for row in EDITS)


@pytest.fixture
def own_druid(tmp_path: Path, settings: Any) -> Iterator[LocalDruid]:
    """A localdruid of this test's own (the test stops, freezes or kills it), with `edits`."""
    server = LocalDruid(tmp_path / "data").start()
    server.ingest(
        inline_task("edits", EDITS, dimensions=["channel", "page", "user"], metrics=EDITS_METRICS)
    )
    settings.DRUID_URL = server.url
    yield server
    if server.proc is not None:
        os.kill(server.proc.pid, signal.SIGCONT)
    server.stop()


@pytest.fixture
def short_timeout(settings: Any, monkeypatch: pytest.MonkeyPatch) -> int:
    settings.DRUID_TIMEOUT_MS = 300
    monkeypatch.setattr(client, "GRACE_SECONDS", 0.2)
    return 300


def _results(user: User, slug: str = "q", **params: Any) -> Any:
    return api(user).get(f"/api/queries/{slug}/results/", params)


def _added(response: Any) -> int:
    assert response.status_code == 200, response.content
    table = response.json()
    column = [c["name"] for c in table["columns"]].index("added")
    return sum(row[column] for row in table["rows"])


def test_stopped_is_503_logged_uncached_and_recovers_when_it_is_back(
    users: dict[str, User], own_druid: LocalDruid, settings: Any
) -> None:
    alice = users["alice"]
    make_query(alice, "q", cache_ttl=60)
    own_druid.stop()

    for url in ("/api/queries/q/results/", "/api/datasources/", "/api/datasources/edits/"):
        resp = api(alice).get(url)
        assert resp.status_code == 503, (url, resp.content)
        assert set(resp.json()) == {"error", "detail"}
        assert resp.json()["error"] == "druid_unavailable"
        assert resp.json()["detail"].startswith(f"Cannot reach Druid at {own_druid.url}")
    run = QueryRun.objects.get()
    assert run.status == 503 and "Cannot reach Druid" in run.error and run.rows == 0

    own_druid.start()  # same port, same data; the site is not told
    back = _results(alice)
    assert _added(back) == TOTAL_ADDED
    assert back.json()["meta"]["cached"] is False  # the failure left nothing in the cache
    assert _results(alice).json()["meta"]["cached"] is True
    assert api(alice).get("/api/datasources/").json() == [{"name": "edits"}]
    assert list(QueryRun.objects.values_list("status", flat=True)) == [200, 200, 503]


def test_frozen_past_the_timeout_is_504_and_recovers(
    users: dict[str, User], own_druid: LocalDruid, short_timeout: int
) -> None:
    make_query(users["alice"], "q", cache_ttl=60)
    assert own_druid.proc is not None
    os.kill(own_druid.proc.pid, signal.SIGSTOP)  # accepts connections, answers nothing
    try:
        resp = _results(users["alice"])
    finally:
        os.kill(own_druid.proc.pid, signal.SIGCONT)
    assert resp.status_code == 504
    assert resp.json()["error"] == "druid_timeout"
    assert f"did not answer within {short_timeout} ms" in resp.json()["detail"]
    assert QueryRun.objects.get().status == 504

    back = _results(users["alice"])
    assert _added(back) == TOTAL_ADDED and back.json()["meta"]["cached"] is False


@pytest.fixture(scope="module")
def slow_source(druid: LocalDruid, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Half a million distinct ids: grouping on them takes localdruid well over a millisecond."""
    path = tmp_path_factory.mktemp("slow") / "slow.csv"
    with open(path, "w") as out:
        out.write("t,id\n")
        out.writelines(f"{1_704_067_200_000 + i * 100},id{i}\n" for i in range(500_000))
    task = inline_task(
        "fault_slow",
        [],
        dimensions=["id"],
        metrics=[{"type": "count", "name": "n"}],
        input_format={"type": "csv", "findColumnsFromHeader": True},
        timestamp={"column": "t", "format": "millis"},
        rollup=False,
    )
    task["spec"]["ioConfig"]["inputSource"] = {"type": "local", "files": [str(path)]}
    druid.ingest(task)
    return "fault_slow"


def test_localdruid_timing_out_itself_is_504_with_the_timeout_used(
    users: dict[str, User], slow_source: str, settings: Any
) -> None:
    make_query(
        users["alice"],
        "q",
        {
            "query_type": "groupBy",
            "datasource": slow_source,
            "interval": "2024-01-01/2024-01-03",
            "granularity": "all",
            "dimensions": ["id"],
            "aggregations": [{"type": "count", "name": "c"}],
            "limit_spec": {
                "type": "default",
                "limit": 3,
                "columns": [{"dimension": "id", "direction": "descending"}],
            },
        },
        cache_ttl=60,
    )
    settings.DRUID_TIMEOUT_MS = 1  # sent as context.timeout: the engine gives up, not the site
    resp = _results(users["alice"])
    assert resp.status_code == 504, resp.content
    assert resp.json()["detail"].startswith("Druid timed out after 1 ms: Query did not complete")
    settings.DRUID_TIMEOUT_MS = 30_000
    assert _results(users["alice"]).json()["rows"][0][1] == "id99999"


def test_killed_and_restarted_with_a_query_in_flight(
    users: dict[str, User], own_druid: LocalDruid
) -> None:
    """The query is sent to a frozen engine, which is then killed -9 and started again: that
    request fails as unavailable, and the next one is answered, with nothing changed on the
    site."""
    make_query(users["alice"], "q", cache_ttl=60)
    assert own_druid.proc is not None
    os.kill(own_druid.proc.pid, signal.SIGSTOP)

    def restart() -> None:
        own_druid.kill()
        own_druid.start()

    timer = threading.Timer(0.7, restart)
    timer.start()
    try:
        resp = _results(users["alice"])
    finally:
        timer.join()
    assert resp.status_code == 503, resp.content
    assert resp.json()["error"] == "druid_unavailable"
    assert own_druid.url in resp.json()["detail"]
    assert QueryRun.objects.get().status == 503

    back = _results(users["alice"])
    assert _added(back) == TOTAL_ADDED and back.json()["meta"]["cached"] is False


def _read_request(conn: socket.socket) -> None:
    """Read the whole request: closing with unread bytes would make the kernel answer with a
    reset, which the client rightly reports as unreachable (503), not as a bad answer."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


@pytest.fixture
def raw_server() -> Iterator[tuple[str, list[bytes]]]:
    """Fault injection: answers every connection with the next bytes the test queued."""
    replies: list[bytes] = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                _read_request(conn)
                conn.sendall(replies.pop(0) if replies else b"")

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", replies
    sock.close()


def _http(body: bytes, length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {size}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(b"SSH-2.0-OpenSSH_9.2\r\n\r\n", id="not-http"),
        pytest.param(_http(b'[{"timestamp": "2024-01-01', length=400), id="cut-short"),
        pytest.param(_http(json.dumps([{"timestamp": "x", "result": "junk"}]).encode()), id="str"),
        pytest.param(_http(json.dumps([{"timestamp": "x", "result": [1, 2]}]).encode()), id="list"),
    ],
)
def test_garbage_is_502_logged_and_never_500(
    users: dict[str, User], settings: Any, raw_server: tuple[str, list[bytes]], reply: bytes
) -> None:
    url, replies = raw_server
    settings.DRUID_URL = url
    make_query(users["alice"], "q", cache_ttl=60)
    for _ in range(2):  # the failure is not cached: the second run asks again
        replies.append(reply)
        resp = _results(users["alice"])
        assert resp.status_code == 502, resp.content
        assert resp.json()["error"] == "druid_rejected"
        assert "Druid" in resp.json()["detail"]
    assert list(QueryRun.objects.values_list("status", flat=True)) == [502, 502]
    assert replies == []


def test_failed_writes_write_nothing(users: dict[str, User], own_druid: LocalDruid) -> None:
    alice = api(users["alice"])
    bad = {**TIMESERIES, "aggregations": [{"type": "longSum", "name": "x"}]}  # no fieldName
    created = alice.post(
        "/api/queries/", {"title": "T", "slug": "t", "tags": ["fresh-tag"], **bad}, "json"
    )
    assert created.status_code == 400
    assert not SavedQuery.objects.exists() and not Tag.objects.exists()

    saved = make_query(users["alice"], "q", title="Kept")
    changed = alice.put(
        "/api/queries/q/", {"title": "Changed", "slug": "q", "tags": ["fresh-tag"], **bad}, "json"
    )
    assert changed.status_code == 400
    saved.refresh_from_db()
    assert saved.title == "Kept" and saved.aggregations == TIMESERIES["aggregations"]
    assert not Tag.objects.exists()

    imported = alice.post(
        "/api/queries/import/",
        {"title": "I", "slug": "i", "query": {"queryType": "scan", "dataSource": "edits"}},
        "json",
    )
    assert imported.status_code == 400
    assert list(SavedQuery.objects.values_list("slug", flat=True)) == ["q"]

    # Saving never needs Druid: with Druid down, a valid save still works, whole.
    own_druid.stop()
    ok = alice.post(
        "/api/queries/", {"title": "T", "slug": "t", "tags": ["x"], **TIMESERIES}, "json"
    )
    assert ok.status_code == 201
    assert SavedQuery.objects.get(slug="t").tags.get().name == "x"
    assert not QueryRun.objects.exists()
