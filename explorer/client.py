"""Druid client: the only module that imports pydruid. Posts native queries to DRUID_URL,
bounded by DRUID_TIMEOUT_MS; every failure becomes DruidRejected, DruidUnavailable or
DruidTimeout."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import urllib.error
import urllib.request  # pydruid 0.6.9 uses urllib.request without importing it (upstream #228)
import uuid
from typing import Any

from django.conf import settings
from pydruid.client import PyDruid
from pydruid.query import Query

from explorer.errors import DruidRejected, DruidTimeout, DruidUnavailable

# Seconds on top of Druid's own deadline (sent as context.timeout) before the client gives up.
GRACE_SECONDS = 2.0
_local = threading.local()


class _DruidHTTPError(Exception):
    """A non-2xx answer, caught before pydruid's handler mangles its body (pydruid issue §3.4)."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


class _ErrorProcessor(urllib.request.HTTPErrorProcessor):
    def http_response(self, request: Any, response: Any) -> Any:
        if not 200 <= response.status < 300:
            raise _DruidHTTPError(response.status, response.read())
        return response

    https_response = http_response


class _TimeoutHTTPHandler(urllib.request.HTTPHandler):
    """pydruid calls urlopen without a timeout; every connection gets this thread's deadline."""

    def http_open(self, req: Any) -> Any:
        timeout = getattr(_local, "timeout", None)
        return self.do_open(
            lambda host, **kw: http.client.HTTPConnection(
                host, timeout=timeout, **{k: v for k, v in kw.items() if k != "timeout"}
            ),
            req,
        )


class _TimeoutHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: Any) -> Any:
        timeout = getattr(_local, "timeout", None)
        return self.do_open(
            lambda host, **kw: http.client.HTTPSConnection(
                host, timeout=timeout, **{k: v for k, v in kw.items() if k != "timeout"}
            ),
            req,
            # typeshed leaves out HTTPSHandler's private `_context`, which CPython always sets.
            context=self._context,  # type: ignore[attr-defined]
        )


# pydruid's urlopen uses the installed opener; ours adds the deadline and the error capture.
urllib.request.install_opener(
    urllib.request.build_opener(_TimeoutHTTPHandler, _TimeoutHTTPSHandler, _ErrorProcessor)
)


def _client() -> PyDruid:
    client = PyDruid(settings.DRUID_URL.rstrip("/"), "druid/v2/")
    if settings.DRUID_USERNAME:
        client.set_basic_auth_credentials(settings.DRUID_USERNAME, settings.DRUID_PASSWORD)
    return client


def _druid_message(status: int, body: bytes) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()[:300]
        return f"Druid answered HTTP {status} without a JSON error body: {text or '(empty)'}"
    if isinstance(payload, dict):
        message = payload.get("errorMessage") or payload.get("error")
        if message:
            return str(message)
    return f"Druid answered HTTP {status}: {str(payload)[:300]}"


def _run(call: Any, timeout_ms: int) -> Any:
    """Run one request to Druid with the deadline, mapping every failure once."""
    _local.timeout = timeout_ms / 1000 + GRACE_SECONDS
    url = settings.DRUID_URL
    try:
        return call()
    except _DruidHTTPError as exc:
        if exc.status == 504:
            raise DruidTimeout(
                f"Druid timed out after {timeout_ms} ms: {_druid_message(exc.status, exc.body)}"
            ) from None
        if exc.status in (401, 403):
            raise DruidRejected(
                f"Druid at {url} refused the site's credentials (HTTP {exc.status}: "
                f"{_druid_message(exc.status, exc.body)}); check DRUID_USERNAME and DRUID_PASSWORD"
            ) from None
        raise DruidRejected(_druid_message(exc.status, exc.body)) from None
    except TimeoutError:
        raise DruidTimeout(f"Druid at {url} did not answer within {timeout_ms} ms") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise DruidTimeout(f"Druid at {url} did not answer within {timeout_ms} ms") from None
        raise DruidUnavailable(f"Cannot reach Druid at {url}: {exc.reason}") from None
    except ConnectionError as exc:  # refused, reset, or closed without an answer
        raise DruidUnavailable(f"Cannot reach Druid at {url}: {exc}") from None
    except http.client.HTTPException as exc:  # it answered, but not in HTTP (or cut short)
        raise DruidRejected(
            f"Druid at {url} answered with something that is not HTTP: {exc!r}"[:400]
        ) from None
    except ValueError as exc:  # pydruid's json.loads of a body that is not JSON
        raise DruidRejected(f"Druid answered with something that is not JSON: {exc}") from None
    except OSError as exc:  # pydruid wraps some failures (an empty body) in IOError
        raise DruidRejected(f"Druid's answer could not be read: {str(exc)[:300]}") from None
    finally:
        _local.timeout = None


def druid_query(query: dict[str, Any], *, timeout_ms: int | None = None) -> list[Any]:
    """Post a native query through pydruid and return Druid's raw result list."""
    timeout_ms = timeout_ms or settings.DRUID_TIMEOUT_MS
    body = json.loads(json.dumps(query))  # a private copy: pydruid mutates what it is given
    context = body.setdefault("context", {})
    context.setdefault("queryId", str(uuid.uuid4()))
    context["timeout"] = min(int(context.get("timeout") or timeout_ms), timeout_ms)
    client = _client()
    # pydruid's public methods rebuild a query from keyword arguments and expect its own filter
    # objects; a saved definition is already Druid JSON, so it goes through the client's _post.
    result = _run(lambda: client._post(Query(body, body.get("queryType"))), timeout_ms)
    data = result.result
    if not isinstance(data, list):
        raise DruidRejected("Druid's answer is not a list of results")
    return data


def druid_get(path: str, *, timeout_ms: int | None = None) -> Any:
    """GET a Druid metadata endpoint (datasources, status); pydruid has no method for these."""
    timeout_ms = timeout_ms or settings.DRUID_TIMEOUT_MS
    request = urllib.request.Request(f"{settings.DRUID_URL.rstrip('/')}/{path.lstrip('/')}")
    if settings.DRUID_USERNAME:
        token = f"{settings.DRUID_USERNAME}:{settings.DRUID_PASSWORD}".encode()
        request.add_header("Authorization", f"Basic {base64.b64encode(token).decode()}")

    def call() -> Any:
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read())

    return _run(call, timeout_ms)
