"""Every Druid failure maps once: 502 rejected (Druid's message), 503 unreachable, 504 timeout;
each with a real fault, never a 500, and each logged as a run."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User

from explorer.models import QueryRun
from tests.explorer.conftest import TIMESERIES, api, make_query
from tests.localdruid.harness import free_port

pytestmark = pytest.mark.django_db


class _FaultHandler(http.server.BaseHTTPRequestHandler):
    """A fake Druid for fault injection only: answers with whatever the test set."""

    reply: tuple[int, str, bytes] = (500, "text/html", b"<html>oops</html>")

    def do_POST(self) -> None:
        status, kind, body = self.reply
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fault_server() -> Iterator[tuple[str, type[_FaultHandler]]]:
    handler = type("Handler", (_FaultHandler,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def _run(user: User) -> Any:
    return api(user).get("/api/queries/q/results/", {"refresh": "1"})


def test_druid_unreachable_is_503_naming_the_url(users: dict[str, User], settings: Any) -> None:
    make_query(users["alice"], "q")
    settings.DRUID_URL = f"http://127.0.0.1:{free_port()}"
    resp = _run(users["alice"])
    assert resp.status_code == 503
    assert settings.DRUID_URL in resp.json()["detail"]
    assert QueryRun.objects.get().status == 503


def test_druid_silent_past_the_timeout_is_504(
    users: dict[str, User], settings: Any, silent_server: str
) -> None:
    from explorer import client

    make_query(users["alice"], "q")
    settings.DRUID_URL = silent_server
    settings.DRUID_TIMEOUT_MS = 200
    original = client.GRACE_SECONDS
    client.GRACE_SECONDS = 0.1
    try:
        resp = _run(users["alice"])
    finally:
        client.GRACE_SECONDS = original
    assert resp.status_code == 504
    assert "200 ms" in resp.json()["detail"]


def test_druid_timeout_error_is_504(
    users: dict[str, User], settings: Any, fault_server: tuple[str, Any]
) -> None:
    url, handler = fault_server
    handler.reply = (
        504,
        "application/json",
        b'{"error":"Query timeout","errorMessage":"Query did not complete",'
        b'"errorClass":"org.apache.druid.query.QueryTimeoutException","host":null}',
    )
    make_query(users["alice"], "q")
    settings.DRUID_URL = url
    resp = _run(users["alice"])
    assert resp.status_code == 504 and "Query did not complete" in resp.json()["detail"]


def test_query_druid_rejects_is_502_with_druids_message(users: dict[str, User]) -> None:
    # Valid Druid, which localdruid does not implement: it answers 501 and says why.
    make_query(
        users["alice"],
        "q",
        {
            **TIMESERIES,
            "aggregations": [
                {
                    "type": "javascript",
                    "name": "js",
                    "fieldNames": ["added"],
                    "fnAggregate": "function(current, a) { return current + a; }",
                    "fnCombine": "function(a, b) { return a + b; }",
                    "fnReset": "function() { return 0; }",
                }
            ],
            "post_aggregations": [],
        },
    )
    resp = _run(users["alice"])
    assert resp.status_code == 502
    assert "javascript" in resp.json()["detail"]


@pytest.mark.parametrize(
    "reply",
    [
        (500, "text/html", b"<html><body><pre>boom</pre></body></html>"),
        (
            500,
            "application/json",
            b'{"error":"Unknown exception","errorMessage":"boom",'
            b'"errorClass":"java.lang.RuntimeException","host":null}',
        ),
        (200, "application/json", b"this is not json"),
        (200, "application/json", b""),
        (200, "application/json", b'{"not": "a list"}'),
    ],
)
def test_garbage_from_druid_is_502_never_500(
    users: dict[str, User],
    settings: Any,
    fault_server: tuple[str, Any],
    reply: tuple[int, str, bytes],
) -> None:
    url, handler = fault_server
    handler.reply = reply
    make_query(users["alice"], "q")
    settings.DRUID_URL = url
    resp = _run(users["alice"])
    assert resp.status_code == 502, resp.content
    assert resp.json()["error"] == "druid_rejected"
    if b"boom" in reply[2]:
        assert "boom" in resp.json()["detail"]


def test_recovers_when_druid_comes_back(users: dict[str, User], settings: Any) -> None:
    make_query(users["alice"], "q")
    good = settings.DRUID_URL
    settings.DRUID_URL = f"http://127.0.0.1:{free_port()}"
    assert _run(users["alice"]).status_code == 503
    settings.DRUID_URL = good
    assert _run(users["alice"]).status_code == 200
