"""The query datasource over real HTTP: an inner query's result rows (its output names as columns,
its timestamps as __time) are what the outer query's intervals, filter, granularity and
aggregators read; a groupBy over a groupBy nests natively, other pairings are inlined."""

from __future__ import annotations

from typing import Any

from tests.localdruid.harness import LocalDruid

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
EVENTS = {
    "type": "inline",
    "columnNames": ["__time", "city", "n"],
    "columnTypes": ["LONG", "STRING", "LONG"],
    "rows": [
        [T0 + 10 * 60_000, "Oslo", 5],
        [T0 + 40 * 60_000, "Oslo", 1],
        [T0 + HOUR + 20 * 60_000, "Lyon", 2],
        [T0 + 5 * HOUR, "Oslo", None],
        [T0 + 27 * HOUR, "Lyon", 4],
        [T0 + 27 * HOUR + 30 * 60_000, None, 7],
    ],
}
DAYS = ["2024-01-01/2024-01-03"]
# Per hour and city: 00h Oslo (2 rows, n 6), 01h Lyon (1, 2), 05h Oslo (1, null),
# next day 03h null city (1, 7) and Lyon (1, 4).
HOURLY = {
    "queryType": "groupBy",
    "dataSource": EVENTS,
    "intervals": DAYS,
    "granularity": "hour",
    "dimensions": ["city"],
    "aggregations": [
        {"type": "count", "name": "rows"},
        {"type": "longSum", "name": "n", "fieldName": "n"},
        {"type": "doubleSum", "name": "dn", "fieldName": "n"},
    ],
}


def over(inner: dict[str, Any], kind: str = "groupBy", **fields: Any) -> dict[str, Any]:
    return {
        "queryType": kind,
        "dataSource": {"type": "query", "query": inner},
        "intervals": DAYS,
        "granularity": "all",
        **fields,
    }


def row(timestamp: str, **event: Any) -> dict[str, Any]:
    return {"version": "v1", "timestamp": timestamp, "event": event}


def test_group_by_over_group_by_reaggregates_by_day(druid: LocalDruid) -> None:
    outer = over(
        HOURLY,
        granularity="day",
        dimensions=["city"],
        aggregations=[
            {"type": "longSum", "name": "rows", "fieldName": "rows"},
            {"type": "count", "name": "hours"},
            {"type": "longSum", "name": "n", "fieldName": "n"},
        ],
    )
    assert druid.query(outer) == [
        row("2024-01-01T00:00:00.000Z", city="Lyon", rows=1, hours=1, n=2),
        row("2024-01-01T00:00:00.000Z", city="Oslo", rows=3, hours=2, n=6),
        row("2024-01-02T00:00:00.000Z", city=None, rows=1, hours=1, n=7),
        row("2024-01-02T00:00:00.000Z", city="Lyon", rows=1, hours=1, n=4),
    ]


def test_outer_filter_and_intervals_read_inner_outputs(druid: LocalDruid) -> None:
    aggregations = [
        {"type": "count", "name": "hours"},
        {"type": "longSum", "name": "n", "fieldName": "n"},
    ]
    # A numeric bound on the inner count: only Oslo's first hour has two rows.
    busy = {"type": "bound", "dimension": "rows", "lower": "2", "ordering": "numeric"}
    assert druid.query(over(HOURLY, filter=busy, aggregations=aggregations)) == [
        row("2024-01-01T00:00:00.000Z", hours=1, n=6)
    ]
    # The inner null stays null: one hour without n.
    missing = {"type": "null", "column": "n"}
    assert druid.query(over(HOURLY, filter=missing, aggregations=aggregations)) == [
        row("2024-01-01T00:00:00.000Z", hours=1, n=None)
    ]
    # The outer intervals keep the inner rows whose hour lies within them.
    later = over(HOURLY, intervals=["2024-01-02/2024-01-03"], aggregations=aggregations)
    assert druid.query(later) == [row("2024-01-02T00:00:00.000Z", hours=2, n=11)]


def test_inner_column_types_carry_over(druid: LocalDruid) -> None:
    # A doubleSum is a double column: as a string dimension it prints as Java prints a double.
    outer = over(HOURLY, dimensions=["dn", "rows"], aggregations=[{"type": "count", "name": "c"}])
    assert druid.query(outer) == [
        row("2024-01-01T00:00:00.000Z", dn=None, rows="1", c=1),
        row("2024-01-01T00:00:00.000Z", dn="2.0", rows="1", c=1),
        row("2024-01-01T00:00:00.000Z", dn="4.0", rows="1", c=1),
        row("2024-01-01T00:00:00.000Z", dn="6.0", rows="2", c=1),
        row("2024-01-01T00:00:00.000Z", dn="7.0", rows="1", c=1),
    ]
    sums = over(
        HOURLY,
        aggregations=[
            {"type": "doubleSum", "name": "rows", "fieldName": "rows"},
            {"type": "longSum", "name": "dn", "fieldName": "dn"},
        ],
    )
    assert druid.query(sums) == [row("2024-01-01T00:00:00.000Z", rows=6.0, dn=19)]


