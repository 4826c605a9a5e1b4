"""The demo's content: valid saved queries, the seed examples exactly, and no duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from explorer.demo import DEMO_QUERIES, demo_seed
from explorer.models import Dashboard, DashboardItem, SavedQuery
from explorer.services import saved_query_druid_json


@pytest.mark.django_db
def test_seeding_twice_creates_everything_once() -> None:
    first = demo_seed(username="demo")
    assert first.password and len(first.password) >= 12
    assert first.queries_created == len(DEMO_QUERIES) and first.dashboard_created
    user = User.objects.get(username="demo")
    assert user.check_password(first.password)
    SavedQuery.objects.filter(slug="unique-editors-per-hour").update(title="Renamed by me")
    again = demo_seed(username="demo")
    assert again.password is None  # the existing user keeps its password
    assert (again.queries_created, again.dashboard_created) == (0, False)
    assert SavedQuery.objects.count() == len(DEMO_QUERIES)
    assert SavedQuery.objects.get(slug="unique-editors-per-hour").title == "Renamed by me"
    assert Dashboard.objects.count() == 1 and DashboardItem.objects.count() == 5


@pytest.mark.django_db
def test_the_seed_examples_are_the_published_queries() -> None:
    demo_seed(username="demo")
    top = saved_query_druid_json(
        saved_query=SavedQuery.objects.get(title="Top languages by article edits")
    )
    assert {k: top[k] for k in ("queryType", "dataSource", "dimension", "metric", "threshold")} == {
        "queryType": "topN",
        "dataSource": "wikipedia",
        "dimension": "language",
        "metric": "edit_count",
        "threshold": 10,
    }
    assert top["granularity"] == "all"
    assert top["filter"] == {"type": "selector", "dimension": "namespace", "value": "article"}
    assert top["aggregations"] == [{"type": "longSum", "name": "edit_count", "fieldName": "count"}]
    _assert_last(top, hours=1)
    web = SavedQuery.objects.get(title="Web stream events per second")
    assert web.refresh_interval == 5
    body = saved_query_druid_json(saved_query=web)
    assert (body["queryType"], body["dataSource"], body["granularity"]) == (
        "timeseries",
        "webstream",
        "second",
    )
    assert body["aggregations"] == [{"type": "doubleSum", "name": "count", "fieldName": "rows"}]
    _assert_last(body, hours=5 / 60, bucket=timedelta(seconds=1))


def _assert_last(query: dict[str, Any], hours: float, bucket: timedelta = timedelta(0)) -> None:
    """The query covers the last `hours` up to now; a bucketed one also the current bucket."""
    (interval,) = query["intervals"]
    start, end = (datetime.fromisoformat(part) for part in interval.split("/"))
    assert end - start == timedelta(hours=hours) + bucket
    assert abs((datetime.now(UTC) - end).total_seconds()) < 70
