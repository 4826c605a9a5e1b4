"""Demo content for `make run`: a demo user, saved queries over the two streams, a dashboard."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from explorer.models import Dashboard, DashboardItem, SavedQuery, Visibility
from explorer.services import saved_query_save


def _count(name: str, field: str = "count") -> dict[str, Any]:
    return {"type": "longSum", "name": name, "fieldName": field}


def _where(dimension: str, value: str) -> dict[str, Any]:
    return {"type": "selector", "dimension": dimension, "value": value}


# The two seed examples are exactly as the Druid documentation published them; the rest show off
# filtered aggregators, post-aggregators, hyperUnique and groupBy.
DEMO_QUERIES: list[dict[str, Any]] = [
    {
        "slug": "top-languages-by-article-edits",
        "title": "Top languages by article edits",
        "description": "Which Wikipedia languages had the most edits to articles in the last hour.",
        "query_type": "topN",
        "datasource": "wikipedia",
        "interval": "PT1H",
        "granularity": "all",
        "dimensions": ["language"],
        "filter": _where("namespace", "article"),
        "aggregations": [_count("edit_count")],
        "metric": "edit_count",
        "threshold": 10,
        "chart_type": "bar",
        "refresh_interval": 10,
        "cache_ttl": 5,
        "tags": ["wikipedia", "live"],
    },
    {
        "slug": "web-stream-events-per-second",
        "title": "Web stream events per second",
        "description": "Page views arriving on the web stream per second, last 5 minutes.",
        "query_type": "timeseries",
        "datasource": "webstream",
        "interval": "PT5M",
        "granularity": "second",
        "aggregations": [{"type": "doubleSum", "name": "count", "fieldName": "rows"}],
        "chart_type": "line",
        "refresh_interval": 5,
        "cache_ttl": 1,
        "value_format": ",.0f",
        "tags": ["webstream", "live"],
    },
    {
        "slug": "hourly-edits-robots-vs-humans",
        "title": "Hourly edits: robots vs humans",
        "description": "Edits per hour over the last week, split by filtered aggregators.",
        "query_type": "timeseries",
        "datasource": "wikipedia",
        "interval": "P7D",
        "granularity": "hour",
        "aggregations": [
            {
                "type": "filtered",
                "filter": _where("isRobot", "true"),
                "aggregator": _count("robots"),
            },
            {
                "type": "filtered",
                "filter": _where("isRobot", "false"),
                "aggregator": _count("humans"),
            },
        ],
        "chart_type": "stacked-area",
        "refresh_interval": 60,
        "tags": ["wikipedia"],
    },
    {
        "slug": "top-pages-by-bytes-added",
        "title": "Top pages by bytes added",
        "description": "The pages that grew most today, with the bytes added per edit.",
        "query_type": "topN",
        "datasource": "wikipedia",
        "interval": "P1D",
        "granularity": "all",
        "dimensions": ["page"],
        "aggregations": [
            {"type": "longSum", "name": "added", "fieldName": "added"},
            _count("edits"),
        ],
        "post_aggregations": [
            {
                "type": "arithmetic",
                "name": "added_per_edit",
                "fn": "/",
                "fields": [
                    {"type": "fieldAccess", "fieldName": "added"},
                    {"type": "fieldAccess", "fieldName": "edits"},
                ],
            }
        ],
        "metric": "added",
        "threshold": 10,
        "chart_type": "bar",
        "value_format": ",.0f",
        "refresh_interval": 30,
        "tags": ["wikipedia"],
    },
    {
        "slug": "unique-editors-per-hour",
        "title": "Unique editors per hour",
        "description": "Distinct users per hour over two days, from the hyperUnique metric.",
        "query_type": "timeseries",
        "datasource": "wikipedia",
        "interval": "P2D",
        "granularity": "hour",
        "aggregations": [{"type": "hyperUnique", "name": "editors", "fieldName": "user_unique"}],
        "chart_type": "line",
        "value_format": ",.0f",
        "refresh_interval": 60,
        "tags": ["wikipedia"],
    },
    {
        "slug": "edits-by-country-and-namespace",
        "title": "Edits by country and namespace",
        "description": "A groupBy of country × namespace over the last day, largest first.",
        "query_type": "groupBy",
        "datasource": "wikipedia",
        "interval": "P1D",
        "granularity": "all",
        "dimensions": ["countryName", "namespace"],
        "filter": {"type": "not", "field": {"type": "null", "column": "countryName"}},
        "aggregations": [
            _count("edits"),
            {"type": "longSum", "name": "delta", "fieldName": "delta"},
        ],
        "limit_spec": {
            "type": "default",
            "limit": 25,
            "columns": [{"dimension": "edits", "direction": "descending"}],
        },
        "chart_type": "table",
        "refresh_interval": 60,
        "tags": ["wikipedia"],
    },
    {
        "slug": "slowest-pages-on-the-web-stream",
        "title": "Slowest pages on the web stream",
        "description": "URLs by mean latency over the last 15 minutes (a post-aggregated mean).",
        "query_type": "topN",
        "datasource": "webstream",
        "interval": "PT15M",
        "granularity": "all",
        "dimensions": ["url"],
        "aggregations": [
            {"type": "doubleSum", "name": "latency", "fieldName": "latency"},
            {"type": "longSum", "name": "views", "fieldName": "rows"},
        ],
        "post_aggregations": [
            {
                "type": "arithmetic",
                "name": "mean_latency_ms",
                "fn": "/",
                "fields": [
                    {"type": "fieldAccess", "fieldName": "latency"},
                    {"type": "fieldAccess", "fieldName": "views"},
                ],
            }
        ],
        "metric": "mean_latency_ms",
        "threshold": 10,
        "chart_type": "bar",
        "value_format": ",.1f",
        "refresh_interval": 15,
        "tags": ["webstream"],
    },
]

DEMO_DASHBOARD = {
    "slug": "live-wikipedia-and-web-traffic",
    "title": "Live: Wikipedia edits and web traffic",
    "description": "The demo's two streams, refreshed as events arrive.",
    "items": [
        ("web-stream-events-per-second", 12),
        ("top-languages-by-article-edits", 6),
        ("hourly-edits-robots-vs-humans", 6),
        ("top-pages-by-bytes-added", 6),
        ("unique-editors-per-hour", 6),
    ],
}


@dataclass(frozen=True)
class DemoSeed:
    username: str
    password: str | None  # None when the user already existed
    queries_created: int
    dashboard_created: bool


@transaction.atomic
def demo_seed(*, username: str = "demo", password: str | None = None) -> DemoSeed:
    """Create what is missing of the demo; never duplicates nor overwrites what exists."""
    users = get_user_model()
    user = users.objects.filter(username=username).first()
    new_password = None
    if user is None:
        new_password = password or secrets.token_urlsafe(12)
        user = users.objects.create_superuser(username=username, email="", password=new_password)
    created = 0
    for spec in DEMO_QUERIES:
        if SavedQuery.objects.filter(slug=spec["slug"]).exists():
            continue
        saved_query_save(owner=user, data={**spec, "visibility": Visibility.EVERYONE})
        created += 1
    dashboard, made = Dashboard.objects.get_or_create(
        slug=DEMO_DASHBOARD["slug"],
        defaults={
            "title": DEMO_DASHBOARD["title"],
            "description": DEMO_DASHBOARD["description"],
            "owner": user,
            "visibility": Visibility.EVERYONE,
        },
    )
    if made:
        for position, (slug, width) in enumerate(DEMO_DASHBOARD["items"]):
            DashboardItem.objects.create(
                dashboard=dashboard,
                saved_query=SavedQuery.objects.get(slug=slug),
                position=position,
                width=width,
            )
    return DemoSeed(username, new_password, created, made)
