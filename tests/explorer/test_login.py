"""Logging in and out with Django's auth views, and the lockout after repeated failures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from tests.explorer.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_and_session_login(users: dict[str, User]) -> None:
    client = Client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b'name="username"' in page.content
    wrong = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert wrong.status_code == 200 and b"did not match" in wrong.content
    assert client.get("/api/queries/").status_code in (401, 403)
    ok = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert ok.status_code == 302
    assert client.get("/api/queries/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/api/queries/").status_code in (401, 403)


def _login(client: Client, username: str, password: str) -> HttpResponse:
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_repeated_failures_lock_the_login_until_the_cool_off(
    users: dict[str, User], settings: Any
) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    attacker = Client()
    statuses = [_login(attacker, "alice", f"guess {n}").status_code for n in range(3)]
    assert statuses == [200, 200, 429]
    locked = _login(attacker, "alice", PASSWORD)
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Too many failed login attempts" in text and "15 minutes" in text
    assert "_auth_user_id" not in attacker.session
    # Another user (and alice from elsewhere) can still log in.
    assert _login(Client(), "bob", PASSWORD).status_code == 302
    elsewhere = Client(REMOTE_ADDR="10.0.0.2")
    assert _login(elsewhere, "alice", PASSWORD).status_code == 302
    # Once the cool-off has passed, the right password works again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _login(attacker, "alice", PASSWORD).status_code == 302


def test_lockout_reads_the_same_for_unknown_users(users: dict[str, User], settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    pages = {}
    for username in ("alice", "nobody-by-this-name"):
        client = Client()
        _login(client, username, "wrong")
        pages[username] = _login(client, username, "wrong")
        assert pages[username].status_code == 429
    assert pages["alice"].content == pages["nobody-by-this-name"].content


def test_a_successful_login_resets_the_failure_count(users: dict[str, User], settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(2):
        assert _login(client, "alice", "wrong").status_code == 200
    assert _login(client, "alice", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(2):
        assert _login(client, "alice", "wrong").status_code == 200
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_the_admin_login_is_locked_too(users: dict[str, User], settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    client = Client()
    for _ in range(2):
        client.post("/admin/login/", {"username": "staff", "password": "wrong"})
    assert (
        client.post("/admin/login/", {"username": "staff", "password": PASSWORD}).status_code == 429
    )
