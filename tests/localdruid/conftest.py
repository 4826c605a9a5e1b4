"""Datasets for the engine tests: small, written here, with answers worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from tests.datasets import EDITS, EDITS_METRICS, INTERVAL  # noqa: F401
from tests.localdruid.harness import LocalDruid, inline_task


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
