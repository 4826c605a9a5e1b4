"""Timeseries over real HTTP: buckets, Druid's per-segment empty-bucket filling, options."""

from __future__ import annotations

from tests.localdruid.conftest import timeseries
from tests.localdruid.harness import LocalDruid


def _hour(day: int, hour: int) -> str:
    return f"2024-01-0{day}T{hour:02d}:00:00.000Z"


def test_hourly_buckets_fill_gaps_inside_each_segment_only(druid: LocalDruid, edits: str) -> None:
    result = druid.query(timeseries(edits, granularity="hour"))
    # Day 1's segment holds 00:10..03:30, day 2's 00:00..05:00; hours between them are not filled.
    expected = [
        (_hour(1, 0), 2, 3, 35),
        (_hour(1, 1), 1, 1, 7),
        (_hour(1, 2), 0, None, None),
        (_hour(1, 3), 1, 1, 1),
        (_hour(2, 0), 1, 1, 100),
        (_hour(2, 1), 0, None, None),
        (_hour(2, 2), 0, None, None),
        (_hour(2, 3), 0, None, None),
        (_hour(2, 4), 0, None, None),
        (_hour(2, 5), 1, 1, 3),
    ]
    assert result == [
        {"timestamp": ts, "result": {"rows": rows, "edits": edits_, "added": added}}
        for ts, rows, edits_, added in expected
    ]


def test_daily_descending_and_limit(druid: LocalDruid, edits: str) -> None:
    daily = druid.query(timeseries(edits, granularity="day"))
    assert daily == [
        {"timestamp": "2024-01-01T00:00:00.000Z", "result": {"rows": 4, "edits": 5, "added": 43}},
        {"timestamp": "2024-01-02T00:00:00.000Z", "result": {"rows": 2, "edits": 2, "added": 103}},
    ]
    assert druid.query(timeseries(edits, granularity="day", descending=True)) == daily[::-1]
    assert druid.query(timeseries(edits, granularity="day", limit=1)) == daily[:1]


def test_granularity_all_timestamp_is_the_earliest_data_in_the_interval(
    druid: LocalDruid, edits: str
) -> None:
    result = druid.query(timeseries(edits, intervals=["2024-01-01T00:15:00Z/2024-02-01"]))
    assert result == [
        {"timestamp": "2024-01-01T00:15:00.000Z", "result": {"rows": 5, "edits": 6, "added": 136}}
    ]
    # Before the data starts, the timestamp is the data's first row.
    result = druid.query(timeseries(edits, intervals=["2023-01-01/2025-01-01"]))
    assert result[0]["timestamp"] == "2024-01-01T00:10:00.000Z"


def test_no_data_all_granularity_gives_one_empty_row(druid: LocalDruid, edits: str) -> None:
    query = timeseries(edits, intervals=["2030-01-01/2030-01-02"])
    assert druid.query(query) == [
        {
            "timestamp": "2030-01-01T00:00:00.000Z",
            "result": {"rows": 0, "edits": None, "added": None},
        }
    ]
    query["context"] = {"skipEmptyBuckets": True}
    assert druid.query(query) == []
    assert druid.query(timeseries("no_such_datasource", granularity="hour")) == []


def test_filter_matching_nothing_still_fills_the_segments_buckets(
    druid: LocalDruid, edits: str
) -> None:
    query = timeseries(
        edits,
        granularity="day",
        filter={"type": "selector", "dimension": "channel", "value": "zz"},
    )
    assert druid.query(query) == [
        {
            "timestamp": "2024-01-01T00:00:00.000Z",
            "result": {"rows": 0, "edits": None, "added": None},
        },
        {
            "timestamp": "2024-01-02T00:00:00.000Z",
            "result": {"rows": 0, "edits": None, "added": None},
        },
    ]
    query["context"] = {"skipEmptyBuckets": "true"}
    assert druid.query(query) == []


def test_grand_total_and_post_aggregators(druid: LocalDruid, edits: str) -> None:
    query = timeseries(
        edits,
        granularity="day",
        postAggregations=[
            {
                "type": "arithmetic",
                "name": "per_row",
                "fn": "/",
                "fields": [
                    {"type": "fieldAccess", "fieldName": "added"},
                    {"type": "fieldAccess", "fieldName": "rows"},
                ],
            }
        ],
        context={"grandTotal": True},
    )
    result = druid.query(query)
    assert [r["result"]["per_row"] for r in result[:2]] == [43 / 4, 103 / 2]
    assert result[2] == {
        "timestamp": None,
        "result": {"rows": 6, "edits": 7, "added": 146, "per_row": 146 / 6},
    }


def test_period_granularity_in_a_time_zone(druid: LocalDruid, edits: str) -> None:
    query = timeseries(
        edits, granularity={"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"}
    )
    assert druid.query(query) == [
        {
            "timestamp": "2023-12-31T00:00:00.000-08:00",
            "result": {"rows": 4, "edits": 5, "added": 43},
        },
        {
            "timestamp": "2024-01-01T00:00:00.000-08:00",
            "result": {"rows": 2, "edits": 2, "added": 103},
        },
    ]


def test_day_buckets_across_daylight_saving_start(druid: LocalDruid, dst: str) -> None:
    query = {
        "queryType": "timeseries",
        "dataSource": dst,
        "intervals": ["2024-03-01/2024-04-01"],
        "granularity": {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"},
        "aggregations": [{"type": "longSum", "name": "n", "fieldName": "n"}],
    }
    # March 10 is 23 hours long: 00:30 PST and 23:30 PDT fall in it, 00:30 PDT on the 11th doesn't.
    assert druid.query(query) == [
        {"timestamp": "2024-03-10T00:00:00.000-08:00", "result": {"n": 2}},
        {"timestamp": "2024-03-11T00:00:00.000-07:00", "result": {"n": 1}},
    ]


def test_duration_granularity_with_origin(druid: LocalDruid, edits: str) -> None:
    query = timeseries(
        edits,
        intervals=["2024-01-01/2024-01-02"],
        granularity={"type": "duration", "duration": 7200000, "origin": "2024-01-01T00:30:00Z"},
    )
    result = druid.query(query)
    assert [(r["timestamp"], r["result"]["rows"]) for r in result] == [
        ("2023-12-31T22:30:00.000Z", 2),
        ("2024-01-01T00:30:00.000Z", 1),
        ("2024-01-01T02:30:00.000Z", 1),
    ]


def test_several_intervals(druid: LocalDruid, edits: str) -> None:
    query = timeseries(
        edits,
        intervals=["2024-01-01T00:00Z/2024-01-01T01:00Z", "2024-01-02T05:00Z/2024-01-02T06:00Z"],
        granularity="hour",
    )
    assert [(r["timestamp"], r["result"]["added"]) for r in druid.query(query)] == [
        (_hour(1, 0), 35),
        (_hour(2, 5), 3),
    ]