def test_doubly_nested_group_by(druid: LocalDruid) -> None:
    daily = over(
        HOURLY,
        granularity="day",
        dimensions=["city"],
        aggregations=[{"type": "longSum", "name": "rows", "fieldName": "rows"}],
    )
    outer = over(
        daily,
        aggregations=[
            {"type": "count", "name": "cityDays"},
            {"type": "longSum", "name": "rows", "fieldName": "rows"},
            {"type": "longMax", "name": "most", "fieldName": "rows"},
        ],
    )
    assert druid.query(outer) == [row("2024-01-01T00:00:00.000Z", cityDays=4, rows=6, most=3)]


def test_nested_group_by_keeps_the_inner_universal_timestamp(druid: LocalDruid) -> None:
    # An inner groupBy over all time stamps its rows with its first interval's start; outer
    # intervals that miss it see no rows (a dimensionless outer query still has its summary row).
    cities = {**HOURLY, "granularity": "all"}
    aggregations = [
        {"type": "count", "name": "c"},
        {"type": "longSum", "name": "n", "fieldName": "n"},
    ]
    assert druid.query(over(cities, aggregations=aggregations)) == [
        row("2024-01-01T00:00:00.000Z", c=3, n=19)
    ]
    later = ["2024-01-02/2024-01-03"]
    assert druid.query(over(cities, intervals=later, dimensions=["city"])) == []
    assert druid.query(over(cities, intervals=later, aggregations=aggregations)) == [
        row("2024-01-02T00:00:00.000Z", c=0, n=None)
    ]


def test_timeseries_over_group_by(druid: LocalDruid) -> None:
    aggregations = [
        {"type": "count", "name": "hours"},
        {"type": "longSum", "name": "n", "fieldName": "n"},
    ]
    result = druid.query(over(HOURLY, "timeseries", granularity="day", aggregations=aggregations))
    assert result == [
        {"timestamp": "2024-01-01T00:00:00.000Z", "result": {"hours": 3, "n": 8}},
        {"timestamp": "2024-01-02T00:00:00.000Z", "result": {"hours": 2, "n": 11}},
    ]
    # Inlined, a groupBy over all time has no __time column: its rows read as 1970-01-01,
    # and the one segment over all time fills every bucket of the outer intervals.
    cities = {**HOURLY, "granularity": "all"}
    result = druid.query(over(cities, "timeseries", granularity="day", aggregations=aggregations))
    assert result == [
        {"timestamp": "2024-01-01T00:00:00.000Z", "result": {"hours": 0, "n": None}},
        {"timestamp": "2024-01-02T00:00:00.000Z", "result": {"hours": 0, "n": None}},
    ]
    epoch = over(
        cities, "timeseries", intervals=["1970-01-01/1970-01-02"], aggregations=aggregations
    )
    assert druid.query(epoch) == [
        {"timestamp": "1970-01-01T00:00:00.000Z", "result": {"hours": 3, "n": 19}}
    ]


def test_group_by_over_top_n_and_timeseries(druid: LocalDruid) -> None:
    top = {
        "queryType": "topN",
        "dataSource": EVENTS,
        "intervals": DAYS,
        "granularity": "all",
        "dimension": {"type": "default", "dimension": "city", "outputName": "d"},
        "aggregations": [{"type": "count", "name": "rows"}],
        "metric": "rows",
        "threshold": 2,
    }
    dimensions = ["d", {"type": "default", "dimension": "rows", "outputType": "long"}]
    result = druid.query(over(top, intervals=["0000-01-01/3000-01-01"], dimensions=dimensions))
    assert result == [
        row("0000-01-01T00:00:00.000Z", d="Lyon", rows=2),
        row("0000-01-01T00:00:00.000Z", d="Oslo", rows=3),
    ]
    daily = {
        "queryType": "timeseries",
        "dataSource": EVENTS,
        "intervals": DAYS,
        "granularity": "day",
        "aggregations": [
            {"type": "count", "name": "rows"},
            {"type": "longSum", "name": "n", "fieldName": "n"},
        ],
    }
    outer = over(
        daily,
        aggregations=[
            {"type": "longSum", "name": "rows", "fieldName": "rows"},
            {"type": "doubleMax", "name": "most", "fieldName": "n"},
        ],
    )
    assert druid.query(outer) == [row("2024-01-01T00:00:00.000Z", rows=6, most=11.0)]


