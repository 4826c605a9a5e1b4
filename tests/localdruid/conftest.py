"""Datasets for the engine tests: small, written here, with answers worked out by hand."""

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


@pytest.fixture(scope="session")
def dst(druid: LocalDruid) -> str:
    """Three events around the 2024 spring-forward day in Los Angeles (23 hours long)."""
    rows = [
        {"timestamp": "2024-03-10T08:30:00Z", "kind": "a"},  # 00:30 PST, March 10
        {"timestamp": "2024-03-11T06:30:00Z", "kind": "b"},  # 23:30 PDT, March 10
        {"timestamp": "2024-03-11T07:30:00Z", "kind": "c"},  # 00:30 PDT, March 11
    ]
    druid.ingest(
        inline_task("dst", rows, dimensions=["kind"], metrics=[{"type": "count", "name": "n"}])
    )
    return "dst"


def timeseries(datasource: str, **fields: Any) -> dict[str, Any]:
    query = {
        "queryType": "timeseries",
        "dataSource": datasource,
        "intervals": [INTERVAL],
        "granularity": "all",
        "aggregations": [
            {"type": "count", "name": "rows"},
            {"type": "longSum", "name": "edits", "fieldName": "count"},
            {"type": "longSum", "name": "added", "fieldName": "added"},
        ],
    }
    query.update(fields)
    return query


@pytest.fixture(scope="session")
def big(druid: LocalDruid, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A million rows with a unique id each, so that grouping on the id takes real time."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    base = 1_704_067_200_000
    with open(path, "w") as out:
        out.write("t,id,g\n")
        out.writelines(f"{base + i * 80},id{i},{i % 1000}\n" for i in range(1_000_000))
    task = inline_task(
        "big",
        [],
        dimensions=["id", "g"],
        metrics=[{"type": "count", "name": "n"}],
        input_format={"type": "csv", "findColumnsFromHeader": True},
        timestamp={"column": "t", "format": "millis"},
        rollup=False,
    )
    task["spec"]["ioConfig"]["inputSource"] = {"type": "local", "files": [str(path)]}
    druid.ingest(task)
    return "big"


def slow_query(datasource: str, timeout_ms: int) -> dict[str, Any]:
    """A groupBy over a million distinct ids sorted by a post-aggregate: about a second here."""
    return {
        "queryType": "groupBy",
        "dataSource": datasource,
        "intervals": ["2024-01-01/2024-01-03"],
        "granularity": "all",
        "dimensions": ["id", "g"],
        "aggregations": [{"type": "count", "name": "c"}],
        "postAggregations": [
            {
                "type": "arithmetic",
                "name": "p",
                "fn": "*",
                "fields": [
                    {"type": "fieldAccess", "fieldName": "c"},
                    {"type": "constant", "value": 3},
                ],
            }
        ],
        "limitSpec": {
            "type": "default",
            "limit": 5,
            "columns": [{"dimension": "id", "direction": "descending"}],
        },
        "context": {"timeout": timeout_ms},
    }
