"""Every URL the site resolves refuses anonymous visitors: pages and the admin redirect to a login
page, the API answers 401. The patterns are discovered from the resolver, so a new view that
forgets its login check fails here without anyone listing it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from explorer.models import Dashboard, Visibility
from tests.explorer.conftest import make_query

pytestmark = pytest.mark.django_db

# Reachable without a login, on purpose: the two login pages, and logging out (which needs none).
PUBLIC = {"login", "logout", "admin:login", "admin:logout"}
LOGIN_PAGES = ("/accounts/login/", "/admin/login/")
API_METHODS = ("get", "post", "put", "patch", "delete")
Values = dict[str, list[str]]
SLUG = "walk"
# Candidate values for each URL parameter, by name; the first one its converter accepts is used.
# A slug names both the saved query and the dashboard made below, so that a view missing its
# login check would find a real object (and answer 200, not 404).
VALUES: Values = {
    "slug": [SLUG],
    "name": ["edits"],
    "pk": ["edits"],
    "id": ["1"],
    "object_id": ["1"],
    "content_type_id": ["1"],
    "app_label": ["explorer"],
    "format": ["json", ".json"],
    "url": ["no-such-page/"],
}
ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Url:
    path: str
    name: str
    callback: Any


def _value(values: Values, name: str, regex: str, where: str) -> str:
    for candidate in values.get(name, []):
        if re.fullmatch(regex, candidate):
            return candidate
    pytest.fail(f"no value for URL parameter {name!r} in {where!r}: add one to VALUES")


def _regex_to_path(values: Values, regex: str) -> str:
    """A concrete path matching a (Django-style, anchored) URL regex with named groups."""
    out, i = [], 0
    while i < len(regex):
        if regex.startswith("(?P<", i):
            name = regex[i + 4 : regex.index(">", i)]
            depth, j = 0, i
            while True:  # the group's end: its matching closing parenthesis
                if regex[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(regex[j], 0)
                if depth == 0:
                    break
                j += 1
            inner = regex[regex.index(">", i) + 1 : j]
            out.append(_value(values, name, inner, regex))
            i = j + 1
        else:
            out.append(regex[i])
            i += 1
    text = "".join(out).removeprefix("^").removesuffix("$").replace("/?", "")
    return re.sub(r"\\(.)", r"\1", text)


def _piece(values: Values, pattern: Any) -> str:
    if isinstance(pattern, RoutePattern):
        route = str(pattern)
        return ROUTE_PARAMETER.sub(
            lambda m: _value(values, m["name"], pattern.converters[m["name"]].regex, route), route
        )
    assert isinstance(pattern, RegexPattern), pattern
    return _regex_to_path(values, str(pattern))


def _walk(
    values: Values, patterns: list[Any], prefix: str = "/", namespace: str = ""
) -> Iterator[Url]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(
                values, entry.url_patterns, prefix + _piece(values, entry.pattern), inner
            )
        else:
            assert isinstance(entry, URLPattern)
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield Url(prefix + _piece(values, entry.pattern), name, entry.callback)


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN_PAGES)


@pytest.fixture
def urls(users: dict[str, User]) -> list[Url]:
    saved = make_query(users["alice"], SLUG, visibility=Visibility.EVERYONE)
    dashboard = Dashboard.objects.create(
        owner=users["alice"], slug=SLUG, title="Walk", visibility=Visibility.EVERYONE
    )
    dashboard.items.create(saved_query=saved)
    values = {**VALUES, "object_id": [str(saved.pk)]}
    found = list(_walk(values, get_resolver().url_patterns))
    for url in found:
        # The filled-in path must reach the very view it was built for.
        assert resolve(url.path).func is url.callback, url
    return found


def test_every_url_refuses_anonymous_visitors(urls: list[Url]) -> None:
    anonymous = Client()
    refused = []
    for url in urls:
        if url.name in PUBLIC:
            continue
        if url.path.startswith("/api/"):
            for method in API_METHODS:
                status = getattr(anonymous, method)(url.path).status_code
                if status != 401:
                    refused.append((method, url.path, status))
            continue
        page = anonymous.get(url.path)
        if not _is_login_redirect(page):
            refused.append(("get", url.path, page.status_code))
        sent = anonymous.post(url.path)
        if not (_is_login_redirect(sent) or sent.status_code == 405):
            refused.append(("post", url.path, sent.status_code))
    assert not refused, f"reachable without logging in (method, path, status): {refused}"


def test_the_walk_covers_the_site(urls: list[Url]) -> None:
    paths = {url.path for url in urls}
    # A few from each part of the site, to show the walk reaches into every include().
    assert {
        "/",
        f"/charts/{SLUG}/",
        f"/dashboards/{SLUG}/",
        "/datasources/edits/",
        "/token/",
        "/admin/",
        "/admin/explorer/savedquery/",
        "/api/",
        f"/api/queries/{SLUG}/results/",
        "/api/schema/",
        "/api/docs/",
    } <= paths
    assert {url.name for url in urls} >= PUBLIC
    assert Client().get("/accounts/login/").status_code == 200
