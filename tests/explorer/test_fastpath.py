"""The results endpoint's fast path (explorer/api/fastpath.py): a cached result is answered
before DRF exactly as the API view answers it (status, body, headers), with a real token or a
real session; everything else, every refusal included, is left to the API view; and its answers
count against the results throttle."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token

from explorer.api import fastpath
from explorer.api.views import ResultsThrottle
from explorer.models import QueryRun, Visibility
from tests.explorer.conftest import make_query

URL = "/api/queries/{}/results/"


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """For each request that reached it, whether the fast path answered (it still does the work)."""
    seen: list[bool] = []
    real = fastpath.cached_results

    def spy(*args: Any, **kwargs: Any) -> Any:
        answer = real(*args, **kwargs)
        seen.append(answer is not None)
        return answer

    monkeypatch.setattr(fastpath, "cached_results", spy)
    yield seen


def _token_client(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")


def _session_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _comparable(response: Any) -> tuple[int, dict[str, str], dict[str, Any]]:
    headers = {k: v for k, v in response.headers.items() if k not in ("Content-Length",)}
    body = response.json()
    meta = body["meta"]
    # What differs between two runs: when, how long, and the run's own id.
    assert isinstance(meta.pop("run_at"), str) and isinstance(meta.pop("duration_ms"), int)
    assert isinstance(meta.pop("run_id"), int)  # the tests write the run log at once
    return response.status_code, headers, body


@pytest.mark.parametrize("auth", ["token", "session"])
def test_a_hit_is_answered_as_the_api_view_answers_it(
    users: dict[str, User], answered: list[bool], monkeypatch: pytest.MonkeyPatch, auth: str
) -> None:
    make_query(users["alice"], "shared", visibility=Visibility.EVERYONE, cache_ttl=300)
    client = (_token_client if auth == "token" else _session_client)(users["bob"])
    first = client.get(URL.format("shared"))
    assert first.status_code == 200 and first.json()["meta"]["cached"] is False
    fast = client.get(URL.format("shared"), HTTP_ACCEPT="application/json")
    assert answered == [False, True]  # the miss went to the API view; the hit did not
    monkeypatch.setattr(fastpath, "cached_results", lambda *a, **k: None)  # the view alone
    slow = client.get(URL.format("shared"), HTTP_ACCEPT="application/json")
    assert slow.json()["meta"]["cached"] is True
    assert _comparable(fast) == _comparable(slow)
    assert fast.headers["Allow"] == "GET, HEAD, OPTIONS"
    # Both hits are in the run log, as bob's.
    runs = QueryRun.objects.filter(cached=True)
    assert [(run.user, run.saved_query.slug) for run in runs] == [(users["bob"], "shared")] * 2


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        (URL.format("mine") + "?refresh=1", {}, 200),  # bypasses the cache: Druid answers
        (URL.format("mine") + "?format=csv", {}, 200),
        (URL.format("mine") + "?interval=PT1H", {}, 200),  # an override: another query
        (URL.format("mine"), {"HTTP_ACCEPT": "text/csv"}, 200),
        (URL.format("mine"), {"HTTP_ACCEPT": "application/xml"}, 406),
        (URL.format("theirs"), {}, 404),  # private to carol
        (URL.format("nothing-here"), {}, 404),
        (URL.format("uncached"), {}, 200),  # cache_ttl 0: never a hit
    ],
)
def test_everything_else_is_left_to_the_api_view(
    users: dict[str, User], answered: list[bool], path: str, headers: dict[str, str], status: int
) -> None:
    make_query(users["alice"], "mine", cache_ttl=300)
    make_query(users["alice"], "uncached", cache_ttl=0)
    make_query(users["carol"], "theirs", cache_ttl=300)
    for owner_client in (_token_client(users["alice"]), _token_client(users["carol"])):
        for slug in ("mine", "uncached", "theirs"):
            owner_client.get(URL.format(slug))  # cached where it can be, by whoever may
    answered.clear()
    response = _token_client(users["alice"]).get(path, **headers)
    assert response.status_code == status, response.content
    assert True not in answered


@pytest.mark.parametrize("method", ["head", "post", "delete", "options"])
def test_other_methods_are_left_to_the_api_view(
    users: dict[str, User], answered: list[bool], method: str
) -> None:
    make_query(users["alice"], "mine", cache_ttl=300)
    client = _token_client(users["alice"])
    client.get(URL.format("mine"))
    answered.clear()
    response = getattr(client, method)(URL.format("mine"))
    assert response.status_code == {"head": 200, "post": 405, "delete": 405, "options": 200}[method]
    assert True not in answered


def test_refusals_stay_the_api_views(users: dict[str, User], answered: list[bool]) -> None:
    make_query(users["alice"], "mine", visibility=Visibility.EVERYONE, cache_ttl=300)
    _token_client(users["alice"]).get(URL.format("mine"))  # now cached
    answered.clear()
    anonymous = Client().get(URL.format("mine"))
    wrong = Client(HTTP_AUTHORIZATION="Token " + "0" * 40).get(URL.format("mine"))
    malformed = Client(HTTP_AUTHORIZATION="Token two words").get(URL.format("mine"))
    users["bob"].is_active = False
    users["bob"].save()
    inactive = _token_client(users["bob"]).get(URL.format("mine"))
    assert [r.status_code for r in (anonymous, wrong, malformed, inactive)] == [401] * 4
    assert wrong.json() == {"detail": "Invalid token."}
    assert inactive.json() == {"detail": "User inactive or deleted."}
    assert True not in answered
    # A session that is no longer valid is anonymous: the view's 401, not the fast path.
    session = _session_client(users["carol"])
    session.logout()
    assert session.get(URL.format("mine")).status_code == 401


def test_fast_answers_count_against_the_throttle(
    users: dict[str, User], answered: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ResultsThrottle, "THROTTLE_RATES", {"results": "3/min"})
    make_query(users["alice"], "daily", visibility=Visibility.EVERYONE, cache_ttl=300)
    alice, bob = _token_client(users["alice"]), _token_client(users["bob"])
    statuses = [alice.get(URL.format("daily")).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    # A miss (the view), two hits (the fast path), then the fast path steps aside for the 429s.
    assert answered == [False, True, True, False, False]
    assert bob.get(URL.format("daily")).status_code == 200  # bob has his own allowance
    assert QueryRun.objects.filter(user=users["alice"]).count() == 3  # refusals are not runs
