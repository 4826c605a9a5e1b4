"""Production settings as an operator meets them: `check --deploy`, a missing secret key, and a
real gunicorn serving the site with its security headers and whitenoise's static files."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
ONE_YEAR = 31_536_000


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of a production start: DEBUG off, a real key, nothing from the test run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="druidsite.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_in_production(tmp_path: Path) -> None:
    done = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_check_deploy_flags_a_debug_configuration(tmp_path: Path) -> None:
    done = manage(production_env(tmp_path, DJANGO_DEBUG="true"), "check", "--deploy")
    assert "security.W018" in done.stdout + done.stderr  # the check itself is live


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    # Empty, not absent: a developer's .env must not fill it in for this test.
    done = manage(production_env(tmp_path, DJANGO_SECRET_KEY=""), "check")
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false" in done.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not listen on {port}:\n{log.read_text()}")


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A real gunicorn on a free port with production settings behind a TLS-terminating proxy
    (the proxy's X-Forwarded-Proto header trusted), after collectstatic into a temporary root."""
    env = production_env(tmp_path, DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https")
    collected = manage(env, "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stderr
    port = _free_port()
    address = f"127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "druidsite.wsgi",
                "--workers",
                "1",
                "--bind",
                address,
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(port, server, log)
        yield port, tmp_path / "static"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _get(port: int, path: str, https: bool = True) -> tuple[http.client.HTTPResponse, bytes]:
    """GET through "the proxy" (X-Forwarded-Proto: https) or as plain HTTP."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"X-Forwarded-Proto": "https"} if https else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


@pytest.mark.slow
def test_gunicorn_serves_the_site_with_security_headers_and_static_files(
    gunicorn: tuple[int, Path],
) -> None:
    port, static_root = gunicorn
    plain, _ = _get(port, "/accounts/login/", https=False)
    assert plain.status == 301
    assert plain.headers["Location"] == f"https://127.0.0.1:{port}/accounts/login/"

    login, page = _get(port, "/accounts/login/")
    assert login.status == 200
    assert login.headers["Strict-Transport-Security"] == (
        f"max-age={ONE_YEAR}; includeSubDomains; preload"
    )
    assert login.headers["X-Frame-Options"] == "DENY"
    assert login.headers["X-Content-Type-Options"] == "nosniff"
    assert login.headers["Referrer-Policy"] == "same-origin"
    cookies = login.headers.get_all("Set-Cookie") or []
    assert cookies and all("Secure" in cookie for cookie in cookies)

    assert _get(port, "/")[0].headers["Location"].startswith("/accounts/login/")

    # Hashed names from collectstatic, served by whitenoise and cached by browsers for good.
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    css = manifest["css/site.css"]
    assert css != "css/site.css"
    static, _ = _get(port, f"/static/{css}")
    assert static.status == 200
    assert static.headers["Content-Type"].startswith("text/css")
    assert f"/static/{css}".encode() in page
    cache_control = static.headers["Cache-Control"]
    assert "max-age=315360000" in cache_control and "immutable" in cache_control
