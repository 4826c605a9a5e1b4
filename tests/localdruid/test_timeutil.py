"""timeutil against Druid's (Joda-Time's) answers, worked out by hand or taken from Druid's docs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import pytest

from localdruid.timeutil import (
    MAX_MS,
    MIN_MS,
    UTC,
    Granularity,
    Period,
    add_period,
    canonical_iso_sql,
    format_instant,
    format_interval,
    parse_instant,
    parse_interval,
    parse_intervals,
    parse_period,
    parse_timestamp,
    parse_zone,
    timestamp_sql,
)

HOUR = 3_600_000
DAY = 86_400_000
LA = parse_zone("America/Los_Angeles")
KOLKATA = parse_zone("Asia/Kolkata")
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "druid-corpus"


def ms(text: str) -> int:
    return parse_instant(text)


def start(granularity: object, instant: str) -> str:
    g = Granularity.parse(granularity)
    return g.format(g.bucket_start(ms(instant)))


def sql_values(expression: str, column: str, values: list[object], kind: str) -> list[object]:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t(i INTEGER, {column} {kind})")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    return [row[0] for row in con.sql(f"SELECT {expression} FROM t ORDER BY i").fetchall()]


# -- instants and intervals ----------------------------------------------------------------------


def test_eternity_prints_like_druid() -> None:
    assert MIN_MS == -4611686018427387904
    assert MAX_MS == 4611686018427387903
    assert format_interval(MIN_MS, MAX_MS) == (
        "-146136543-09-08T08:23:32.096Z/146140482-04-24T15:36:27.903Z"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2013", "2013-01-01T00:00:00.000Z"),
        ("2013-08", "2013-08-01T00:00:00.000Z"),
        ("2013-08-31", "2013-08-31T00:00:00.000Z"),
        ("2013-08-31T01", "2013-08-31T01:00:00.000Z"),
        ("2013-08-31T01:02:33", "2013-08-31T01:02:33.000Z"),
        ("2013-08-31T01:02:33.123456789Z", "2013-08-31T01:02:33.123Z"),
        ("2013-08-31T01:02:33.5+02:00", "2013-08-30T23:02:33.500Z"),
        ("2013-08-31T01:02:33+0200", "2013-08-30T23:02:33.000Z"),
        ("2013-08-31T01:02:33-07", "2013-08-31T08:02:33.000Z"),
        ("2013-08-31t01:02z", "2013-08-31T01:02:00.000Z"),
        ("2013-8-5T1:2:3", "2013-08-05T01:02:03.000Z"),
        ("T01:02", "1970-01-01T01:02:00.000Z"),
        ("T01:02:33Z", "1970-01-01T01:02:33.000Z"),
        ("2013-08-31T10.5", "2013-08-31T10:30:00.000Z"),
        ("2013-08-31T10:30.25", "2013-08-31T10:30:15.000Z"),
        ("2013-123", "2013-05-03T00:00:00.000Z"),
        ("2013-W05-3", "2013-01-30T00:00:00.000Z"),
        ("2013-W05", "2013-01-31T00:00:00.000Z"),
        ("1000", "1000-01-01T00:00:00.000Z"),
        ("-0044-03-15", "-0044-03-15T00:00:00.000Z"),
        ("20130831", "20130831-01-01T00:00:00.000Z"),
    ],
)
def test_parse_instant_accepts_joda_date_time_parser_forms(text: str, expected: str) -> None:
    assert format_instant(parse_instant(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "T",
        "2013-02-29",
        "2013-13-01",
        "2013-08-31T24:00",
        "2013-08-31Z",
        "2013-08-31 01:02",
        "2013-08-31T01:02:33.1234567891Z",
        "2013-W53",
        "2013-08-31T01:02+2",
        "P1D",
        "abc",
    ],
)
def test_parse_instant_rejects_what_joda_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_instant(text)


def test_parse_instant_without_offset_uses_the_zone_and_refuses_a_dst_gap() -> None:
    assert format_instant(parse_instant("2013-08-30T00:00", LA), LA) == (
        "2013-08-30T00:00:00.000-07:00"
    )
    # 01:30 happens twice on 2024-11-03 in Los Angeles; Joda takes the earlier (daylight) one.
    assert parse_instant("2024-11-03T01:30", LA) == ms("2024-11-03T08:30:00Z")
    with pytest.raises(ValueError, match="offset transition"):
        parse_instant("2024-03-10T02:30", LA)


def test_format_instant_matches_joda_date_time_printing() -> None:
    assert format_instant(0) == "1970-01-01T00:00:00.000Z"
    assert format_instant(-1) == "1969-12-31T23:59:59.999Z"
    assert format_instant(ms("0999-05-06T07:08:09.010Z")) == "0999-05-06T07:08:09.010Z"
    assert format_instant(ms("-0001-12-31")) == "-0001-12-31T00:00:00.000Z"
    assert format_instant(ms("10000-01-01")) == "10000-01-01T00:00:00.000Z"
    assert format_instant(ms("2013-08-30T07:00:00Z"), LA) == "2013-08-30T00:00:00.000-07:00"
    assert format_instant(ms("2013-01-15T08:00:00Z"), LA) == "2013-01-15T00:00:00.000-08:00"
    assert format_instant(0, KOLKATA) == "1970-01-01T05:30:00.000+05:30"
    # Joda prints "Z" for any zero offset, not only in UTC.
    assert format_instant(ms("2013-01-15T00:00:00Z"), parse_zone("Europe/London")).endswith("Z")
    # Local mean time before 1883 has seconds in its offset.
    assert format_instant(ms("1850-01-01T00:00:00Z"), LA) == "1849-12-31T16:07:02.000-07:52:58"


def test_parse_interval_forms() -> None:
    assert parse_interval("1000/3000") == (ms("1000-01-01"), ms("3000-01-01"))
    day = (ms("2013-01-01T00:00:00Z"), ms("2013-01-02T00:00:00Z"))
    assert parse_interval("2013-01-01/P1D") == day
    assert parse_interval("P1D/2013-01-02") == day
    assert parse_interval("2013-01-01T00:00:00.000Z/2013-01-02T00:00:00.000Z") == day
    assert parse_interval("2013-01-01T00:00:00+02:00/2013-01-02T00:00:00+02:00") == (
        ms("2012-12-31T22:00:00Z"),
        ms("2013-01-01T22:00:00Z"),
    )
    assert parse_interval("2013-01-31/P1M") == (ms("2013-01-31"), ms("2013-02-28"))
    assert parse_interval("2013-01-01/2013-01-01") == (ms("2013-01-01"), ms("2013-01-01"))
    for bad in ["2013-01-02/2013-01-01", "2013-01-01", "/2013-01-01", "P1D/P2D", "x/y"]:
        with pytest.raises(ValueError):
            parse_interval(bad)
    assert format_interval(*day) == "2013-01-01T00:00:00.000Z/2013-01-02T00:00:00.000Z"


def test_parse_intervals_accepts_druid_shapes_and_condenses_them() -> None:
    a, b = "2013-01-01/2013-01-03", "2013-01-02/2013-01-05"
    merged = [(ms("2013-01-01"), ms("2013-01-05"))]
    assert parse_intervals(a) == [(ms("2013-01-01"), ms("2013-01-03"))]
    assert parse_intervals([b, a]) == merged
    assert parse_intervals(f"{a},{b}") == merged
    assert parse_intervals({"type": "intervals", "intervals": [a, b]}) == merged
    assert parse_intervals(["2013-01-01/2013-01-01"]) == []
    assert parse_intervals(["2013-01-01/2013-01-02", "2013-01-02/2013-01-03"]) == [
        (ms("2013-01-01"), ms("2013-01-03"))
    ]
    for bad in [5, None, [5], {"type": "segments", "segments": []}, "2013-01-01"]:
        with pytest.raises(ValueError):
            parse_intervals(bad)


# -- zones and periods -------------------------------------------------------------------------


def test_parse_zone_ids() -> None:
    assert parse_zone("UTC") is UTC
    assert parse_zone("Z") is UTC
    assert parse_zone("+00:00") is UTC
    assert parse_zone("America/Los_Angeles").key == "America/Los_Angeles"
    assert parse_zone("+05:30").key == "+05:30"
    assert parse_zone("+0530") is parse_zone("+05:30")
    assert parse_zone("-07").key == "-07:00"
    assert parse_zone("GMT+5").key == "+05:00"
    assert parse_zone("PST").key == "America/Los_Angeles"
    assert format_instant(0, parse_zone("-07:00")) == "1969-12-31T17:00:00.000-07:00"
    for bad in ["", "Mars/Olympus", "america/los_angeles", "+25:00", "../etc/passwd", "UTC+5"]:
        with pytest.raises(ValueError):
            parse_zone(bad)


def test_parse_period() -> None:
    assert parse_period("P1D") == Period(days=1)
    assert parse_period("PT1H") == Period(hours=1)
    assert parse_period("P1Y2M3W4DT5H6M7.5S") == Period(1, 2, 3, 4, 5, 6, 7, 500)
    assert parse_period("PT0.001S") == Period(millis=1)
    assert parse_period("pt90m") == Period(minutes=90)
    assert parse_period("PT-1.5S") == Period(seconds=-1, millis=-500)
    assert parse_period("P1Y2M3W4DT5H6M7.5S").iso() == "P1Y2M3W4DT5H6M7.500S"
    assert Period().iso() == "PT0S"
    for bad in ["", "P", "PT", "1D", "P1.5D", "P1DT", "PT1H2D", "P1S"]:
        with pytest.raises(ValueError):
            parse_period(bad)


def test_add_period_clamps_month_ends_and_uses_local_days() -> None:
    assert add_period(ms("2013-01-31"), parse_period("P1M")) == ms("2013-02-28")
    assert add_period(ms("2012-01-31"), parse_period("P1M")) == ms("2012-02-29")
    # A scalar multiplies the field (Jan 31 + 2 months), it does not add twice (Feb 28 + 1).
    assert add_period(ms("2013-01-31"), parse_period("P1M"), times=2) == ms("2013-03-31")
    assert add_period(ms("2012-02-29"), parse_period("P1Y")) == ms("2013-02-28")
    assert add_period(ms("2013-03-31"), parse_period("P1M"), times=-1) == ms("2013-02-28")
    assert add_period(ms("2013-01-31T10:00"), parse_period("P1M1DT1H")) == ms("2013-03-01T11:00")
    # Days are local days: midnight to midnight across spring-forward is 23 hours...
    midnight = ms("2024-03-10T08:00:00Z")
    assert add_period(midnight, parse_period("P1D"), LA) - midnight == 23 * HOUR
    # ...while hours are absolute.
    assert add_period(midnight, parse_period("PT24H"), LA) - midnight == 24 * HOUR
    # Landing in the gap (02:30 does not exist on March 10) moves past it, like Joda.
    assert add_period(ms("2024-03-09T10:30:00Z"), parse_period("P1D"), LA) == ms(
        "2024-03-10T10:30:00Z"
    )


# -- granularities ---------------------------------------------------------------------------------

SUNDAY = "2013-11-17T19:47:13.250Z"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("second", "2013-11-17T19:47:13.000Z"),
        ("minute", "2013-11-17T19:47:00.000Z"),
        ("five_minute", "2013-11-17T19:45:00.000Z"),
        ("ten_minute", "2013-11-17T19:40:00.000Z"),
        ("fifteen_minute", "2013-11-17T19:45:00.000Z"),
        ("thirty_minute", "2013-11-17T19:30:00.000Z"),
        ("hour", "2013-11-17T19:00:00.000Z"),
        ("six_hour", "2013-11-17T18:00:00.000Z"),
        ("eight_hour", "2013-11-17T16:00:00.000Z"),
        ("day", "2013-11-17T00:00:00.000Z"),
        ("week", "2013-11-11T00:00:00.000Z"),
        ("month", "2013-11-01T00:00:00.000Z"),
        ("quarter", "2013-10-01T00:00:00.000Z"),
        ("year", "2013-01-01T00:00:00.000Z"),
        ("none", "2013-11-17T19:47:13.250Z"),
        ("ALL", "-146136543-09-08T08:23:32.096Z"),
        ("Day", "2013-11-17T00:00:00.000Z"),
    ],
)
def test_simple_granularities(name: str, expected: str) -> None:
    assert start(name, SUNDAY) == expected


def test_week_starts_on_monday_and_bucket_end_is_the_next_start() -> None:
    week = Granularity.parse("week")
    monday = ms("2013-11-11")
    assert week.bucket_start(monday) == monday
    assert week.bucket_start(monday - 1) == ms("2013-11-04")
    assert week.bucket_end(ms(SUNDAY)) == ms("2013-11-18")
    assert Granularity.parse("month").bucket_end(ms("2013-02-10")) == ms("2013-03-01")
    assert Granularity.parse("quarter").bucket_end(ms("2013-12-31")) == ms("2014-01-01")
    assert Granularity.parse("none").bucket_end(5) == 6
    assert Granularity.parse("all").bucket_end(5) == MAX_MS


def test_duration_granularity_with_and_without_origin() -> None:
    two_hours = {"type": "duration", "duration": 7200000, "origin": "2012-01-01T00:30:00Z"}
    assert start(two_hours, "2013-08-31T01:02:33Z") == "2013-08-31T00:30:00.000Z"
    assert start(two_hours, "2013-08-31T03:02:33Z") == "2013-08-31T02:30:00.000Z"
    assert start({"type": "duration", "duration": 7200000}, "2013-08-31T01:02:33Z") == (
        "2013-08-31T00:00:00.000Z"
    )
    day = {"type": "duration", "duration": "86400000", "origin": "2012-01-01T00:30:00Z"}
    assert start(day, "2013-09-02T23:32:45Z") == "2013-09-02T00:30:00.000Z"
    assert Granularity.parse(two_hours).to_json() == {
        "type": "duration",
        "duration": 7200000,
        "origin": "1970-01-01T00:30:00.000Z",
    }


def test_period_day_in_los_angeles_with_and_without_origin() -> None:
    plain = {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"}
    assert start(plain, "2013-08-31T01:02:33Z") == "2013-08-30T00:00:00.000-07:00"
    with_origin = {**plain, "origin": "1970-01-01T20:30:00-08:00"}
    assert start(with_origin, "2013-08-31T01:02:33Z") == "2013-08-29T20:30:00.000-07:00"
    assert start(with_origin, "2013-09-03T03:32:45Z") == "2013-09-02T20:30:00.000-07:00"


def test_dst_days_and_hours_in_los_angeles() -> None:
    day = Granularity.parse({"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"})
    spring, fall = ms("2024-03-10T12:00:00Z"), ms("2024-11-03T12:00:00Z")
    assert day.format(day.bucket_start(spring)) == "2024-03-10T00:00:00.000-08:00"
    assert day.bucket_end(spring) - day.bucket_start(spring) == 23 * HOUR
    assert day.format(day.bucket_start(fall)) == "2024-11-03T00:00:00.000-07:00"
    assert day.bucket_end(fall) - day.bucket_start(fall) == 25 * HOUR
    hour = Granularity.parse(
        {"type": "period", "period": "PT1H", "timeZone": "America/Los_Angeles"}
    )
    spring_hours = hour.iterate(ms("2024-03-10T08:00:00Z"), ms("2024-03-10T12:00:00Z"))
    assert [hour.format(b) for b in spring_hours] == [
        "2024-03-10T00:00:00.000-08:00",
        "2024-03-10T01:00:00.000-08:00",
        "2024-03-10T03:00:00.000-07:00",
        "2024-03-10T04:00:00.000-07:00",
    ]
    fall_hours = hour.iterate(ms("2024-11-03T07:00:00Z"), ms("2024-11-03T11:00:00Z"))
    assert [hour.format(b) for b in fall_hours] == [
        "2024-11-03T00:00:00.000-07:00",
        "2024-11-03T01:00:00.000-07:00",
        "2024-11-03T01:00:00.000-08:00",
        "2024-11-03T02:00:00.000-08:00",
    ]


def test_hours_in_kolkata_start_at_half_past_utc() -> None:
    hour = {"type": "period", "period": "PT1H", "timeZone": "Asia/Kolkata"}
    assert start(hour, "2013-08-31T01:02:33Z") == "2013-08-31T06:00:00.000+05:30"
    g = Granularity.parse(hour)
    assert g.bucket_start(ms("2013-08-31T01:02:33Z")) == ms("2013-08-31T00:30:00Z")
    day = {"type": "period", "period": "P1D", "timeZone": "Asia/Kolkata"}
    assert start(day, "2013-08-31T20:00:00Z") == "2013-09-01T00:00:00.000+05:30"


def test_before_1970() -> None:
    assert start("day", "1969-12-31T23:59:59.999Z") == "1969-12-31T00:00:00.000Z"
    assert start("hour", "1969-12-31T23:59:59.999Z") == "1969-12-31T23:00:00.000Z"
    assert start("week", "1969-12-31T12:00:00Z") == "1969-12-29T00:00:00.000Z"
    assert start("month", "1969-12-31T12:00:00Z") == "1969-12-01T00:00:00.000Z"
    assert start("quarter", "1969-11-15T00:00:00Z") == "1969-10-01T00:00:00.000Z"
    assert start("year", "1900-06-01T00:00:00Z") == "1900-01-01T00:00:00.000Z"
    two_days = {"type": "period", "period": "P2D"}
    assert start(two_days, "1969-12-31T12:00:00Z") == "1969-12-30T00:00:00.000Z"
    # Druid's multi-hour truncation uses Java remainders from origin 0: before 1970 it returns
    # the following boundary (PeriodGranularity.truncate, hours branch). Reproduced on purpose.
    assert start("six_hour", "1969-12-31T23:00:00Z") == "1970-01-01T00:00:00.000Z"
    assert start("six_hour", "1969-12-31T17:00:00Z") == "1969-12-31T18:00:00.000Z"
    assert start("six_hour", "1969-12-31T18:00:00Z") == "1969-12-31T18:00:00.000Z"
    # DurationGranularity's `t % d - origin` is likewise one bucket late before 1970.
    half_past = {"type": "duration", "duration": 7200000, "origin": "2012-01-01T00:30:00Z"}
    assert start(half_past, "1969-12-31T22:03:20Z") == "1969-12-31T22:30:00.000Z"


def test_all_granularity_iterates_the_interval_once() -> None:
    g = Granularity.parse({"type": "all"})
    assert list(g.iterate(ms("2000-01-01"), ms("3000-01-01"))) == [ms("2000-01-01")]
    assert g.format(ms("2000-01-01")) == "2000-01-01T00:00:00.000Z"
    assert g.to_json() == {"type": "all"}


def test_iterate_covers_every_overlapping_bucket() -> None:
    g = Granularity.parse("day")
    assert list(g.iterate(ms("2013-01-01T12:00:00Z"), ms("2013-01-03T00:00:01Z"))) == [
        ms("2013-01-01"),
        ms("2013-01-02"),
        ms("2013-01-03"),
    ]
    assert list(g.iterate(ms("2013-01-01"), ms("2013-01-01"))) == []
    assert list(Granularity.parse("none").iterate(10, 13)) == [10, 11, 12]


def test_granularity_json() -> None:
    assert Granularity.parse("day").to_json() == "DAY"
    assert Granularity.parse({"type": "period", "period": "P3M"}).to_json() == "QUARTER"
    assert Granularity.parse({"type": "none"}).to_json() == {"type": "none"}
    zoned = {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"}
    assert Granularity.parse(zoned).to_json() == {**zoned, "origin": None}
    with_origin = {"type": "period", "period": "PT1H", "origin": 1800000}
    assert Granularity.parse(with_origin).to_json() == {
        "type": "period",
        "period": "PT1H",
        "timeZone": "UTC",
        "origin": "1970-01-01T00:30:00.000Z",
    }
    assert Granularity.parse("hour") == Granularity.parse({"type": "period", "period": "PT1H"})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("fortnight", "Unknown granularity"),
        ({"type": "calendar"}, "Unknown granularity type"),
        ({"period": "P1D"}, "needs a 'type'"),
        ({"type": "duration", "duration": 0}, "duration > 0"),
        ({"type": "duration", "duration": "soon"}, "numeric 'duration'"),
        ({"type": "period"}, "'period' string"),
        ({"type": "period", "period": "PT0S"}, "zero period"),
        ({"type": "period", "period": "P1D", "timeZone": "Mars/Base"}, "Unknown time zone"),
        ({"type": "period", "period": "P1D", "origin": "noon"}, "Invalid format"),
        (42, "Invalid granularity"),
    ],
)
def test_granularity_parse_errors(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Granularity.parse(value)


def test_is_fixed_utc() -> None:
    for value in ["second", "hour", "six_hour", "day", "week", "none"]:
        assert Granularity.parse(value).is_fixed_utc, value
    assert Granularity.parse({"type": "duration", "duration": 5000}).is_fixed_utc
    assert Granularity.parse({"type": "period", "period": "P1D", "timeZone": "+05:30"}).is_fixed_utc
    for value in ["month", "quarter", "year", "all"]:
        assert not Granularity.parse(value).is_fixed_utc, value
    zoned = {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"}
    assert not Granularity.parse(zoned).is_fixed_utc


def test_sql_bucket_of_simple_granularities_is_integer_arithmetic() -> None:
    for name in ["second", "minute", "fifteen_minute", "hour", "six_hour", "day", "week"]:
        sql = Granularity.parse(name).sql_bucket('"__time"')
        calls = ("epoch_ms", "timezone", "date_trunc", "make_date", "lambda")
        assert not any(call in sql for call in calls), (name, sql)


def test_compound_period_in_a_dst_zone_steps_from_its_origin() -> None:
    # Each step adds a local day, then 12 absolute hours: Jan 1 00:00, Jan 2 12:00, Jan 4 00:00.
    spec = {"type": "period", "period": "P1DT12H", "timeZone": "America/New_York"}
    g = Granularity.parse({**spec, "origin": "2013-01-01T00:00:00-05:00"})
    assert g.format(g.bucket_start(ms("2013-01-05T12:00:00Z"))) == "2013-01-04T00:00:00.000-05:00"
    # Across spring-forward the 12 absolute hours end at 13:00 local: Mar 9 00:00, Mar 10 13:00.
    g = Granularity.parse({**spec, "origin": "2013-03-09T00:00:00-05:00"})
    assert g.format(g.bucket_start(ms("2013-03-11T16:00:00Z"))) == "2013-03-10T13:00:00.000-04:00"
    with pytest.raises(ValueError, match="no SQL form"):
        g.sql_bucket("t")


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared Druid corpus not beside the repository")
def test_docs_granularities_corpus() -> None:
    """Druid's documented results: the data's bucket timestamps, as Druid prints them."""
    case = CORPUS / "cases" / "docs-granularities"
    data = CORPUS / "data" / "docs-granularities" / "granularities_example_data.json"
    times = [ms(json.loads(line)["timestamp"]) for line in data.read_text().splitlines() if line]
    queries = json.loads((case / "queries.json").read_text())
    assert len(queries) == 8
    for entry in queries:
        query = entry["query"]
        g = Granularity.parse(query["granularity"])
        expected = [row["timestamp"] for row in entry["expectedResults"]]
        if g.kind == "all":
            # groupBy stamps an 'all' bucket with the start of the query interval.
            starts = [parse_intervals(query["intervals"])[0][0]]
        else:
            starts = sorted({g.bucket_start(t) for t in times})
        assert [g.format(s) for s in starts] == expected, entry["description"]
        if g.kind != "all":
            sql = sql_values(g.sql_bucket("ts"), "ts", list(times), "BIGINT")
            assert sorted(set(sql)) == starts


# -- SQL buckets equal Python buckets -------------------------------------------------------------

PROPERTY_GRANULARITIES: list[object] = [
    "second",
    "minute",
    "five_minute",
    "ten_minute",
    "fifteen_minute",
    "thirty_minute",
    "hour",
    "six_hour",
    "eight_hour",
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "all",
    "none",
    {"type": "duration", "duration": 7200000},
    {"type": "duration", "duration": 7200000, "origin": "2012-01-01T00:30:00Z"},
    {"type": "duration", "duration": "86400000", "origin": -1800000},
    *[
        {"type": "period", "period": period, "timeZone": zone, **extra}
        for zone in ["America/Los_Angeles", "Asia/Kolkata", "Australia/Lord_Howe", "+05:30"]
        for period in ["PT1H", "PT6H", "PT30M", "P1D", "P2D", "P1W", "P2W", "P1M", "P3M", "P1Y"]
        for extra in [{}, {"origin": "1970-01-01T20:30:00-08:00"}]
    ],
    {"type": "period", "period": "P1M", "origin": "2000-01-31T00:00:00Z"},
    {"type": "period", "period": "P2Y", "origin": "2000-02-29T00:00:00Z"},
    {"type": "period", "period": "PT1H30M", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "PT1H30M", "timeZone": "+05:30"},
    {"type": "period", "period": "P1DT12H"},
    {"type": "period", "period": "PT0.750S", "origin": "2013-01-01T00:00:00.500Z"},
    {"type": "period", "period": "PT2S", "timeZone": "Asia/Kolkata"},
]


def property_timestamps() -> list[int]:
    rng = random.Random(20130831)
    low, high = ms("1900-01-01"), ms("2100-01-01")
    values = [rng.randrange(low, high) for _ in range(2000)]
    # Zone transitions, midnight, and the epoch, to the millisecond.
    for edge in ["2024-03-10T10:00:00Z", "2024-11-03T09:00:00Z", "1970-01-01T00:00:00Z"]:
        values += [ms(edge) + delta for delta in (-HOUR - 1, -1, 0, 1, HOUR)]
    return values


def test_sql_bucket_equals_bucket_start() -> None:
    values = property_timestamps()
    con = duckdb.connect()
    con.execute("CREATE TABLE t(i INTEGER, ts BIGINT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    for spec in PROPERTY_GRANULARITIES:
        g = Granularity.parse(spec)
        rows = con.sql(f"SELECT {g.sql_bucket('ts')} FROM t ORDER BY i").fetchall()
        wrong = [
            (format_instant(t), row[0], g.bucket_start(t))
            for t, row in zip(values, rows, strict=True)
            if row[0] != g.bucket_start(t)
        ]
        assert not wrong, (spec, wrong[:3])


# -- timestamp formats --------------------------------------------------------------------------

TIMESTAMP_CASES: list[tuple[str, object, str | None]] = [
    ("auto", "2013-08-31T01:02:33Z", "2013-08-31T01:02:33.000Z"),
    ("auto", "2013-08-31T01:02:33.123456Z", "2013-08-31T01:02:33.123Z"),
    ("auto", "2013-08-31 01:02:33", "2013-08-31T01:02:33.000Z"),
    ("auto", "2013-08-31 01:02:33 UTC", "2013-08-31T01:02:33.000Z"),
    ("auto", "2013-08-31T01:02:33+02:00", "2013-08-30T23:02:33.000Z"),
    ("auto", "1372346000000", "2013-06-27T15:13:20.000Z"),
    ("auto", ' "2013-08-31" ', "2013-08-31T00:00:00.000Z"),
    ("auto", "2013-02-30", None),
    ("auto", "2013-08-31T24:00:00", None),
    ("auto", "", None),
    ("auto", "yesterday", None),
    ("iso", "2013-08-31T01:02:33.5Z", "2013-08-31T01:02:33.500Z"),
    ("iso", "2013-08-31 01:02:33", None),
    ("iso", "12345678901", "1970-05-23T21:21:18.901Z"),
    ("iso", "2013", "2013-01-01T00:00:00.000Z"),
    ("millis", "1372346000000", "2013-06-27T15:13:20.000Z"),
    ("millis", "-1", "1969-12-31T23:59:59.999Z"),
    ("millis", "1.5", None),
    ("posix", "1372346000", "2013-06-27T15:13:20.000Z"),
    ("POSIX", '"1372346000"', "2013-06-27T15:13:20.000Z"),
    ("micro", "1372346000123456", "2013-06-27T15:13:20.123Z"),
    ("nano", "1372346000123456789", "2013-06-27T15:13:20.123Z"),
    ("ruby", "1372346000.5", "2013-06-27T15:13:20.500Z"),
    ("yyyyMMddHH", "2013083101", "2013-08-31T01:00:00.000Z"),
    # Only the last number may be short: Joda reads the others at their full width.
    ("yyyyMMddHH", "201308310", "2013-08-31T00:00:00.000Z"),
    ("yyyyMMddHH", "20130831", None),
    ("yyyyMMddHH", "2013831011", None),
    ("yyyy-MM-dd HH:mm:ss", "2013-08-31 01:02:33", "2013-08-31T01:02:33.000Z"),
    ("yyyy-MM-dd HH:mm:ss", "2013-8-31 1:02:33", "2013-08-31T01:02:33.000Z"),
    ("MM/dd/yyyy'T'HH:mm:ss.SSSZ", "08/31/2013T01:02:33.123+0200", "2013-08-30T23:02:33.123Z"),
    ("MM/dd/yyyy'T'HH:mm:ss.SSSZ", "08/31/2013t01:02:33.5Z", "2013-08-31T01:02:33.500Z"),
    ("MM/dd/yyyy", "5/3/2013", "2013-05-03T00:00:00.000Z"),
    ("dd-MMM-yyyy hh:mm a", "31-Aug-2013 01:02 PM", "2013-08-31T13:02:00.000Z"),
    ("dd-MMM-yyyy hh:mm a", "31-AUGUST-2013 12:02 am", "2013-08-31T00:02:00.000Z"),
    ("EEE, dd MMM yyyy HH:mm:ss", "Sat, 31 Aug 2013 01:02:33", "2013-08-31T01:02:33.000Z"),
    ("MM-dd HH:mm", "08-31 01:02", "2000-08-31T01:02:00.000Z"),
    ("HH:mm", "01:02", "1970-01-01T01:02:00.000Z"),
]


@pytest.mark.parametrize(("fmt", "value", "expected"), TIMESTAMP_CASES)
def test_parse_timestamp(fmt: str, value: object, expected: str | None) -> None:
    parsed = parse_timestamp(value, fmt)
    assert (None if parsed is None else format_instant(parsed)) == expected


def test_timestamp_sql_agrees_with_parse_timestamp() -> None:
    strings = sorted({str(value) for _, value, _ in TIMESTAMP_CASES})
    strings += ["-5", "+5", " 12 ", "NaN", "1e3", '"', "2013-W05-3", "2013-123", "T01:02"]
    for fmt in sorted({fmt for fmt, _, _ in TIMESTAMP_CASES}):
        from_sql = sql_values(timestamp_sql("s", fmt), "s", list(strings), "VARCHAR")
        assert from_sql == [parse_timestamp(s, fmt) for s in strings], fmt


def test_numeric_timestamps() -> None:
    assert parse_timestamp(1372346000000, "auto") == 1372346000000
    assert parse_timestamp(1372346000.9, "posix") == 1372346000000
    assert parse_timestamp(1372346000.5, "ruby") == 1372346000500
    assert parse_timestamp(2013, "iso") == ms("2013-01-01")
    assert parse_timestamp(None, "auto") is None
    assert parse_timestamp(True, "auto") is None


def test_unconvertible_timestamp_patterns() -> None:
    for pattern in ["yyyy-MM-dd HH:mm:ss z", "yyyy-MM-dd ZZZ", "G yyyy", "yyyy-MM-dd qq"]:
        with pytest.raises(ValueError):
            timestamp_sql("s", pattern)
        with pytest.raises(ValueError):
            parse_timestamp("2013-01-01", pattern)


def test_the_canonical_iso_shortcut_agrees_with_the_full_parser() -> None:
    con = duckdb.connect()
    values = [
        "2026-11-23T04:36:41.234Z", "2026-11-23T04:36:41Z", "1970-01-01T00:00:00.000Z",
        "2024-02-29T23:59:59.999Z", "0999-01-01T00:00:00Z",
        # Not the canonical form (or not a time at all): the shortcut says NULL.
        "2026-02-30T00:00:00Z", "2026-11-23T04:36:41.2Z", "2026-11-23T05:36:41+01:00",
        "2026-11-23T24:00:00Z", "2026-11-23", "1795408601234", "",
    ]  # fmt: skip
    for value in values:
        literal = "'" + value + "'"
        fast = con.execute(f"SELECT {canonical_iso_sql(literal)}").fetchone()
        full = con.execute(f"SELECT {timestamp_sql(literal, 'iso')}").fetchone()
        assert fast is not None and full is not None
        assert fast[0] is None or fast[0] == full[0], value
        assert (fast[0] is not None) == (values.index(value) < 5), value
