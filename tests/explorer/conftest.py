"""Fixtures for the site's tests: users, groups, saved queries, and DRUID_URL at the test engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from rest_framework.test import APIClient

from explorer.models import SavedQuery, Visibility
from tests.datasets import INTERVAL
from tests.localdruid.harness import LocalDruid

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def druid_settings(settings: Any, druid: LocalDruid, edits: str) -> Iterator[None]:
    """Every site test talks to the session's real localdruid, with a clean cache."""
    settings.DRUID_URL = druid.url
    settings.DRUID_TIMEOUT_MS = 30_000
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _run_log_at_once(settings: Any) -> None:
    # Tests read the run log right after a run: cache hits' rows are written by the request.
    # The batched writer has its own tests (test_runlog.py).
    settings.RUN_LOG_DELAY_SECONDS = 0


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Each test makes its users afresh; the production hasher would spend seconds on them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def users(db: Any) -> dict[str, User]:
    analysts = Group.objects.create(name="analysts")
    made = {
        name: User.objects.create_user(name, f"{name}@example.com", PASSWORD)
        for name in ("alice", "bob", "carol")
    }
    made["staff"] = User.objects.create_user("staff", "staff@example.com", PASSWORD, is_staff=True)
    made["bob"].groups.add(analysts)
    return made


def api(user: User | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


TIMESERIES: dict[str, Any] = {
    "query_type": "timeseries",
    "datasource": "edits",
    "interval": INTERVAL,
    "granularity": "day",
    "aggregations": [
        {"type": "count", "name": "rows"},
        {"type": "longSum", "name": "added", "fieldName": "added"},
    ],
    "post_aggregations": [
        {
            "type": "arithmetic",
            "name": "per_row",
            "fn": "/",
            "fields": [
                {"type": "fieldAccess", "fieldName": "added"},
                {"type": "fieldAccess", "fieldName": "rows"},
            ],
        },
    ],
}
TOPN: dict[str, Any] = {
    "query_type": "topN",
    "datasource": "edits",
    "interval": INTERVAL,
    "granularity": "all",
    "dimensions": ["channel"],
    "metric": "added",
    "threshold": 2,
    "aggregations": [{"type": "longSum", "name": "added", "fieldName": "added"}],
}
GROUPBY: dict[str, Any] = {
    "query_type": "groupBy",
    "datasource": "edits",
    "interval": INTERVAL,
    "granularity": "all",
    "dimensions": ["channel", "page"],
    "aggregations": [
        {"type": "count", "name": "rows"},
        {"type": "longSum", "name": "added", "fieldName": "added"},
    ],
    "having": {"type": "greaterThan", "aggregation": "added", "value": 5},
    "limit_spec": {
        "type": "default",
        "limit": 2,
        "columns": [{"dimension": "added", "direction": "descending"}],
    },
}


def make_query(
    owner: User,
    slug: str,
    definition: dict[str, Any] | None = None,
    visibility: str = Visibility.PRIVATE,
    groups: tuple[str, ...] = (),
    **settings: Any,
) -> SavedQuery:
    saved = SavedQuery.objects.create(
        owner=owner,
        slug=slug,
        title=settings.pop("title", slug.replace("-", " ").title()),
        visibility=visibility,
        **(definition or TIMESERIES),
        **settings,
    )
    if groups:
        saved.shared_groups.set(Group.objects.filter(name__in=groups))
    return saved
