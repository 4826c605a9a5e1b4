"""Lookups compiled once (explorer.prepared): the visibility lookup every run makes answers
exactly as the selector it is compiled from, for every kind of user and saved query, with the
same field values; token authentication answers as DRF's own class does."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from explorer.api.authentication import TokenAuthentication
from explorer.models import SavedQuery, Visibility
from explorer.prepared import PLACEHOLDER_INT, PLACEHOLDER_TEXT, Prepared
from explorer.selectors import saved_query_visible, saved_query_visible_by_slug
from tests.explorer.conftest import TIMESERIES, TOPN

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    """Every branch of the visibility rule: owner, shared group, other group, no group, staff."""
    one, two = Group.objects.create(name="one"), Group.objects.create(name="two")
    users = {
        name: User.objects.create_user(name, is_staff=name == "staff")
        for name in ("owner", "in-one", "in-two", "in-both", "in-none", "staff")
    }
    users["in-one"].groups.add(one)
    users["in-two"].groups.add(two)
    users["in-both"].groups.add(one, two)
    owner = users["owner"]
    queries = {
        "private": (Visibility.PRIVATE, []),
        "everyone": (Visibility.EVERYONE, []),
        "group-one": (Visibility.GROUPS, [one]),
        "groups-one-two": (Visibility.GROUPS, [one, two]),
        "groups-none": (Visibility.GROUPS, []),
        "private-shared-with-one": (Visibility.PRIVATE, [one]),  # groups only count for GROUPS
    }
    for slug, (visibility, groups) in queries.items():
        saved = SavedQuery.objects.create(
            **TIMESERIES, title=slug, slug=slug, owner=owner, visibility=visibility
        )
        saved.shared_groups.set(groups)
    SavedQuery.objects.create(
        **TOPN, title="theirs", slug="in-ones-private", owner=users["in-one"], cache_ttl=0,
        filter={"type": "selector", "dimension": "channel", "value": "#en"}, descending=True,
    )  # fmt: skip
    return {
        "users": {**users, "anonymous": AnonymousUser()},
        "slugs": [*queries, "in-ones-private"],
    }


def fields(saved: SavedQuery) -> list[tuple[str, Any, type]]:
    return [
        (field.attname, getattr(saved, field.attname), type(getattr(saved, field.attname)))
        for field in SavedQuery._meta.concrete_fields
    ]


def test_the_compiled_lookup_agrees_with_the_selector_for_every_user_and_query(
    world: dict[str, Any],
) -> None:
    seen = 0
    for name, user in world["users"].items():
        for slug in [*world["slugs"], "no-such-query"]:
            expected = saved_query_visible(user=user).filter(slug=slug).first()
            found = saved_query_visible_by_slug(user=user, slug=slug)
            if expected is None:
                assert found is None, (name, slug)
                continue
            seen += 1
            assert found is not None, (name, slug)
            # Same row, and each field with the same value and type (JSON, dates, booleans).
            assert fields(found) == fields(expected), (name, slug)
            assert found._state.adding is False and found._state.db == "default"
    # owner 6, in-one 4, in-two 2, in-both 3, in-none 1, staff 7, anonymous 0.
    assert seen == 23


def test_a_changed_rule_answers_at_once(world: dict[str, Any]) -> None:
    """Nothing is remembered but the SQL: a query made private is hidden on the next lookup."""
    user = world["users"]["in-two"]
    assert saved_query_visible_by_slug(user=user, slug="groups-one-two") is not None
    SavedQuery.objects.filter(slug="groups-one-two").update(visibility=Visibility.PRIVATE)
    assert saved_query_visible_by_slug(user=user, slug="groups-one-two") is None
    user.groups.add(Group.objects.get(name="one"))
    assert saved_query_visible_by_slug(user=user, slug="group-one") is not None


def test_a_slug_is_bound_as_a_value_never_as_sql(world: dict[str, Any]) -> None:
    user = world["users"]["owner"]
    for slug in ["' OR '1'='1", "everyone' --", "%", "_verything", PLACEHOLDER_TEXT]:
        assert saved_query_visible_by_slug(user=user, slug=slug) is None


def test_the_queryset_is_built_and_compiled_once() -> None:
    builds: list[str] = []

    def build(slug: str) -> Any:
        builds.append(slug)
        return SavedQuery.objects.filter(slug=slug)

    lookup = Prepared(build, slug=PLACEHOLDER_TEXT)
    for _ in range(3):
        assert lookup(slug="absent") == []
    assert builds == [PLACEHOLDER_TEXT]


def test_a_lookup_that_would_bind_wrongly_refuses_to_compile() -> None:
    unused = Prepared(lambda slug: SavedQuery.objects.all(), slug=PLACEHOLDER_TEXT)
    with pytest.raises(ValueError, match="placeholders not in the compiled SQL"):
        unused(slug="x")
    joined = Prepared(
        lambda slug: SavedQuery.objects.select_related("owner").filter(slug=slug),
        slug=PLACEHOLDER_TEXT,
    )
    with pytest.raises(ValueError, match="its model's own columns"):
        joined(slug="x")
    narrowed = Prepared(
        lambda pk: SavedQuery.objects.only("slug").filter(pk=pk), pk=PLACEHOLDER_INT
    )
    with pytest.raises(ValueError, match="its model's own columns"):
        narrowed(pk=1)


# -- token authentication ----------------------------------------------------------------------


def _answer(auth: authentication.TokenAuthentication, key: str) -> tuple[str, Any]:
    try:
        user, _ = auth.authenticate_credentials(key)
    except exceptions.AuthenticationFailed as failed:
        return "failed", str(failed.detail)
    return "user", user.pk


def test_token_authentication_answers_as_drfs_own() -> None:
    active = User.objects.create_user("active")
    inactive = User.objects.create_user("inactive", is_active=False)
    keys = [Token.objects.create(user=u).key for u in (active, inactive)]
    ours, theirs = TokenAuthentication(), authentication.TokenAuthentication()
    for key in [*keys, "0" * 40, "", "' OR 1=1 --", keys[0].upper()]:
        assert _answer(ours, key) == _answer(theirs, key), key
    assert _answer(ours, keys[0]) == ("user", active.pk)
    assert _answer(ours, keys[1]) == ("failed", "User inactive or deleted.")
    assert _answer(ours, "0" * 40) == ("failed", "Invalid token.")


def test_the_api_takes_a_token_and_refuses_a_revoked_one(client: Any) -> None:
    user = User.objects.create_user("reader")
    token = Token.objects.create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/queries/").status_code == 200
    token.delete()
    refused = api.get("/api/queries/")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid token."}
