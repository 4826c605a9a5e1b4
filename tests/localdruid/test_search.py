"""The search query over real HTTP: search specs, sort orders, limit, buckets, nulls, errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.localdruid.harness import LocalDruid, inline_task

ERROR_KEYS = {"error", "errorMessage", "errorClass", "host"}
INTERVAL = "2024-05-01/2024-05-03"


@pytest.fixture(scope="session")
def colors(druid: LocalDruid) -> str:
    """Two day segments. May 1 has color and shape (a null color, an empty shape); May 2 was
    ingested with color only, so its segment has no shape column at all."""
    day1 = [
        {"timestamp": "2024-05-01T01:00:00Z", "color": "Red", "shape": "circle", "weight": 1.5},
        {"timestamp": "2024-05-01T02:00:00Z", "color": "red", "shape": "", "weight": 1.0},
        {"timestamp": "2024-05-01T03:00:00Z", "color": "Redwood", "shape": "square"},
        {"timestamp": "2024-05-01T04:00:00Z", "shape": "circle"},
        {"timestamp": "2024-05-01T05:00:00Z", "color": "blue", "shape": "Ring"},
    ]
    day2 = [
        {"timestamp": "2024-05-02T01:00:00Z", "color": "red"},
        {"timestamp": "2024-05-02T02:00:00Z", "color": "bored"},
    ]
    metrics = [
        {"type": "count", "name": "n"},
        {"type": "doubleSum", "name": "weight", "fieldName": "weight"},
    ]
    druid.ingest(
        inline_task("colors", day1, dimensions=["color", "shape"], metrics=metrics, rollup=False)
    )
    druid.ingest(
        inline_task(
            "colors", day2, dimensions=["color"], metrics=metrics, rollup=False, append=True
        )
    )
    return "colors"


@pytest.fixture(scope="session")
def codes(druid: LocalDruid) -> str:
    """One segment of six codes, for the sort orders."""
    rows = [
        {"timestamp": f"2024-05-01T0{i}:00:00Z", "code": code}
        for i, code in enumerate(["10", "9", "b", "a", "x10", "x9"])
    ]
    druid.ingest(
        inline_task(
            "codes",
            rows,
            dimensions=["code"],
            metrics=[{"type": "count", "name": "n"}],
            rollup=False,
        )
    )
    return "codes"


def search(datasource: str, **fields: Any) -> dict[str, Any]:
    query: dict[str, Any] = {
        "queryType": "search",
        "dataSource": datasource,
        "intervals": [INTERVAL],
        "granularity": "all",
        "query": {"type": "insensitive_contains", "value": "re"},
    }
    query.update(fields)
    return query


def hits(result: list[dict[str, Any]]) -> list[tuple[str, Any, int]]:
    assert len(result) == 1
    return [(h["dimension"], h["value"], h["count"]) for h in result[0]["result"]]


def test_search_all_dimensions_merges_segments(druid: LocalDruid, colors: str) -> None:
    # The null color never matches; "red" is in both segments and its counts add up; values
    # sort by UTF-8 bytes (upper case first); the timestamp is the first segment's start.
    assert druid.query(search(colors)) == [
        {
            "timestamp": "2024-05-01T00:00:00.000Z",
            "result": [
                {"dimension": "color", "value": "Red", "count": 1},
                {"dimension": "color", "value": "Redwood", "count": 1},
                {"dimension": "color", "value": "bored", "count": 1},
                {"dimension": "color", "value": "red", "count": 2},
                {"dimension": "shape", "value": "square", "count": 1},
            ],
        }
    ]


def test_search_timestamp_is_segment_start_not_interval_start(
    druid: LocalDruid, colors: str
) -> None:
    result = druid.query(search(colors, intervals=["2024-05-01T02:30:00Z/2024-05-01T12:00:00Z"]))
    assert result[0]["timestamp"] == "2024-05-01T00:00:00.000Z"
    assert hits(result) == [("color", "Redwood", 1), ("shape", "square", 1)]


def test_search_day_granularity_answers_per_segment_bucket(druid: LocalDruid, colors: str) -> None:
    assert druid.query(search(colors, granularity="day")) == [
        {
            "timestamp": "2024-05-01T00:00:00.000Z",
            "result": [
                {"dimension": "color", "value": "Red", "count": 1},
                {"dimension": "color", "value": "Redwood", "count": 1},
                {"dimension": "color", "value": "red", "count": 1},
                {"dimension": "shape", "value": "square", "count": 1},
            ],
        },
        {
            "timestamp": "2024-05-02T00:00:00.000Z",
            "result": [
                {"dimension": "color", "value": "bored", "count": 1},
                {"dimension": "color", "value": "red", "count": 1},
            ],
        },
    ]


def test_search_segment_without_matches_still_answers(druid: LocalDruid, colors: str) -> None:
    query = search(colors, granularity="day", query={"type": "contains", "value": "wood"})
    assert druid.query(query) == [
        {
            "timestamp": "2024-05-01T00:00:00.000Z",
            "result": [{"dimension": "color", "value": "Redwood", "count": 1}],
        },
        {"timestamp": "2024-05-02T00:00:00.000Z", "result": []},
    ]


def test_search_no_segments_in_interval_is_empty(druid: LocalDruid, colors: str) -> None:
    assert druid.query(search(colors, intervals=["2020-01-01/2020-01-02"])) == []
    assert druid.query(search("no_such_datasource")) == []


def test_search_case_sensitivity(druid: LocalDruid, colors: str) -> None:
    sensitive = search(colors, query={"type": "contains", "value": "Re", "caseSensitive": True})
    assert hits(druid.query(sensitive)) == [("color", "Red", 1), ("color", "Redwood", 1)]
    # Druid reads `caseSensitive`; the docs' `case_sensitive` is an ignored unknown property.
    spelled = search(colors, query={"type": "contains", "value": "Re", "case_sensitive": True})
    assert hits(druid.query(spelled)) == hits(druid.query(search(colors)))


def test_search_fragment_and_regex(druid: LocalDruid, colors: str) -> None:
    fragment = search(colors, query={"type": "fragment", "values": ["E", "d"]})
    assert hits(druid.query(fragment)) == [
        ("color", "Red", 1),
        ("color", "Redwood", 1),
        ("color", "bored", 1),
        ("color", "red", 2),
    ]
    sensitive = search(
        colors, query={"type": "fragment", "values": ["R", "d"], "caseSensitive": True}
    )
    assert hits(druid.query(sensitive)) == [("color", "Red", 1), ("color", "Redwood", 1)]
    regex = search(colors, query={"type": "regex", "pattern": "^.{3}$"})
    assert hits(druid.query(regex)) == [("color", "Red", 1), ("color", "red", 2)]


def test_search_without_spec_lists_nulls_and_empty_strings(druid: LocalDruid, colors: str) -> None:
    query = search(colors, searchDimensions=["color"])
    del query["query"]
    assert hits(druid.query(query)) == [
        ("color", None, 1),
        ("color", "Red", 1),
        ("color", "Redwood", 1),
        ("color", "blue", 1),
        ("color", "bored", 1),
        ("color", "red", 2),
    ]
    # The May 2 segment has no shape column: it adds no null hit for its two rows.
    everything = search(colors, searchDimensions=["shape"], query={"type": "all"})
    assert hits(druid.query(everything)) == [
        ("shape", "", 1),
        ("shape", "Ring", 1),
        ("shape", "circle", 2),
        ("shape", "square", 1),
    ]


def test_search_dimensions_with_output_name(druid: LocalDruid, colors: str) -> None:
    query = search(
        colors,
        searchDimensions=[{"type": "default", "dimension": "shape", "outputName": "form"}],
    )
    assert hits(druid.query(query)) == [("form", "square", 1)]


def test_search_filter(druid: LocalDruid, colors: str) -> None:
    query = search(colors, filter={"type": "selector", "dimension": "shape", "value": "circle"})
    assert hits(druid.query(query)) == [("color", "Red", 1)]


def test_search_sort_strlen(druid: LocalDruid, colors: str) -> None:
    query = search(colors, sort={"type": "strlen"})
    assert hits(druid.query(query)) == [
        ("color", "Red", 1),
        ("color", "red", 2),
        ("color", "bored", 1),
        ("shape", "square", 1),
        ("color", "Redwood", 1),
    ]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("lexicographic", ["10", "9", "a", "b", "x10", "x9"]),
        ("numeric", ["a", "b", "x10", "x9", "9", "10"]),
        ("alphanumeric", ["9", "10", "a", "b", "x9", "x10"]),
        ("strlen", ["9", "a", "b", "10", "x9", "x10"]),
    ],
)
def test_search_sort_orders(druid: LocalDruid, codes: str, ordering: str, expected: list) -> None:
    query = search(codes, sort={"type": ordering}, query={"type": "all"})
    assert [value for _, value, _ in hits(druid.query(query))] == expected


def test_search_long_column_as_text(druid: LocalDruid, codes: str) -> None:
    query = search(codes, searchDimensions=["n"], query={"type": "contains", "value": "1"})
    assert hits(druid.query(query)) == [("n", "1", 6)]


def test_search_limit_over_merged_segments(druid: LocalDruid, colors: str) -> None:
    assert hits(druid.query(search(colors, limit=3))) == [
        ("color", "Red", 1),
        ("color", "Redwood", 1),
        ("color", "bored", 1),
    ]


def test_search_limit_is_reached_per_segment_in_dictionary_order(
    druid: LocalDruid, colors: str
) -> None:
    # Each segment collects values dimension by dimension in dictionary order and stops at the
    # limit before sorting, so May 1 keeps Redwood (collected) over red (never reached).
    query = search(colors, granularity="day", limit=2, sort={"type": "strlen"})
    result = druid.query(query)
    assert [[(h["value"], h["count"]) for h in r["result"]] for r in result] == [
        [("Red", 1), ("Redwood", 1)],
        [("red", 1), ("bored", 1)],
    ]


def test_search_bad_spec_is_invalid_input(druid: LocalDruid, colors: str) -> None:
    for bad in (
        search(colors, query={"type": "nope", "value": "x"}),
        search(colors, query={"type": "regex", "pattern": "("}),
        search(colors, sort={"type": "sideways"}),
        search(colors, limit=-1),
        {**search(colors), "intervals": None},
    ):
        resp = druid.post(bad)
        assert resp.status_code == 400, (bad, resp.text)
        payload = resp.json()
        assert set(payload) >= ERROR_KEYS and payload["error"] == "Invalid input"


def test_search_unsupported_features_answer_501(druid: LocalDruid, colors: str) -> None:
    extraction = {"type": "extraction", "dimension": "color", "extractionFn": {"type": "upper"}}
    for query, feature in (
        (search(colors, searchDimensions=["weight"]), "DOUBLE column [weight]"),
        (search(colors, searchDimensions=[extraction]), "[extraction]"),
        (search(colors, sort={"type": "version"}), "version ordering"),
        (
            search(colors, limit=1, filter={"type": "bound", "dimension": "n", "lower": "0"}),
            "limit",
        ),
    ):
        resp = druid.post(query)
        assert resp.status_code == 501, (query, resp.text)
        assert resp.json()["error"] == "Unsupported query"
        assert feature in resp.json()["errorMessage"]