def test_inner_errors_surface(druid: LocalDruid) -> None:
    broken = {**HOURLY, "aggregations": [{"type": "nope", "name": "x"}]}
    resp = druid.post(over(broken, aggregations=[{"type": "count", "name": "c"}]))
    assert resp.status_code == 400 and "nope" in resp.json()["errorMessage"]
    unknown = {**HOURLY, "queryType": "nope"}
    resp = druid.post(over(unknown))
    assert resp.status_code == 400 and "nope" in resp.json()["errorMessage"]


def test_subquery_row_limit_applies_to_inlined_results_only(druid: LocalDruid) -> None:
    count = [{"type": "count", "name": "c"}]
    small = {"maxSubqueryRows": 4}
    resp = druid.post(over(HOURLY, "timeseries", aggregations=count, context=small))
    assert resp.status_code == 400
    assert resp.json()["error"] == "Resource limit exceeded"
    assert "beyond maximum[4] rows" in resp.json()["errorMessage"]
    enough = over(HOURLY, "timeseries", aggregations=count, context={"maxSubqueryRows": 5})
    assert druid.query(enough) == [{"timestamp": "2024-01-01T00:00:00.000Z", "result": {"c": 5}}]
    # A groupBy over a groupBy is not inlined: Druid nests it natively, without the limit.
    assert druid.query(over(HOURLY, aggregations=count, context=small)) == [
        row("2024-01-01T00:00:00.000Z", c=5)
    ]


def test_unsupported_combinations_answer_501(druid: LocalDruid) -> None:
    search = {
        "queryType": "search",
        "dataSource": EVENTS,
        "intervals": DAYS,
        "query": {"type": "contains", "value": "o"},
    }
    scan = {"queryType": "scan", "dataSource": EVENTS, "intervals": DAYS, "columns": ["city"]}
    totals = {
        "queryType": "timeseries",
        "dataSource": EVENTS,
        "intervals": DAYS,
        "granularity": "day",
        "aggregations": [{"type": "count", "name": "rows"}],
        "context": {"grandTotal": True},
    }
    for query in (
        over(HOURLY, "scan"),
        over(HOURLY, "timeBoundary"),
        over(search),
        over(scan),
        over(totals),
    ):
        resp = druid.post(query)
        assert resp.status_code == 501, (query, resp.text)
        assert resp.json()["error"] == "Unsupported query"


def test_inner_time_zone_buckets_are_instants(druid: LocalDruid) -> None:
    # Los Angeles days: the first four events fall on Dec 31 (from 08:00Z), the last two on
    # Jan 1 (from 2024-01-01T08:00Z); the outer intervals see each row at its bucket's start.
    la_days = {
        **HOURLY,
        "granularity": {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"},
        "dimensions": [],
    }
    rows = [{"type": "longSum", "name": "rows", "fieldName": "rows"}]
    wide = over(la_days, intervals=["2023-12-31/2024-01-03"], granularity="day", aggregations=rows)
    assert druid.query(wide) == [
        row("2023-12-31T00:00:00.000Z", rows=4),
        row("2024-01-01T00:00:00.000Z", rows=2),
    ]
    assert druid.query(over(la_days, aggregations=rows)) == [
        row("2024-01-01T00:00:00.000Z", rows=2)
    ]


def test_group_by_over_group_by_of_a_table(druid: LocalDruid, edits: str) -> None:
    # As Druid's ITNestedQueryPushDownTest: sums per channel and user, then per channel.
    inner = {
        "queryType": "groupBy",
        "dataSource": edits,
        "intervals": DAYS,
        "granularity": "all",
        "dimensions": ["channel", {"dimension": "user", "outputName": "who"}],
        "aggregations": [{"type": "longSum", "name": "sumAdded", "fieldName": "added"}],
    }
    outer = over(
        inner,
        dimensions=["channel"],
        aggregations=[
            {"type": "count", "name": "users"},
            {"type": "longSum", "name": "added", "fieldName": "sumAdded"},
        ],
        having={"type": "greaterThan", "aggregation": "added", "value": 2},
    )
    assert druid.query(outer) == [
        row("2024-01-01T00:00:00.000Z", channel=None, users=1, added=3),
        row("2024-01-01T00:00:00.000Z", channel="en", users=3, added=135),
        row("2024-01-01T00:00:00.000Z", channel="fr", users=1, added=7),
    ]
