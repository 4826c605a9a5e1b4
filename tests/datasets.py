"""Datasets shared by the engine and site tests: small, with answers worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from tests.localdruid.harness import LocalDruid, inline_task

# Seven input rows; the two at 00:20 share every dimension and roll up into one stored row.
EDITS: list[dict[str, Any]] = [
    {
        "timestamp": "2024-01-01T00:10:00Z",
        "channel": "en",
        "page": "A",
        "user": "alice",
        "added": 10,
        "deleted": 1,
    },
    {
        "timestamp": "2024-01-01T00:20:00Z",
        "channel": "en",
        "page": "B",
        "user": "bob",
        "added": 20,
        "deleted": 2,
    },
    {
        "timestamp": "2024-01-01T00:20:00Z",
        "channel": "en",
        "page": "B",
        "user": "bob",
        "added": 5,
        "deleted": 0,
    },
    {
        "timestamp": "2024-01-01T01:05:00Z",
        "channel": "fr",
        "page": "A",
        "user": "carol",
        "added": 7,
        "deleted": 3,
    },
    {
        "timestamp": "2024-01-01T03:30:00Z",
        "channel": "de",
        "page": "C",
        "user": "alice",
        "added": 1,
        "deleted": 0,
    },
    {
        "timestamp": "2024-01-02T00:00:00Z",
        "channel": "en",
        "page": "A",
        "user": "dave",
        "added": 100,
        "deleted": 50,
    },
    {
        "timestamp": "2024-01-02T05:00:00Z",
        "channel": None,
        "page": "D",
        "user": "bob",
        "added": 3,
        "deleted": 0,
    },
]

EDITS_METRICS = [
    {"type": "count", "name": "count"},
    {"type": "longSum", "name": "added", "fieldName": "added"},
    {"type": "longSum", "name": "deleted", "fieldName": "deleted"},
    {"type": "doubleSum", "name": "added_d", "fieldName": "added"},
    {"type": "hyperUnique", "name": "user_unique", "fieldName": "user"},
]

INTERVAL = "2024-01-01/2024-01-03"


@pytest.fixture(scope="session")
def edits(druid: LocalDruid) -> str:
    """The `edits` datasource: day segments, no query granularity, rollup on."""
    druid.ingest(
        inline_task(
            "edits",
            EDITS,
            dimensions=["channel", "page", "user"],
            metrics=EDITS_METRICS,
        )
    )
    return "edits"
