"""transformSpec.transforms at ingestion over HTTP: expressions over the input row, shadowing
input columns, seen by the filter, dimensions and metrics; bad ones refused at submission."""

from __future__ import annotations

from typing import Any

import requests

from tests.localdruid.harness import LocalDruid, inline_task

ANIMALS = [
    {"timestamp": "2018-01-01T05:01:00Z", "animal": "mongoose", "location": 2, "number": 200},
    {"timestamp": "2018-01-01T06:01:00Z", "animal": "snake", "location": 3, "number": 300},
    {"timestamp": "2018-01-01T07:01:00Z", "animal": "octopus", "location": 1, "number": 100},
    {"timestamp": "2018-01-01T08:01:00Z", "animal": "lion", "location": 4, "number": 300},
]
TRANSFORMS = [
    {"type": "expression", "name": "animal", "expression": "concat('super-', animal)"},
    {"type": "expression", "name": "triple-number", "expression": "number * 3"},
]


def with_transforms(
    task: dict[str, Any], transforms: list[dict[str, Any]], filter_: Any = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"transforms": transforms}
    if filter_ is not None:
        spec["filter"] = filter_
    task["spec"]["dataSchema"]["transformSpec"] = spec
    return task


def scan(druid: LocalDruid, datasource: str, columns: list[str]) -> list[list[Any]]:
    result = druid.query(
        {
            "queryType": "scan",
            "dataSource": datasource,
            "intervals": ["2018-01-01/2018-01-03"],
            "columns": columns,
            "resultFormat": "compactedList",
        }
    )
    return [row for batch in result for row in batch["events"]]


def test_transforms_shadow_inputs_and_the_filter_sees_them(druid: LocalDruid) -> None:
    """Druid's transform tutorial: 'lion' (triple 900, location 4) fails the filter on the
    transformed values; the others keep their transformed animal name and triple number."""
    task = inline_task(
        "transform_animals",
        ANIMALS,
        dimensions=["animal", {"type": "long", "name": "location"}],
        metrics=[
            {"type": "count", "name": "count"},
            {"type": "longSum", "name": "number", "fieldName": "number"},
            {"type": "longSum", "name": "triple-number", "fieldName": "triple-number"},
        ],
        query_granularity="minute",
    )
    druid.ingest(
        with_transforms(
            task,
            TRANSFORMS,
            {
                "type": "or",
                "fields": [
                    {"type": "selector", "dimension": "animal", "value": "super-mongoose"},
                    {"type": "selector", "dimension": "triple-number", "value": "300"},
                    {"type": "selector", "dimension": "location", "value": "3"},
                ],
            },
        )
    )
    rows = scan(druid, "transform_animals", ["animal", "location", "number", "triple-number"])
    assert rows == [
        ["super-mongoose", 2, 200, 600],
        ["super-snake", 3, 300, 900],
        ["super-octopus", 1, 100, 300],
    ]


def test_transforms_over_csv_text_and_time(druid: LocalDruid) -> None:
    """CSV values are strings, so `added * 3` is a double (stored in a long metric as 3x);
    transforms read __time and the input row, never each other."""
    csv = "timestamp,page,added\n2018-01-01T10:30:00Z,Apple,5\n2018-01-02T23:00:00Z,pear,\n"
    task = inline_task(
        "transform_csv",
        csv,
        dimensions=["page", "hour", "stamp", "twice"],
        metrics=[{"type": "longSum", "name": "triple", "fieldName": "triple"}],
        input_format={"type": "csv", "findColumnsFromHeader": True},
    )
    transforms = [
        {"type": "expression", "name": "page", "expression": "upper(substring(page, 0, 2))"},
        {"type": "expression", "name": "triple", "expression": "added * 3"},
        {"type": "expression", "name": "hour", "expression": "timestamp_extract(__time, 'HOUR')"},
        {
            "type": "expression",
            "name": "stamp",
            "expression": "timestamp_format(__time, 'yyyy-MM-dd')",
        },
        # `page` here is the input's page, not the transform above.
        {"type": "expression", "name": "twice", "expression": "concat(page, page)"},
    ]
    druid.ingest(with_transforms(task, transforms))
    rows = scan(druid, "transform_csv", ["page", "hour", "stamp", "twice", "triple"])
    assert rows == [
        ["AP", "10", "2018-01-01", "AppleApple", 15],
        ["PE", "23", "2018-01-02", "pearpear", None],
    ]


def _submit(druid: LocalDruid, expression: str) -> requests.Response:
    task = inline_task("transform_bad", ANIMALS, dimensions=["animal"])
    task = with_transforms(task, [{"type": "expression", "name": "x", "expression": expression}])
    return requests.post(
        f"{druid.url}/druid/indexer/v1/task", json=task, timeout=30, auth=druid.auth
    )


def test_transform_syntax_error_is_refused_at_submission(druid: LocalDruid) -> None:
    resp = _submit(druid, "concat('a',")
    assert resp.status_code == 400, resp.text


def test_transform_unknown_function_is_unsupported(druid: LocalDruid) -> None:
    resp = _submit(druid, "frobnicate(animal)")
    assert resp.status_code == 501, resp.text
    assert "frobnicate" in resp.json()["errorMessage"]
