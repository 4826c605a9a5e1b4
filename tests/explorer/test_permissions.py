"""Who may see, run, export, change and delete a saved query, on every endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from explorer.models import Visibility
from tests.explorer.conftest import TIMESERIES, api, make_query

pytestmark = pytest.mark.django_db

READ = [
    ("get", "/api/queries/{slug}/"),
    ("get", "/api/queries/{slug}/results/"),
    ("get", "/api/queries/{slug}/results/?format=csv"),
    ("get", "/api/queries/{slug}/druid/"),
]
WRITE = [
    ("patch", "/api/queries/{slug}/"),
    ("put", "/api/queries/{slug}/"),
    ("delete", "/api/queries/{slug}/"),
]

# visibility, groups -> which users see it (owner alice always; staff always)
CASES = [
    (Visibility.PRIVATE, (), {"alice", "staff"}),
    (Visibility.GROUPS, ("analysts",), {"alice", "bob", "staff"}),
    (Visibility.EVERYONE, (), {"alice", "bob", "carol", "staff"}),
]


def _call(client: APIClient, method: str, url: str, slug: str) -> int:
    body: dict[str, Any] = {}
    if method in ("patch", "put"):
        body = {"title": "Changed", "slug": slug, **TIMESERIES}
    return getattr(client, method)(url.format(slug=slug), body, format="json").status_code


@pytest.mark.parametrize(("visibility", "groups", "viewers"), CASES)
def test_visibility_rules_on_every_endpoint(
    users: dict[str, User], visibility: str, groups: tuple[str, ...], viewers: set[str]
) -> None:
    for name, user in users.items():
        slug = f"q-{visibility}-{name}"
        make_query(users["alice"], slug, visibility=visibility, groups=groups)
        client = api(user)
        listed = {
            q["slug"] for q in client.get("/api/queries/", {"search": slug}).json()["results"]
        }
        assert (slug in listed) == (name in viewers), (name, visibility)
        for method, url in READ:
            expected = 200 if name in viewers else 404
            assert _call(client, method, url, slug) == expected, (name, method, url)
        may_change = name in ("alice", "staff")
        for method, url in WRITE:
            status = _call(client, method, url, slug)
            if may_change:
                assert status in (200, 204), (name, method, url, status)
            else:
                # Visible but not theirs: forbidden. Invisible: it does not exist for them.
                assert status == (403 if name in viewers else 404), (name, method, url, status)
            if method == "delete" and may_change:
                make_query(users["alice"], slug, visibility=visibility, groups=groups)


def test_private_titles_do_not_leak_through_search_or_runs(users: dict[str, User]) -> None:
    make_query(users["alice"], "secret-plan", title="Secret plan")
    make_query(users["alice"], "public", visibility=Visibility.EVERYONE)
    api(users["alice"]).get("/api/queries/secret-plan/results/")
    carol = api(users["carol"])
    assert "Secret" not in carol.get("/api/queries/", {"search": "secret"}).content.decode()
    assert "secret" not in carol.get("/api/runs/").content.decode()
    resp = carol.get("/api/queries/secret-plan/results/")
    assert resp.status_code == 404 and "Secret" not in resp.content.decode()


def test_anonymous_requests_answer_401(users: dict[str, User]) -> None:
    make_query(users["alice"], "public", visibility=Visibility.EVERYONE)
    anonymous = APIClient()
    for method, url in [
        ("get", "/api/queries/"),
        ("post", "/api/queries/"),
        ("get", "/api/queries/public/"),
        ("get", "/api/queries/public/results/"),
        ("get", "/api/queries/public/druid/"),
        ("post", "/api/queries/preview/"),
        ("post", "/api/queries/import/"),
        ("get", "/api/datasources/"),
        ("get", "/api/datasources/edits/"),
        ("get", "/api/runs/"),
        ("get", "/api/token/"),
        ("post", "/api/token/"),
        ("get", "/api/schema/"),
        ("delete", "/api/queries/public/"),
    ]:
        assert getattr(anonymous, method)(url).status_code == 401, (method, url)
    docs = anonymous.get("/api/docs/")
    assert docs.status_code in (302, 401, 403)


def test_token_authenticated_user_gets_the_same_rules(users: dict[str, User]) -> None:
    make_query(users["alice"], "private")
    token = api(users["carol"]).get("/api/token/").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/queries/private/").status_code == 404
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/queries/").status_code == 401
