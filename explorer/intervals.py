"""Intervals: a saved query's interval, absolute or relative to now, resolved to ISO form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import isodate

# Simple granularities whose buckets are a fixed length, so a relative window can align to them.
_BUCKETS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "five_minute": timedelta(minutes=5),
    "ten_minute": timedelta(minutes=10),
    "fifteen_minute": timedelta(minutes=15),
    "thirty_minute": timedelta(minutes=30),
    "hour": timedelta(hours=1),
    "six_hour": timedelta(hours=6),
    "eight_hour": timedelta(hours=8),
    "day": timedelta(days=1),
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    text: str | None = None  # an absolute interval as saved, sent verbatim (lossless export)

    def iso(self) -> str:
        return self.text or f"{format_instant(self.start)}/{format_instant(self.end)}"


def format_instant(moment: datetime) -> str:
    """Druid's form: UTC with milliseconds and Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _instant(text: str) -> datetime:
    text = text.strip()
    try:
        if "T" in text:
            moment = isodate.parse_datetime(text)
        else:
            moment = datetime.combine(isodate.parse_date(text), datetime.min.time())
    except (isodate.ISO8601Error, ValueError) as exc:
        raise ValueError(f'"{text}" is not an ISO-8601 date or time ({exc})') from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _period(text: str) -> Any:
    try:
        period = isodate.parse_duration(text.strip())
    except (isodate.ISO8601Error, ValueError):
        raise ValueError(f'"{text}" is not an ISO-8601 period such as PT1H or P7D') from None
    if (isinstance(period, timedelta) and period <= timedelta(0)) or str(period).startswith("-"):
        raise ValueError(f'"{text}" must be a positive period')
    return period


def is_relative(text: str) -> bool:
    parts = [p.strip() for p in text.split("/")]
    return len(parts) == 1 or parts[-1].lower() == "now"


def parse_window(text: str, *, now: datetime) -> Window:
    """`PT1H` (the last hour), `P7D/now`, `2024-01-01/now`, or an absolute `start/end`,
    `start/PERIOD`, `PERIOD/end`."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("An interval is required, e.g. PT1H or 2024-01-01/2024-02-01")
    parts = [p.strip() for p in text.split("/")]
    if len(parts) == 1:
        parts = [parts[0], "now"]
    if len(parts) != 2:
        raise ValueError(f'"{text}" must be one period, or two parts separated by "/"')
    first, second = parts
    end_is_now = second.lower() == "now"
    if first.upper().startswith("P"):
        end = now if end_is_now else _instant(second)
        start = end - _period(first)
    else:
        start = _instant(first)
        if end_is_now:
            end = now
        elif second.upper().startswith("P"):
            end = start + _period(second)
        else:
            end = _instant(second)
    if start > end:
        raise ValueError(f'"{text}" starts after it ends')
    return Window(start, end)


def interval_error(text: Any) -> str | None:
    try:
        parse_window(text, now=datetime.now(UTC))
    except ValueError as exc:
        return str(exc)
    return None


def _floor(moment: datetime, step: timedelta) -> datetime:
    return _EPOCH + ((moment - _EPOCH) // step) * step


def resolve(
    text: str,
    *,
    granularity: Any,
    now: datetime,
    since: datetime | None = None,
    cache_ttl: int = 0,
) -> Window:
    """The absolute window to query. A relative window with a fixed simple granularity is
    widened to whole buckets, the current (partial) one included, which also keeps it the same
    for every run within a bucket; otherwise its `now` is floored to the cache TTL, so that runs
    within the TTL share a cache entry. `since` moves the start forward to the bucket holding it."""
    relative = is_relative(text)
    step = _BUCKETS.get(granularity.lower()) if isinstance(granularity, str) else None
    if relative and step is None and cache_ttl > 0:
        now = _floor(now, timedelta(seconds=cache_ttl))
    window = parse_window(text, now=now)
    start, end = window.start, window.end
    if relative and step is not None:
        start = _floor(start, step)
        end = _floor(end, step) + step
    if since is not None:
        since_start = _floor(since, step) if step is not None else since
        start = min(max(start, since_start), end)
    if not relative and (start, end) == (window.start, window.end):
        return Window(start, end, text.strip())
    return Window(start, end)
