"""Logging in and out with Django's auth views."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

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
