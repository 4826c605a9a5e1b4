"""Relative and absolute intervals, resolved at a frozen `now`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from explorer.intervals import interval_error, resolve

NOW = datetime(2024, 5, 17, 10, 37, 12, 345000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "granularity", "expected"),
    [
        ("PT1H", "all", "2024-05-17T09:37:12.345Z/2024-05-17T10:37:12.345Z"),
        ("P7D/now", "all", "2024-05-10T10:37:12.345Z/2024-05-17T10:37:12.345Z"),
        ("P1M", "all", "2024-04-17T10:37:12.345Z/2024-05-17T10:37:12.345Z"),
        # Aligned to whole buckets of a fixed granularity, the current partial bucket included.
        ("PT6H", "hour", "2024-05-17T04:00:00.000Z/2024-05-17T11:00:00.000Z"),
        ("P1D", "day", "2024-05-16T00:00:00.000Z/2024-05-18T00:00:00.000Z"),
        ("2024-05-01/now", "all", "2024-05-01T00:00:00.000Z/2024-05-17T10:37:12.345Z"),
        # Absolute intervals are sent as saved.
        ("2024-01-01/2024-02-01", "hour", "2024-01-01/2024-02-01"),
        ("2024-01-01T00:00:00+02:00/P1D", "all", "2024-01-01T00:00:00+02:00/P1D"),
    ],
)
def test_resolve(text: str, granularity: str, expected: str) -> None:
    assert resolve(text, granularity=granularity, now=NOW).iso() == expected


def test_cache_ttl_floors_now_so_repeated_runs_share_an_entry() -> None:
    window = resolve("PT1H", granularity="all", now=NOW, cache_ttl=60)
    assert window.iso() == "2024-05-17T09:37:00.000Z/2024-05-17T10:37:00.000Z"
    # With bucket alignment the current minute stays in, whatever the TTL.
    minutes = resolve("PT1H", granularity="minute", now=NOW, cache_ttl=60)
    assert minutes.iso() == "2024-05-17T09:37:00.000Z/2024-05-17T10:38:00.000Z"
    absolute = resolve("2024-01-01/2024-01-02", granularity="all", now=NOW, cache_ttl=60)
    assert absolute.iso() == "2024-01-01/2024-01-02"
    narrowed = resolve(
        "2024-01-01/2024-01-02",
        granularity="hour",
        now=NOW,
        since=datetime(2024, 1, 1, 12, 30, tzinfo=UTC),
    )
    assert narrowed.iso() == "2024-01-01T12:00:00.000Z/2024-01-02T00:00:00.000Z"


def test_since_starts_at_its_bucket() -> None:
    since = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)
    assert (
        resolve("PT6H", granularity="hour", now=NOW, since=since).iso()
        == "2024-05-17T09:00:00.000Z/2024-05-17T11:00:00.000Z"
    )
    assert (
        resolve("PT6H", granularity="hour", now=NOW, since=datetime(2020, 1, 1, tzinfo=UTC))
        .iso()
        .startswith("2024-05-17T04")
    )


@pytest.mark.parametrize(
    "text",
    ["", "yesterday", "P", "PT-1H", "2024-02-01/2024-01-01", "a/b/c", "2024-13-01/now", None, 5],
)
def test_errors_name_the_problem(text: object) -> None:
    assert interval_error(text)
