"""HTTP basic auth: credentials from the environment, checked in front of every endpoint."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from localdruid.errors import Unauthorized

USERNAME_ENV = "LOCALDRUID_USERNAME"
PASSWORD_ENV = "LOCALDRUID_PASSWORD"
# Druid's own servers leave the health check open so that load balancers can probe them.
UNSECURED_PATHS = frozenset({"/status/health"})


def credentials_from_env(environ: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
    """The configured (username, password), or None when auth is off; half a pair is an error."""
    username = environ.get(USERNAME_ENV, "")
    password = environ.get(PASSWORD_ENV, "")
    if not username and not password:
        return None
    if not username or not password:
        raise ValueError(f"set both {USERNAME_ENV} and {PASSWORD_ENV}, or neither")
    if ":" in username:
        raise ValueError(f"{USERNAME_ENV} must not contain ':' (HTTP basic auth splits on it)")
    return username, password


def authorization_headers(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The Authorization header a client of this server sends; empty when auth is off."""
    credentials = credentials_from_env(environ)
    if credentials is None:
        return {}
    token = base64.b64encode(":".join(credentials).encode()).decode()
    return {"Authorization": f"Basic {token}"}


def credentials_match(header: str | None, credentials: tuple[str, str]) -> bool:
    """Whether an Authorization header carries these credentials, compared in constant time."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    username, sep, password = decoded.partition(b":")
    user_ok = hmac.compare_digest(username, credentials[0].encode())
    password_ok = hmac.compare_digest(password, credentials[1].encode())
    return bool(sep) and user_ok and password_ok


class BasicAuth:
    """Answer 401 as Druid's basic authenticator does unless the request has the credentials."""

    def __init__(self, app: ASGIApp, credentials: tuple[str, str], host: str) -> None:
        self.app = app
        self.credentials = credentials
        error = Unauthorized("Unauthorized request: missing or wrong HTTP basic credentials")
        self.body = json.dumps(error.body(host), separators=(",", ":")).encode()
        self.status = error.status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNSECURED_PATHS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        header = headers.get(b"authorization", b"").decode("latin-1")
        if credentials_match(header, self.credentials):
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(self.body)).encode()),
                    (b"www-authenticate", b'Basic realm="localdruid"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": self.body})
