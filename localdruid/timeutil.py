"""Druid-exact time: zones, ISO periods, instants, intervals, granularities, timestamp parsing."""

from __future__ import annotations

import bisect
import functools
import importlib.resources
import io
import itertools
import os
import re
import struct
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC as _UTC_TZINFO
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from localdruid.errors import InvalidInput, Unsupported

__all__ = [
    "MAX_MS",
    "MIN_MS",
    "UTC",
    "Granularity",
    "Period",
    "add_period",
    "format_instant",
    "format_interval",
    "joda_parse_sql",
    "parse_instant",
    "parse_interval",
    "parse_intervals",
    "parse_period",
    "parse_timestamp",
    "parse_zone",
    "timestamp_sql",
]

# Druid's ETERNITY (JodaUtils.MIN_INSTANT, MAX_INSTANT): Java's Long.MIN_VALUE / 2, MAX_VALUE / 2.
MIN_MS = -(2**63) // 2
MAX_MS = (2**63 - 1) // 2
_LONG_MIN = -(2**63)
_LONG_MAX = 2**63 - 1

SECOND = 1_000
MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000
WEEK = 7 * DAY
_FEB29_REM = 59 * DAY  # Joda's FEB_29: the offset of Feb 29 from Jan 1 in a leap year
_ERA_MS = 146_097 * DAY  # 400 Gregorian years; calendars and zone rules repeat with it
_MIN_YEAR = -292_275_054  # ISOChronology's supported year range
_MAX_YEAR = 292_278_993

UTC = ZoneInfo("UTC")


# ------------------------------------------------------------------------------------------------
# Java integer arithmetic and the proleptic Gregorian calendar Joda's ISOChronology uses


def _jdiv(a: int, b: int) -> int:
    """Java's long division, which truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _jrem(a: int, b: int) -> int:
    """Java's %, whose sign follows the dividend."""
    return a - b * _jdiv(a, b)


_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    return 29 if month == 2 and _is_leap(year) else _MONTH_DAYS[month]


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (astronomical years: 0 is 1 BC)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def _split(local: int) -> tuple[int, int, int, int]:
    """(year, month, day, millis of day) of a local-time millisecond value."""
    days, millis = divmod(local, DAY)
    year, month, day = _civil_from_days(days)
    return year, month, day, millis


def _date_ms(year: int, month: int, day: int) -> int:
    return _days_from_civil(year, month, day) * DAY


def _iso_dow(days: int) -> int:
    """ISO day of week (Monday 1 .. Sunday 7) of a day number; 1970-01-01 was a Thursday."""
    return (days + 3) % 7 + 1


def _add_months_local(local: int, months: int) -> int:
    """Joda's monthOfYear add: the day of month is clamped to the target month's length."""
    year, month, day, millis = _split(local)
    new_year, new_month = divmod(year * 12 + month - 1 + months, 12)
    new_month += 1
    return _date_ms(new_year, new_month, min(day, _days_in_month(new_year, new_month))) + millis


def _add_years_local(local: int, years: int) -> int:
    """Joda's setYear: Feb 29 becomes Feb 28 in a common year, every other date keeps its fields."""
    year, month, day, millis = _split(local)
    new_year = year + years
    return _date_ms(new_year, month, min(day, _days_in_month(new_year, month))) + millis


def _year_diff_local(minuend: int, subtrahend: int) -> int:
    """BasicGJChronology.getYearDifference, including its leap-day balancing."""
    if minuend < subtrahend:
        return -_year_diff_local(subtrahend, minuend)
    m_year, s_year = _split(minuend)[0], _split(subtrahend)[0]
    m_rem = minuend - _date_ms(m_year, 1, 1)
    s_rem = subtrahend - _date_ms(s_year, 1, 1)
    if s_rem >= _FEB29_REM:
        if _is_leap(s_year):
            if not _is_leap(m_year):
                s_rem -= DAY
        elif m_rem >= _FEB29_REM and _is_leap(m_year):
            m_rem -= DAY
    return m_year - s_year - (m_rem < s_rem)


def _month_diff_local(minuend: int, subtrahend: int) -> int:
    """BasicMonthOfYearDateTimeField.getDifferenceAsLong, including its month-end special case."""
    if minuend < subtrahend:
        return -_month_diff_local(subtrahend, minuend)
    m_year, m_month, m_day, _ = _split(minuend)
    s_year, s_month, s_day, _ = _split(subtrahend)
    diff = (m_year - s_year) * 12 + m_month - s_month
    if m_day == _days_in_month(m_year, m_month) and s_day > m_day:
        subtrahend -= (s_day - m_day) * DAY
    m_rem = minuend - _date_ms(m_year, m_month, 1)
    s_rem = subtrahend - _date_ms(s_year, s_month, 1)
    return diff - (m_rem < s_rem)


# ------------------------------------------------------------------------------------------------
# Time zones

# Java's legacy three-letter ids, which Druid accepts through java.util.TimeZone (Joda's mapping).
_JAVA_SHORT_IDS = {
    "ACT": "Australia/Darwin",
    "AET": "Australia/Sydney",
    "AGT": "America/Argentina/Buenos_Aires",
    "ART": "Africa/Cairo",
    "AST": "America/Anchorage",
    "BET": "America/Sao_Paulo",
    "BST": "Asia/Dhaka",
    "CAT": "Africa/Harare",
    "CNT": "America/St_Johns",
    "CST": "America/Chicago",
    "CTT": "Asia/Shanghai",
    "EAT": "Africa/Addis_Ababa",
    "ECT": "Europe/Paris",
    "EST": "America/New_York",
    "HST": "Pacific/Honolulu",
    "IET": "America/Indiana/Indianapolis",
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
    "MIT": "Pacific/Apia",
    "MST": "America/Denver",
    "NET": "Asia/Yerevan",
    "NST": "Pacific/Auckland",
    "PLT": "Asia/Karachi",
    "PNT": "America/Phoenix",
    "PRT": "America/Puerto_Rico",
    "PST": "America/Los_Angeles",
    "SST": "Pacific/Guadalcanal",
    "VST": "Asia/Ho_Chi_Minh",
}
_ZONE_KEY = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")
_OFFSET_ID = re.compile(r"([+-])([0-9]{2})(?::([0-9]{2})(?::([0-9]{2}))?|([0-9]{2})([0-9]{2})?)?")
_GMT_ID = re.compile(r"GMT([+-])([0-9]{1,2})(?::?([0-9]{2}))?")
_FIXED_ZONES: dict[str, ZoneInfo] = {}


def parse_zone(name: str) -> ZoneInfo:
    """A Joda/Java zone id: "UTC", "Z", an IANA id, a fixed offset ("+05:30", "-0700", "GMT+5")."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"Invalid time zone [{name!r}]: expected a zone id string")
    if name in ("UTC", "Z"):
        return UTC
    offset = _parse_offset_id(name)
    if offset is not None:
        return _fixed_zone(offset)
    if _ZONE_KEY.fullmatch(name):
        zone = _load_zone(name) or _load_zone(_JAVA_SHORT_IDS.get(name, ""))
        if zone is not None:
            return zone
    raise ValueError(f"Unknown time zone [{name}]")


def _parse_offset_id(name: str) -> int | None:
    match = _OFFSET_ID.fullmatch(name)
    if match:
        sign, hours = match[1], match[2]
        minutes, seconds = match[3] or match[5], match[4] or match[6]
    else:
        match = _GMT_ID.fullmatch(name)
        if not match:
            return None
        sign, hours, minutes, seconds = match[1], match[2], match[3], None
    h, m, s = int(hours), int(minutes or 0), int(seconds or 0)
    if h > 23 or m > 59 or s > 59:
        raise ValueError(f"Invalid time zone offset [{name}]")
    total = h * HOUR + m * MINUTE + s * SECOND
    return -total if sign == "-" else total


def _load_zone(key: str) -> ZoneInfo | None:
    if not key:
        return None
    try:
        return ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _offset_text(offset: int) -> str:
    """Joda's printed offset: +HH:MM, with :SS and .SSS only when they are not zero."""
    sign = "-" if offset < 0 else "+"
    hours, rest = divmod(abs(offset), HOUR)
    minutes, rest = divmod(rest, MINUTE)
    seconds, millis = divmod(rest, SECOND)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    if seconds or millis:
        text += f":{seconds:02d}"
    if millis:
        text += f".{millis:03d}"
    return text


def _fixed_zone(offset: int) -> ZoneInfo:
    """A ZoneInfo for a fixed offset, named like Joda names it ("+05:30"); cached so ids compare."""
    if offset == 0:
        return UTC
    key = _offset_text(offset)
    zone = _FIXED_ZONES.get(key)
    if zone is None:
        zone = ZoneInfo.from_file(io.BytesIO(_tzif_fixed(offset // SECOND)), key=key)
        _FIXED_ZONES[key] = zone
    return zone


def _tzif_fixed(seconds: int) -> bytes:
    """A minimal TZif v2 file with one time type and no transitions."""
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    name = f"{sign}{hours:02d}{rest // 60:02d}" + (f"{rest % 60:02d}" if rest % 60 else "")
    abbr = name.encode("ascii") + b"\0"
    header = b"TZif2" + b"\0" * 15 + struct.pack(">6l", 0, 0, 0, 0, 1, len(abbr))
    block = struct.pack(">lBB", seconds, 0, 0) + abbr
    # POSIX TZ strings count offsets west of Greenwich as positive.
    posix_sign = "+" if seconds < 0 else "-"
    posix = f"<{name}>{posix_sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return header + block + header + block + b"\n" + posix.encode("ascii") + b"\n"


@dataclass(frozen=True)
class _ZoneFacts:
    """What a zone's TZif data says: its transitions and the offsets of its trailing POSIX rule."""

    fixed: int | None
    times: tuple[int, ...]
    offsets: tuple[int, ...]
    initial: int | None
    future: tuple[int, ...]

    def congruent_since(self, unit: int) -> tuple[int, int] | None:
        """(since, residue): from instant `since` on, every offset is `residue` modulo `unit`."""
        if self.fixed is not None:
            return _LONG_MIN, self.fixed % unit
        ends = self.future or self.offsets[-1:]
        if not ends or any(o % unit != ends[0] % unit for o in ends):
            return None
        residue = ends[0] % unit
        since: int | None = None
        for when, offset in zip(reversed(self.times), reversed(self.offsets), strict=True):
            if offset % unit != residue:
                return None if since is None else (since, residue)
            since = when
        if self.initial is not None and self.initial % unit != residue:
            return None if since is None else (since, residue)
        return _LONG_MIN, residue


_POSIX_TZ = re.compile(
    r"(<[^>]*>|[A-Za-z]+)([+-]?[0-9]+(?::[0-9]+){0,2})"
    r"(?:(<[^>]*>|[A-Za-z]+)([+-]?[0-9]+(?::[0-9]+){0,2})?)?"
)


def _posix_seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0, 0]
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def _posix_offsets(text: str) -> tuple[int, ...]:
    """The offsets of a TZif footer's POSIX TZ rule ("PST8PDT,M3.2.0,M11.1.0")."""
    match = _POSIX_TZ.fullmatch(text.split(",")[0])
    if not match:
        return ()
    # POSIX counts offsets west of Greenwich as positive; DST defaults to one hour ahead.
    std = -_posix_seconds(match[2]) * SECOND
    if not match[3]:
        return (std,)
    return std, (-_posix_seconds(match[4]) * SECOND if match[4] else std + HOUR)


def _read_tzif(data: bytes) -> _ZoneFacts | None:
    if len(data) < 44 or data[:4] != b"TZif" or data[4:5] not in (b"2", b"3", b"4"):
        return None
    isut, isstd, leap, timecnt, typecnt, charcnt = struct.unpack(">6l", data[20:44])
    pos = 44 + timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut
    if data[pos : pos + 4] != b"TZif":
        return None
    isut, isstd, leap, timecnt, typecnt, charcnt = struct.unpack(">6l", data[pos + 20 : pos + 44])
    pos += 44
    times = struct.unpack(f">{timecnt}q", data[pos : pos + 8 * timecnt])
    pos += 8 * timecnt
    kinds = data[pos : pos + timecnt]
    pos += timecnt
    utoffs = [
        struct.unpack(">l", data[pos + 6 * i : pos + 6 * i + 4])[0] * SECOND for i in range(typecnt)
    ]
    pos += 6 * typecnt + charcnt + leap * 12 + isstd + isut
    future = _posix_offsets(data[pos:].strip(b"\n").decode("ascii", "replace"))
    if not utoffs:
        return None
    fixed = None
    if not times and len(set(utoffs)) == 1 and set(future) <= set(utoffs):
        fixed = utoffs[0]
    offsets = tuple(utoffs[k] for k in kinds)
    return _ZoneFacts(fixed, tuple(t * SECOND for t in times), offsets, utoffs[0], future)


def _tzif_bytes(key: str) -> bytes | None:
    """The TZif file zoneinfo itself loads for `key`: TZPATH first, then the tzdata package."""
    parts = key.split("/")
    for base in zoneinfo.TZPATH:
        path = os.path.join(base, *parts)
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                return handle.read()
    try:
        return importlib.resources.files("tzdata").joinpath("zoneinfo", *parts).read_bytes()
    except (ImportError, OSError):
        return None


_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC_TZINFO)
_ONE_MS = timedelta(milliseconds=1)
_PY_MIN_MS = (datetime(1, 1, 3, tzinfo=_UTC_TZINFO) - _EPOCH) // _ONE_MS
_PY_MAX_MS = (datetime(9000, 1, 1, tzinfo=_UTC_TZINFO) - _EPOCH) // _ONE_MS
# ICU (DuckDB's zone engine) takes microseconds in a BIGINT; past this the offset no longer changes.
_ICU_LIMIT = 9_000_000_000_000_000


class _Zone:
    """A zone with Joda's conversions between UTC instants and local (wall-clock) milliseconds."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        key = tz.key
        self.key = key
        facts = None
        if key in _FIXED_ZONES:
            facts = _ZoneFacts(_parse_offset_id(key), (), (), None, ())
        elif key is not None and _ZONE_KEY.fullmatch(key):
            data = _tzif_bytes(key)
            facts = _read_tzif(data) if data else None
        self.facts = facts
        self.fixed = facts.fixed if facts else None
        self.icu_id = key if key is not None and _ZONE_KEY.fullmatch(key) else None

    def off(self, ms: int) -> int:
        """The zone's offset from UTC at an instant (DateTimeZone.getOffset)."""
        if self.fixed is not None:
            return self.fixed
        facts = self.facts
        if facts and facts.times and ms < facts.times[-1]:
            i = bisect.bisect_right(facts.times, ms)
            return facts.offsets[i - 1] if i else facts.initial or 0
        if ms < _PY_MIN_MS:
            ms = _PY_MIN_MS
        elif ms > _PY_MAX_MS:
            ms -= ((ms - _PY_MAX_MS) // _ERA_MS + 1) * _ERA_MS
        moment = _EPOCH + timedelta(milliseconds=ms)
        offset = moment.astimezone(self.tz).utcoffset()
        return offset // _ONE_MS if offset is not None else 0

    def local(self, ms: int) -> int:
        return ms + self.off(ms)

    def keep(self, local: int, original: int) -> int:
        """DateTimeZone.convertLocalToUTC(local, false, original): prefer the original's offset."""
        o = self.off(original)
        if self.off(local - o) == o:
            return local - o
        a = self.off(local)
        b = self.off(local - a)
        if a != b and a < 0 and self.off(local - b) != b:
            return local - a
        return local - b

    def from_local(self, local: int) -> int:
        """local - getOffsetFromLocal(local): earlier instant in an overlap, shifted past a gap."""
        a = self.off(local)
        b = self.off(local - a)
        if a != b:
            return local - a if a < b and self.off(local - b) != b else local - b
        if a >= 0:
            c = self.off(local - a - 3 * HOUR)
            if c > a and self.off(local - c) == c:
                return local - c
        return local - a

    def floor_time(self, ms: int, unit: int) -> int:
        """roundFloor of a time field (hourOfDay, minuteOfHour): keeps the instant's own offset."""
        o = self.off(ms)
        return (ms + o) - (ms + o) % unit - o

    def floor_date(self, ms: int, floor: Callable[[int], int]) -> int:
        """roundFloor of a date field: floor the local time, convert back keeping the offset."""
        return self.keep(floor(self.local(ms)), ms)

    def week_floor(self, ms: int) -> int:
        """Druid's week: dayOfWeek().roundFloor, then dayOfWeek().set(Monday)."""
        day = self.floor_date(ms, _floor_day)
        local = self.local(day)
        return self.keep(local - (_iso_dow(local // DAY) - 1) * DAY, day)

    def second_floor(self, ms: int) -> int:
        """millisOfSecond().set(t, 0)."""
        local = self.local(ms)
        return self.keep(local - local % SECOND, ms)

    def minute_zero(self, ms: int) -> int:
        """minuteOfHour().set(t, 0)."""
        local = self.local(ms)
        return self.keep(local - (local % HOUR) // MINUTE * MINUTE, ms)


def _floor_day(local: int) -> int:
    return local - local % DAY


def _floor_month(local: int) -> int:
    year, month, _, _ = _split(local)
    return _date_ms(year, month, 1)


def _floor_year(local: int) -> int:
    return _date_ms(_split(local)[0], 1, 1)


@functools.lru_cache(maxsize=256)
def _zone_of(tz: ZoneInfo) -> _Zone:
    return _Zone(tz)


# ------------------------------------------------------------------------------------------------
# ISO-8601 periods


@dataclass(frozen=True)
class Period:
    """A Joda Period in the standard type: each field kept as written (PT90M is not PT1H30M)."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0
    millis: int = 0

    def values(self) -> tuple[int, int, int, int, int, int, int, int]:
        return (
            self.years,
            self.months,
            self.weeks,
            self.days,
            self.hours,
            self.minutes,
            self.seconds,
            self.millis,
        )

    def is_zero(self) -> bool:
        return not any(self.values())

    def standard_ms(self) -> int:
        """Period.toStandardDuration: weeks of 7 days, days of 24 hours (no years or months)."""
        return (
            self.weeks * WEEK
            + self.days * DAY
            + self.hours * HOUR
            + self.minutes * MINUTE
            + self.seconds * SECOND
            + self.millis
        )

    def iso(self) -> str:
        """ISOPeriodFormat.standard() printing: "P1D", "PT0.500S", and "PT0S" for zero."""
        date = "".join(
            f"{value}{unit}" for value, unit in zip(self.values()[:4], "YMWD", strict=True) if value
        )
        time = "".join(
            f"{value}{unit}" for value, unit in ((self.hours, "H"), (self.minutes, "M")) if value
        )
        total = self.seconds * SECOND + self.millis
        if total:
            whole = f"{'-' if total < 0 else ''}{abs(total) // SECOND}"
            time += f"{whole}.{abs(total) % SECOND:03d}S" if total % SECOND else f"{whole}S"
        if not date and not time:
            return "PT0S"
        return "P" + date + ("T" + time if time else "")

    def __str__(self) -> str:
        return self.iso()


_PERIOD_RE = re.compile(
    r"[Pp](?:([+-]?[0-9]+)[Yy])?(?:([+-]?[0-9]+)[Mm])?(?:([+-]?[0-9]+)[Ww])?(?:([+-]?[0-9]+)[Dd])?"
    r"(?:([Tt])(?:([+-]?[0-9]+)[Hh])?(?:([+-]?[0-9]+)[Mm])?(?:([+-]?[0-9]+)(?:[.,]([0-9]*))?[Ss])?)?"
)
_INT_MAX = 2**31 - 1


def parse_period(text: str) -> Period:
    """ISOPeriodFormat.standard() parsing: "P1D", "PT1H", "P1Y2M3W4DT5H6M7.5S", "PT0.001S"."""
    match = _PERIOD_RE.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"Invalid format: period [{text}] is not an ISO-8601 period like P1D")
    y, mo, w, d, t, h, mi, s, frac = match.groups()
    if t and h is None and mi is None and s is None:
        raise ValueError(f"Invalid format: period [{text}] has a 'T' with no time fields")
    if all(v is None for v in (y, mo, w, d, h, mi, s)):
        raise ValueError(f"Invalid format: period [{text}] has no fields")
    years, months, weeks, days, hours, minutes, seconds = (
        _period_int(text, v) for v in (y, mo, w, d, h, mi, s)
    )
    millis = 0
    if frac:
        millis = int(frac[:3].ljust(3, "0"))
        if s is not None and (s.startswith("-") or seconds < 0):
            millis = -millis
    return Period(years, months, weeks, days, hours, minutes, seconds, millis)


def _period_int(text: str, value: str | None) -> int:
    if value is None:
        return 0
    number = int(value)
    if len(value.lstrip("+-")) > 10 or not -_INT_MAX - 1 <= number <= _INT_MAX:
        raise ValueError(f"Invalid format: period [{text}] has a field out of range")
    return number


def add_period(ms: int, period: Period, tz: ZoneInfo = UTC, times: int = 1) -> int:
    """Chronology.add(period, ms, times): each field in turn, largest first, as Joda does.

    Years, months, weeks and days move the local (wall-clock) date, clamping the day of month and
    landing after a DST gap; hours and smaller move the absolute instant.
    """
    zone = _zone_of(tz)
    result = ms
    for value, step in zip(period.values(), _FIELD_ADDERS, strict=True):
        if value:
            result = step(zone, result, value * times)
    return result


def _add_years(zone: _Zone, ms: int, n: int) -> int:
    return zone.from_local(_add_years_local(zone.local(ms), n))


def _add_months(zone: _Zone, ms: int, n: int) -> int:
    return zone.from_local(_add_months_local(zone.local(ms), n))


def _add_local_units(unit: int) -> Callable[[_Zone, int, int], int]:
    return lambda zone, ms, n: zone.from_local(zone.local(ms) + n * unit)


def _add_absolute_units(unit: int) -> Callable[[_Zone, int, int], int]:
    return lambda zone, ms, n: ms + n * unit


_FIELD_ADDERS: tuple[Callable[[_Zone, int, int], int], ...] = (
    _add_years,
    _add_months,
    _add_local_units(WEEK),
    _add_local_units(DAY),
    _add_absolute_units(HOUR),
    _add_absolute_units(MINUTE),
    _add_absolute_units(SECOND),
    _add_absolute_units(1),
)


# ------------------------------------------------------------------------------------------------
# ISO instants: one grammar, matched by Python's re and by DuckDB's RE2 alike

_N = "[0-9]"
_DATE_RE = (
    f"(?:([+-]?{_N}{{1,9}})(?:-({_N}{{1,2}})(?:-({_N}{{1,2}}))?)?"
    f"|([+-]?{_N}{{1,9}})-[Ww]({_N}{{1,2}})(?:-({_N}))?"
    f"|([+-]?{_N}{{1,9}})-({_N}{{1,3}}))"
)
_TIME_RE = (
    f"({_N}{{1,2}})(?::({_N}{{1,2}})(?::({_N}{{1,2}})(?:[.,]({_N}{{1,9}}))?"
    f"|[.,]({_N}{{1,9}}))?|[.,]({_N}{{1,9}}))?"
)
_OFFSET_RE = (
    f"(?:([Zz])|([+-])({_N}{{2}}(?::{_N}{{2}}(?::{_N}{{2}}(?:[.,]{_N}{{3}})?)?"
    f"|{_N}{{2}}(?:{_N}{{2}}(?:{_N}{{3}})?)?)?))"
)
_DATE_ROLES = ("year", "month", "day", "weekyear", "week", "wdow", "year", "doy")
_TIME_ROLES = ("hour", "minute", "second", "sfrac", "mfrac", "hfrac")
_OFFSET_ROLES = ("zulu", "osign", "odigits")
# ISODateTimeFormat.dateTimeParser(): a date with optional 'T' time and offset, or 'T' time alone.
_ISO_CORE = f"(?:{_DATE_RE})?(?:[Tt](?:{_TIME_RE})?{_OFFSET_RE}?)?"
_ISO_ROLES = _DATE_ROLES + _TIME_ROLES + _OFFSET_ROLES
_ISO_RE = re.compile(_ISO_CORE)


@dataclass(frozen=True)
class _Grammar:
    """A regex (unanchored, RE2-compatible) and the role of each capture group."""

    core: str
    roles: tuple[str, ...]
    default_year: int = 1970
    needs_date_or_time: bool = False
    two_digit_lenient: bool = False

    @functools.cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.core)

    def match(self, text: str) -> dict[str, str] | None:
        found = self.compiled.fullmatch(text)
        if not found:
            return None
        fields: dict[str, str] = {}
        for role, value in zip(self.roles, found.groups(), strict=True):
            if value:
                fields[role] = value
        return fields


_ISO_GRAMMAR = _Grammar(_ISO_CORE, _ISO_ROLES, needs_date_or_time=True)


class _Invalid(Exception):
    """A parsed field out of range: Joda rejects the whole value."""


def _check(condition: bool) -> None:
    if not condition:
        raise _Invalid


def _two_digit_pivot() -> int:
    # Joda's DateTimeFormat pivots two-digit years at (current year - 30).
    return datetime.now(_UTC_TZINFO).year - 30


def _two_digit_year(text: str, lenient: bool, pivot: int) -> int:
    if lenient and (len(text) != 2 or text[0] in "+-"):
        return int(text)
    value = int(text)
    low = pivot - 50
    t = low % 100 if low >= 0 else 99 + _jrem(low + 1, 100)
    return value + low + (100 if value < t else 0) - t


def _week_date_days(weekyear: int, week: int, dow: int) -> int:
    _check(_MIN_YEAR <= weekyear <= _MAX_YEAR)
    monday = _week_one_monday(weekyear)
    _check(1 <= week <= (_week_one_monday(weekyear + 1) - monday) // 7)
    _check(1 <= dow <= 7)
    return monday + (week - 1) * 7 + dow - 1


def _week_one_monday(year: int) -> int:
    jan4 = _days_from_civil(year, 1, 4)
    return jan4 - (_iso_dow(jan4) - 1)


_MONTH_NAMES = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_DOW_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _year_field(fields: dict[str, str], grammar: _Grammar, pivot: int) -> int:
    if "year" in fields:
        return int(fields["year"])
    if "year2" in fields:
        return _two_digit_year(fields["year2"], grammar.two_digit_lenient, pivot)
    return grammar.default_year


def _date_days(fields: dict[str, str], grammar: _Grammar, pivot: int) -> int:
    if "weekyear" in fields:
        return _week_date_days(
            int(fields["weekyear"]), int(fields["week"]), int(fields.get("wdow", "4"))
        )
    year = _year_field(fields, grammar, pivot)
    _check(_MIN_YEAR <= year <= _MAX_YEAR)
    if "month_text" in fields:
        month = [n[:3] for n in _MONTH_NAMES].index(fields["month_text"][:3].lower()) + 1
    else:
        month = int(fields.get("month", "1"))
    _check(1 <= month <= 12)
    if "doy" in fields:
        doy = int(fields["doy"])
        _check(1 <= doy <= 365 + _is_leap(year))
        days = _days_from_civil(year, 1, 1) + doy - 1
    else:
        day = int(fields.get("day", "1"))
        _check(1 <= day <= _days_in_month(year, month))
        days = _days_from_civil(year, month, day)
    dow = _dow_field(fields)
    if dow is not None:
        days += dow - _iso_dow(days)
    return days


def _dow_field(fields: dict[str, str]) -> int | None:
    if "dow_text" in fields:
        return [n[:3] for n in _DOW_NAMES].index(fields["dow_text"][:3].lower()) + 1
    if "dow" in fields:
        dow = int(fields["dow"])
        _check(1 <= dow <= 7)
        return dow
    return None


def _hour_field(fields: dict[str, str]) -> int:
    hour = 12 if fields.get("ampm", "").upper() == "PM" else 0
    if "hour" in fields:
        hour = int(fields["hour"])
        _check(hour <= 23)
    if "clockhour" in fields:
        value = int(fields["clockhour"])
        _check(1 <= value <= 24)
        hour = value % 24
    if "halfhour" in fields:
        value = int(fields["halfhour"])
        _check(value <= 11)
        hour = hour // 12 * 12 + value
    if "clockhalf" in fields:
        value = int(fields["clockhalf"])
        _check(1 <= value <= 12)
        hour = hour // 12 * 12 + value % 12
    return hour


def _fraction_ms(fields: dict[str, str]) -> int:
    """Joda's Fraction parser: digits scaled to the field's unit, truncated to milliseconds."""
    if "sfrac" in fields:
        return int(fields["sfrac"][:3].ljust(3, "0"))
    if "mfrac" in fields:
        return int(fields["mfrac"][:5].ljust(5, "0")) * 6 // 10
    if "hfrac" in fields:
        digits = fields["hfrac"][:7].ljust(7, "0")
        return (int(digits[:6]) * 36 + int(digits[6]) * 3) // 10
    return 0


def _offset_field(fields: dict[str, str]) -> int | None:
    if "zulu" in fields:
        return 0
    if "osign" not in fields:
        return None
    digits = re.sub("[:.,]", "", fields["odigits"])
    hours, minutes = int(digits[0:2]), int(digits[2:4] or 0)
    seconds, millis = int(digits[4:6] or 0), int(digits[6:9] or 0)
    _check(hours <= 23 and minutes <= 59 and seconds <= 59)
    total = hours * HOUR + minutes * MINUTE + seconds * SECOND + millis
    return -total if fields["osign"] == "-" else total


def _assemble(
    fields: dict[str, str], grammar: _Grammar, pivot: int = 0
) -> tuple[int, int | None] | None:
    """(local millis, parsed offset or None) of matched fields, or None when a field is invalid."""
    if grammar.needs_date_or_time and not ({"year", "weekyear", "hour"} & fields.keys()):
        return None
    try:
        days = _date_days(fields, grammar, pivot)
        hour = _hour_field(fields)
        minute = int(fields.get("minute", "0"))
        second = int(fields.get("second", "0"))
        _check(minute <= 59 and second <= 59)
        local = days * DAY + hour * HOUR + minute * MINUTE + second * SECOND + _fraction_ms(fields)
        return local, _offset_field(fields)
    except _Invalid:
        return None


def _long(ms: int) -> int | None:
    return ms if _LONG_MIN <= ms <= _LONG_MAX else None


def parse_instant(text: str, tz: ZoneInfo = UTC) -> int:
    """ISODateTimeFormat.dateTimeParser(): "2013", "2013-08-31T01", "T01:02", offsets; else tz."""
    fields = _ISO_GRAMMAR.match(text) if isinstance(text, str) else None
    parsed = _assemble(fields, _ISO_GRAMMAR) if fields is not None else None
    if parsed is None:
        raise ValueError(f'Invalid format: "{text}" is not an ISO-8601 date-time')
    local, offset = parsed
    if offset is not None:
        result = _long(local - offset)
    else:
        zone = _zone_of(tz)
        instant = zone.from_local(local)
        if zone.local(instant) != local:
            raise ValueError(
                f'Cannot parse "{text}": Illegal instant due to time zone offset transition'
                f" ({tz.key})"
            )
        result = _long(instant)
    if result is None:
        raise ValueError(f'Cannot parse "{text}": instant out of range')
    return result


def format_instant(ms: int, tz: ZoneInfo = UTC) -> str:
    """DateTime.toString(): ISODateTimeFormat.dateTime(), "Z" whenever the offset is zero."""
    offset = _zone_of(tz).off(ms)
    year, month, day, millis = _split(ms + offset)
    hours, rest = divmod(millis, HOUR)
    minutes, rest = divmod(rest, MINUTE)
    seconds, millis = divmod(rest, SECOND)
    year_text = f"-{-year:04d}" if year < 0 else f"{year:04d}"
    zone_text = "Z" if offset == 0 else _offset_text(offset)
    return (
        f"{year_text}-{month:02d}-{day:02d}"
        f"T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}{zone_text}"
    )


def format_interval(start: int, end: int) -> str:
    return f"{format_instant(start)}/{format_instant(end)}"


def parse_interval(text: str) -> tuple[int, int]:
    """Joda Interval parsing in UTC: "start/end", "start/PERIOD" or "PERIOD/end"."""
    if not isinstance(text, str) or "/" not in text:
        raise ValueError(f"Invalid interval [{text}]: format requires a '/' separator")
    left, right = text.split("/", 1)
    if not left or not right:
        raise ValueError(f"Invalid interval [{text}]: both sides of '/' are required")
    left_period = left[0] in "Pp"
    right_period = right[0] in "Pp"
    if left_period and right_period:
        raise ValueError(f"Invalid interval [{text}]: interval composed of two durations")
    if right_period:
        start = parse_instant(left)
        end = add_period(start, parse_period(right))
    elif left_period:
        end = parse_instant(right)
        start = add_period(end, parse_period(left), times=-1)
    else:
        start, end = parse_instant(left), parse_instant(right)
    if end < start:
        raise ValueError(f"Invalid interval [{text}]: the end instant must not be before the start")
    return start, end


def parse_intervals(value: object) -> list[tuple[int, int]]:
    """Druid's query "intervals": a string (comma-separated), a list, or {"type": "intervals"}.

    The result is condensed like MultipleIntervalSegmentSpec does (JodaUtils.condenseIntervals):
    sorted, overlapping or abutting intervals merged, empty ones dropped.
    """
    if isinstance(value, str):
        # Java's String.split(","): trailing empty strings are dropped, others are kept.
        items: list[object] = list(value.split(","))
        while len(items) > 1 and items[-1] == "":
            items.pop()
    elif isinstance(value, list):
        items = list(value)
    elif isinstance(value, dict):
        kind = value.get("type", "intervals")
        if kind != "intervals":
            raise ValueError(f"Unsupported intervals type [{kind}]; expected 'intervals'")
        inner = value.get("intervals")
        if not isinstance(inner, list):
            raise ValueError("intervals object needs an 'intervals' list")
        items = list(inner)
    else:
        raise ValueError(f"Unknown type [{type(value).__name__}] for intervals")
    parsed = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"Invalid interval [{item!r}]: expected a string")
        parsed.append(parse_interval(item))
    return _condense(parsed)


def _condense(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    result: list[tuple[int, int]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


# ------------------------------------------------------------------------------------------------
# SQL fragments (DuckDB): integer arithmetic where possible; `//` and `%` truncate like Java's.


def _sql_int(value: int) -> str:
    return f"({value})" if value < 0 else str(value)


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_LET_NAMES = itertools.count()
_SQL_ATOM = re.compile(r'\(*(?:-?[0-9]+|[A-Za-z_][A-Za-z0-9_]*|"[^"]*")\)*')


_INLINE_LIMIT = 400


def _let(value: str, body: Callable[[str], str], *, force: bool = False) -> str:
    """`body` with `value` computed once per row: DuckDB has no LET, a one-element lambda serves.

    A lambda costs more per row than repeating short arithmetic, which DuckDB deduplicates; but
    zone lookups (ICU calls) and long values are bound, which also keeps nesting from growing
    the text exponentially.
    """
    cheap = not force and len(value) <= _INLINE_LIMIT and "timezone(" not in value
    if cheap or _SQL_ATOM.fullmatch(value):
        return body(value)
    name = f"__ld{next(_LET_NAMES)}"
    return f"list_transform([{value}], lambda {name}: {body(name)})[1]"


# Ranges longer than this, or with more offset changes, keep ICU's per-row lookup.
_STEPS_SPAN = 5 * 366 * 86_400_000
_STEPS_MAX = 32
_STEPS_PAD = 2 * 86_400_000  # bucket arithmetic looks up offsets up to a day or so away


def _offset_steps(zone: _Zone, low: int, high: int) -> list[tuple[int, int]] | None:
    """[(from_ms, offset)] of the zone over [low, high] (padded), or None if too many."""
    low, high = max(low - _STEPS_PAD, -_ICU_LIMIT), min(high + _STEPS_PAD, _ICU_LIMIT)
    if high - low > _STEPS_SPAN:
        return None
    step = 6 * 3_600_000  # offsets never change twice within six hours
    current = zone.off(low)
    steps = [(low, current)]
    t = low
    while t < high:
        nxt = min(t + step, high)
        offset = zone.off(nxt)
        if offset != current:
            a, b = t, nxt
            while b - a > 1:
                mid = (a + b) // 2
                if zone.off(mid) == current:
                    a = mid
                else:
                    b = mid
            steps.append((b, offset))
            current = offset
            if len(steps) > _STEPS_MAX:
                return None
        t = nxt
    return steps


def _steps_case(v: str, steps: list[tuple[int, int]]) -> str:
    if len(steps) == 1:
        return _sql_int(steps[0][1])
    arms = " ".join(
        f"WHEN {v} < {_sql_int(start)} THEN {_sql_int(prev)}"
        for (start, _), (_, prev) in zip(steps[1:], steps[:-1], strict=True)
    )
    return f"(CASE {arms} ELSE {_sql_int(steps[-1][1])} END)"


def _fmod_sql(a: str, n: int) -> str:
    return f"((({a}) % {n} + {n}) % {n})"


def _floor_sql(a: str, n: int) -> str:
    return f"(({a}) - {_fmod_sql(a, n)})"


def _fdiv_sql(a: str, n: int) -> str:
    return f"((({a}) - {_fmod_sql(a, n)}) // {n})"


def _leap_sql(y: str) -> str:
    return f"(({y}) % 4 = 0 AND (({y}) % 100 <> 0 OR ({y}) % 400 = 0))"


def _dim_sql(y: str, m: str) -> str:
    return (
        f"(CASE WHEN ({m}) = 2 THEN CASE WHEN {_leap_sql(y)} THEN 29 ELSE 28 END"
        f" ELSE 31 - (({m}) - 1) % 7 % 2 END)"
    )


def _dfc_sql(y: str, m: str, d: str) -> str:
    """_days_from_civil in SQL."""
    yy = f"(({y}) - CASE WHEN ({m}) <= 2 THEN 1 ELSE 0 END)"
    yoe = _fmod_sql(yy, 400)
    doy = f"((153 * (({m}) + CASE WHEN ({m}) > 2 THEN -3 ELSE 9 END) + 2) // 5 + ({d}) - 1)"
    return (
        f"({_fdiv_sql(yy, 400)} * 146097 + {yoe} * 365 + {yoe} // 4 - {yoe} // 100"
        f" + {doy} - 719468)"
    )


def _year_sql(local: str) -> str:
    return f"year(epoch_ms({local}))"


def _month_sql(local: str) -> str:
    return f"month(epoch_ms({local}))"


def _trunc_sql(unit: str, local: str) -> str:
    return f"epoch_ms(date_trunc('{unit}', epoch_ms({local})))"


@dataclass(frozen=True)
class _LocalSql:
    """A local time in SQL with its calendar fields: computed per row, or folded when constant."""

    value: str
    year: str
    month: str
    day: str
    month_start: str
    year_start: str

    @classmethod
    def of(cls, expr: str) -> _LocalSql:
        return cls(
            expr,
            _year_sql(expr),
            _month_sql(expr),
            f"day(epoch_ms({expr}))",
            _trunc_sql("month", expr),
            _trunc_sql("year", expr),
        )

    @classmethod
    def constant(cls, local: int) -> _LocalSql:
        year, month, day, _ = _split(local)
        return cls(
            _sql_int(local),
            _sql_int(year),
            str(month),
            str(day),
            _sql_int(_date_ms(year, month, 1)),
            _sql_int(_date_ms(year, 1, 1)),
        )


def _year_diff_pos_sql(m: _LocalSql, s: _LocalSql) -> str:
    """_year_diff_local for minuend >= subtrahend."""
    m_rem = f"({m.value} - {m.year_start})"
    s_rem = f"({s.value} - {s.year_start})"
    late = f"{s_rem} >= {_FEB29_REM}"
    s_adj = (
        f"(CASE WHEN {late} AND {_leap_sql(s.year)} AND NOT {_leap_sql(m.year)}"
        f" THEN {s_rem} - {DAY} ELSE {s_rem} END)"
    )
    m_adj = (
        f"(CASE WHEN {late} AND NOT {_leap_sql(s.year)} AND {m_rem} >= {_FEB29_REM}"
        f" AND {_leap_sql(m.year)} THEN {m_rem} - {DAY} ELSE {m_rem} END)"
    )
    return f"({m.year} - {s.year} - CASE WHEN {m_adj} < {s_adj} THEN 1 ELSE 0 END)"


def _month_diff_pos_sql(m: _LocalSql, s: _LocalSql) -> str:
    """_month_diff_local for minuend >= subtrahend."""
    diff = f"(({m.year} - {s.year}) * 12 + {m.month} - {s.month})"
    s_adj = (
        f"(CASE WHEN {m.day} = {_dim_sql(m.year, m.month)} AND {s.day} > {m.day}"
        f" THEN {s.value} - ({s.day} - {m.day}) * {DAY} ELSE {s.value} END)"
    )
    m_rem = f"({m.value} - {m.month_start})"
    s_rem = f"({s_adj} - {s.month_start})"
    return f"({diff} - CASE WHEN {m_rem} < {s_rem} THEN 1 ELSE 0 END)"


def _diff_sql(pos: Callable[[_LocalSql, _LocalSql], str], a: _LocalSql, b: _LocalSql) -> str:
    return f"(CASE WHEN {a.value} < {b.value} THEN -{pos(b, a)} ELSE {pos(a, b)} END)"


def _add_months_sql(local: int, k: str) -> str:
    """_add_months_local(local, k) for a constant local time and a SQL month count."""
    year, month, day, millis = _split(local)
    total = f"({year * 12 + month - 1} + ({k}))"
    new_year, new_month = _fdiv_sql(total, 12), f"({_fmod_sql(total, 12)} + 1)"
    new_day = str(day) if day <= 28 else f"least({day}, {_dim_sql(new_year, new_month)})"
    return f"(epoch_ms(make_date({new_year}, {new_month}, {new_day})) + {millis})"


def _add_years_sql(local: int, k: str) -> str:
    year, month, day, millis = _split(local)
    new_year = f"({year} + ({k}))"
    new_day = str(day)
    if month == 2 and day == 29:
        new_day = f"(CASE WHEN {_leap_sql(new_year)} THEN 29 ELSE 28 END)"
    return f"(epoch_ms(make_date({new_year}, {month}, {new_day})) + {millis})"


class _SqlZone:
    """_Zone's conversions as DuckDB SQL; offsets come from ICU unless the zone is fixed.

    Every method binds what it reuses with _let, so the text stays linear in the nesting depth.
    """

    def __init__(self, zone: _Zone, within: tuple[int, int] | None = None) -> None:
        self.zone = zone
        self.fixed = zone.fixed
        # Inside a bounded range a DST zone has a handful of offsets: a CASE over them is
        # integer work, where ICU's timezone() costs about a microsecond a call.
        self.steps = _offset_steps(zone, *within) if within and zone.fixed is None else None
        self.within = within

    def let(self, value: str, body: Callable[[str], str]) -> str:
        # Lambda bodies lose DuckDB's common-subexpression elimination, so bind only where the
        # alternative is nesting ICU calls; plain arithmetic is inlined and deduplicated.
        return body(value) if self.fixed is not None else _let(value, body)

    def off(self, x: str) -> str:
        if self.fixed is not None:
            return _sql_int(self.fixed)
        if self.steps is not None:
            return _let(x, lambda v: _steps_case(v, self.steps or []))
        if self.zone.icu_id is None:
            raise ValueError(f"time zone [{self.zone.key}] cannot be used in SQL")
        zone_id = self.zone.icu_id

        def offset(v: str) -> str:
            c = f"least(greatest({v}, {-_ICU_LIMIT}), {_ICU_LIMIT})"
            return f"(epoch_ms(timezone('{zone_id}', make_timestamptz({c} * 1000))) - {c})"

        return _let(x, offset)

    def local(self, x: str) -> str:
        if self.fixed == 0:
            return x
        return _let(x, lambda v: f"({v} + {self.off(v)})")

    def keep(self, local: str, original: str) -> str:
        if self.fixed is not None:
            return local if self.fixed == 0 else f"({local} - {_sql_int(self.fixed)})"

        def fallback(lo: str) -> str:
            return _let(
                self.off(lo),
                lambda a: _let(
                    self.off(f"({lo} - {a})"),
                    lambda b: (
                        f"(CASE WHEN {a} <> {b} AND {a} < 0 AND {self.off(f'({lo} - {b})')} <> {b}"
                        f" THEN {lo} - {a} ELSE {lo} - {b} END)"
                    ),
                ),
            )

        return _let(
            local,
            lambda lo: _let(
                self.off(original),
                lambda o: _let(
                    f"({lo} - {o})",
                    lambda u: f"(CASE WHEN {self.off(u)} = {o} THEN {u} ELSE {fallback(lo)} END)",
                ),
            ),
        )

    def from_local(self, local: str) -> str:
        if self.fixed is not None:
            return local if self.fixed == 0 else f"({local} - {_sql_int(self.fixed)})"

        def decide(lo: str, a: str, la: str, b: str) -> str:
            overlap = _let(
                self.off(f"({la} - {3 * HOUR})"),
                lambda c: (
                    f"(CASE WHEN {c} > {a} AND {self.off(f'({lo} - {c})')} = {c}"
                    f" THEN {lo} - {c} ELSE {la} END)"
                ),
            )
            return (
                f"(CASE WHEN {a} <> {b} THEN (CASE WHEN {a} < {b}"
                f" AND {self.off(f'({lo} - {b})')} <> {b} THEN {la} ELSE {lo} - {b} END)"
                f" WHEN {a} >= 0 THEN {overlap} ELSE {la} END)"
            )

        return _let(
            local,
            lambda lo: _let(
                self.off(lo),
                lambda a: _let(
                    f"({lo} - {a})", lambda la: _let(self.off(la), lambda b: decide(lo, a, la, b))
                ),
            ),
        )

    def floor_time(self, t: str, unit: int) -> str:
        congruence = self.zone.facts.congruent_since(unit) if self.zone.facts else None
        exact = _let(self.off(t), lambda o: f"({_floor_sql(f'{t} + {o}', unit)} - {o})")
        if congruence is None:
            return exact
        # Where every offset is the same modulo the unit, the local floor is plain arithmetic.
        since, residue = congruence
        if self.within and self.within[0] + residue >= 0 and self.within[0] >= since:
            # Every row is known to be after 1970: a plain floor, no CASE. Division and product
            # measured faster than modulo in DuckDB (as fast as the hand-written SQL).
            if residue == 0:
                return f"({t} // {unit} * {unit})"
            return f"(({t} + {residue}) // {unit} * {unit} - {residue})"
        # One modulo where t + residue >= 0 (every timestamp after 1970): measured twice as fast
        # as the two-modulo floor over tens of millions of rows.
        fast = (
            f"(CASE WHEN {t} >= {-residue} THEN {t} - ({t} + {residue}) % {unit}"
            f" ELSE {t} - {_fmod_sql(f'{t} + {residue}', unit)} END)"
        )
        if since == _LONG_MIN:
            return fast
        return f"(CASE WHEN {t} >= {_sql_int(since)} THEN {fast} ELSE {exact} END)"

    def floor_date(self, t: str, floor: Callable[[str], str]) -> str:
        return self.keep(self.let(self.local(t), floor), t)

    def week_floor(self, t: str) -> str:
        if self.fixed is not None:
            return f"({t} - {_fmod_sql(f'{t} + {_sql_int(self.fixed)} - {4 * DAY}', WEEK)})"

        def monday(local: str) -> str:
            return f"({local} - {_fmod_sql(f'{_fdiv_sql(local, DAY)} + 3', 7)} * {DAY})"

        day = self.floor_date(t, lambda x: _floor_sql(x, DAY))
        return self.let(day, lambda d: self.keep(self.let(self.local(d), monday), d))

    def minute_zero(self, t: str) -> str:
        def zero(local: str) -> str:
            return f"({local} - {_fmod_sql(local, HOUR)} // {MINUTE} * {MINUTE})"

        return self.let(t, lambda v: self.keep(self.let(self.local(v), zero), v))


# ------------------------------------------------------------------------------------------------
# Granularities

_STANDARD_PERIODS = {
    "SECOND": Period(seconds=1),
    "MINUTE": Period(minutes=1),
    "FIVE_MINUTE": Period(minutes=5),
    "TEN_MINUTE": Period(minutes=10),
    "FIFTEEN_MINUTE": Period(minutes=15),
    "THIRTY_MINUTE": Period(minutes=30),
    "HOUR": Period(hours=1),
    "SIX_HOUR": Period(hours=6),
    "EIGHT_HOUR": Period(hours=8),
    "DAY": Period(days=1),
    "WEEK": Period(weeks=1),
    "MONTH": Period(months=1),
    "QUARTER": Period(months=3),
    "YEAR": Period(years=1),
}
_STANDARD_NAMES = {period: name for name, period in _STANDARD_PERIODS.items()}
_MAX_COMPOUND_STEPS = 10_000_000


class Granularity:
    """A Druid query/segment granularity: all, none, duration or period (simple names are periods).

    bucket_start reproduces Druid's truncate exactly, quirks included: PeriodGranularity aligns
    multi-hour periods with Java remainders (before a non-positive origin the "start" is the next
    boundary), and DurationGranularity/compound periods use `t % d - origin`, which is one bucket
    off when the time and the origin have opposite signs.
    """

    kind: str
    tz: ZoneInfo

    def __init__(
        self,
        kind: str,
        *,
        period: Period | None = None,
        duration: int | None = None,
        origin: int | None = None,
        tz: ZoneInfo = UTC,
    ) -> None:
        self.kind = kind
        self.tz = tz
        self.period = period
        self.duration = duration
        self.has_origin = origin is not None
        self._zone = _zone_of(tz)
        self.origin: int | None = origin
        if kind == "duration":
            assert duration is not None
            # DurationGranularity keeps only origin % duration (a Java remainder).
            self.origin = _jrem(origin or 0, duration)
        elif kind == "period":
            assert period is not None
            # Without an origin, Druid anchors at 1970-01-01T00:00 local time in the zone.
            self.origin = origin if origin is not None else self._zone.keep(0, 0)
            self._local_origin = self._zone.local(self.origin)
            self._compound = sum(v > 0 for v in period.values()) > 1

    # -- construction ----------------------------------------------------------------------------

    @classmethod
    def parse(cls, value: object) -> Granularity:
        """Druid's JSON: a simple name (any case) or a {"type": all|none|duration|period} object."""
        if isinstance(value, Granularity):
            return value
        if isinstance(value, str):
            return cls._from_name(value)
        if isinstance(value, dict):
            kind = value.get("type")
            if kind in ("all", "none"):
                return cls(kind)
            if kind == "duration":
                return cls._from_duration(value)
            if kind == "period":
                return cls._from_period(value)
            if kind is None:
                raise ValueError("granularity object needs a 'type' (all, none, duration, period)")
            raise ValueError(
                f"Unknown granularity type [{kind}]; expected all, none, duration or period"
            )
        raise ValueError(f"Invalid granularity [{value!r}]: expected a string or an object")

    @classmethod
    def _from_name(cls, name: str) -> Granularity:
        upper = name.upper()
        if upper in ("ALL", "NONE"):
            return cls(upper.lower())
        period = _STANDARD_PERIODS.get(upper)
        if period is None:
            names = ", ".join(n.lower() for n in ["ALL", "NONE", *_STANDARD_PERIODS])
            raise ValueError(f"Unknown granularity [{name}]; expected one of {names}")
        return cls("period", period=period)

    @classmethod
    def _from_duration(cls, spec: dict[str, object]) -> Granularity:
        raw = spec.get("duration")
        duration = _json_long(raw)
        if duration is None:
            raise ValueError(f"duration granularity needs a numeric 'duration', got [{raw!r}]")
        if duration <= 0:
            raise ValueError(f"duration granularity needs a duration > 0, got [{duration}]")
        return cls("duration", duration=duration, origin=_json_origin(spec.get("origin")))

    @classmethod
    def _from_period(cls, spec: dict[str, object]) -> Granularity:
        raw = spec.get("period")
        if not isinstance(raw, str):
            raise ValueError(f"period granularity needs a 'period' string like P1D, got [{raw!r}]")
        period = parse_period(raw)
        if period.is_zero():
            raise ValueError("zero period is not acceptable in a period granularity")
        if any(v < 0 for v in period.values()):
            raise ValueError(f"period granularity needs a positive period, got [{raw}]")
        zone = spec.get("timeZone")
        if zone is not None and not isinstance(zone, str):
            raise ValueError(f"period granularity 'timeZone' must be a string, got [{zone!r}]")
        tz = parse_zone(zone) if zone else UTC
        return cls("period", period=period, origin=_json_origin(spec.get("origin")), tz=tz)

    def to_json(self) -> object:
        """What Druid serializes: "DAY" for standard granularities, else a typed object."""
        if self.kind in ("all", "none"):
            return {"type": self.kind}
        if self.kind == "duration":
            return {
                "type": "duration",
                "duration": self.duration,
                "origin": format_instant(self.origin or 0),
            }
        assert self.period is not None
        name = _STANDARD_NAMES.get(self.period)
        if name and self.tz is UTC and not self.has_origin:
            return name
        return {
            "type": "period",
            "period": self.period.iso(),
            "timeZone": self.tz.key,
            "origin": format_instant(self.origin or 0) if self.has_origin else None,
        }

    # -- bucketing -------------------------------------------------------------------------------

    def bucket_start(self, ms: int) -> int:
        if self.kind == "all":
            return MIN_MS
        if self.kind == "none":
            return ms
        if self.kind == "duration":
            return _java_offset_floor(ms, self.duration or 1, self.origin or 0)
        return self._truncate(ms)

    def bucket_end(self, ms: int) -> int:
        """The start of the next bucket (Granularity.bucketEnd: increment(bucketStart))."""
        return self._increment(self.bucket_start(ms))

    def iterate(self, start: int, end: int) -> Iterator[int]:
        """Starts of the buckets overlapping [start, end), like Granularity.getIterable."""
        if self.kind == "all":
            yield start
            return
        current = self.bucket_start(start)
        while current < end:
            yield current
            following = self._increment(current)
            if following <= current:
                raise ValueError(f"granularity {self!r} does not advance at {current}")
            current = following

    def format(self, ms: int) -> str:
        """A bucket timestamp as Druid prints it: in the period's zone, UTC for everything else."""
        return format_instant(ms, self.tz if self.kind == "period" else UTC)

    @property
    def is_fixed_utc(self) -> bool:
        """True when bucket_start is plain integer arithmetic on the instant (no zone, no calendar).

        sql_bucket then calls no functions. Periods that need the calendar (months, years) or a DST
        zone's offsets somewhere in time are False, even where most of their buckets look fixed.
        """
        if self.kind == "all":
            return False
        if self.kind != "period":
            return True
        try:
            sql = self._sql_truncate("t")
        except ValueError:
            return False
        return not any(name in sql for name in ("epoch_ms(", "timezone(", "date_trunc("))

    def sql_bucket(self, column_sql: str, within: tuple[int, int] | None = None) -> str:
        """A DuckDB BIGINT expression over an epoch-ms column: the same numbers as bucket_start.
        `within` promises every value lies in [low, high): zone offsets then become a CASE."""
        t = f"({column_sql})"
        if self.kind == "all":
            return f"CAST({MIN_MS} AS BIGINT)"
        if self.kind == "none":
            return t
        if self.kind == "duration":
            return _java_offset_floor_sql(t, self.duration or 1, self.origin or 0)
        sql = _let(t, lambda v: self._sql_truncate(v, within))
        if "epoch_ms(" in sql:
            # Calendar functions only cover DuckDB's timestamp range; stay NULL beyond it.
            sql = f"(CASE WHEN {t} BETWEEN {-_ICU_LIMIT} AND {_ICU_LIMIT} THEN {sql} END)"
        return sql

    # -- Druid's PeriodGranularity.truncate --------------------------------------------------------

    def _increment(self, ms: int) -> int:
        if self.kind == "all":
            return MAX_MS
        if self.kind == "none":
            return ms + 1
        if self.kind == "duration":
            return ms + (self.duration or 1)
        assert self.period is not None
        return add_period(ms, self.period, self.tz)

    def _truncate(self, t: int) -> int:
        p = self.period
        assert p is not None
        zone = self._zone
        if self._compound:
            return self._truncate_compound(t)
        if p.years > 0:
            if p.years > 1 or self.has_origin:
                return self._calendar(t, p.years, _year_diff_local, _add_years_local)
            return zone.floor_date(t, _floor_year)
        if p.months > 0:
            if p.months > 1 or self.has_origin:
                return self._calendar(t, p.months, _month_diff_local, _add_months_local)
            return zone.floor_date(t, _floor_month)
        if p.weeks > 0:
            if p.weeks > 1 or self.has_origin:
                return self._local_multiple(t, p.weeks, WEEK)
            return zone.week_floor(t)
        if p.days > 0:
            if p.days > 1 or self.has_origin:
                return self._local_multiple(t, p.days, DAY)
            return zone.floor_date(t, _floor_day)
        if p.hours > 0:
            if p.hours > 1 or self.has_origin:
                return self._hours(t, p.hours)
            return zone.floor_time(t, HOUR)
        if p.minutes > 0:
            if p.minutes > 1 or self.has_origin:
                return self._absolute(t, p.minutes, MINUTE)
            return zone.floor_time(t, MINUTE)
        if p.seconds > 0:
            if p.seconds > 1 or self.has_origin:
                return self._absolute(t, p.seconds, SECOND)
            return zone.second_floor(t)
        if p.millis > 1:
            return self._absolute(t, p.millis, 1)
        return t

    def _calendar(
        self,
        t: int,
        n: int,
        diff: Callable[[int, int], int],
        add: Callable[[int, int], int],
    ) -> int:
        k = diff(self._zone.local(t), self._local_origin)
        k -= _jrem(k, n)
        start = self._zone.from_local(add(self._local_origin, k))
        if t < start:
            return self._zone.from_local(add(self._local_origin, k - n))
        return start

    def _local_multiple(self, t: int, n: int, unit: int) -> int:
        k = _jdiv(self._zone.local(t) - self._local_origin, unit)
        k -= _jrem(k, n)
        start = self._zone.from_local(self._local_origin + k * unit)
        if t < start:
            return self._zone.from_local(self._local_origin + (k - n) * unit)
        return start

    def _hours(self, t: int, n: int) -> int:
        o = self.origin or 0
        h = _jdiv(t - o, HOUR)
        h -= _jrem(h, n)
        start = o + h * HOUR
        if t < start and o > 0:
            return start - n * HOUR
        if t > start and o < 0:
            return self._zone.minute_zero(self._zone.floor_time(start, MINUTE))
        return start

    def _absolute(self, t: int, n: int, unit: int) -> int:
        o = self.origin or 0
        k = _jdiv(t - o, unit)
        k -= _jrem(k, n)
        start = o + k * unit
        return start - n * unit if t < start else start

    def _truncate_compound(self, t: int) -> int:
        p = self.period
        assert p is not None
        o = self.origin or 0
        if not p.years and not p.months:
            if self._zone.fixed is not None:
                return _java_offset_floor(t, p.standard_ms(), _jrem(o, p.standard_ms()))
            if not p.weeks and not p.days:
                # Time fields add in absolute time, so Druid's stepping loop is a plain floor.
                return t - (t - o) % p.standard_ms()
        return self._compound_steps(t, p, o)

    def _compound_steps(self, t: int, p: Period, o: int) -> int:
        steps = 0
        current = o
        if t >= o:
            while True:
                following = add_period(current, p, self.tz)
                if t < following:
                    return current
                current = following
                steps += 1
                if steps > _MAX_COMPOUND_STEPS:
                    raise ValueError(f"{format_instant(t)} is too far from the origin of {self!r}")
        while True:
            current = add_period(current, p, self.tz, -1)
            if t >= current:
                return current
            steps += 1
            if steps > _MAX_COMPOUND_STEPS:
                raise ValueError(f"{format_instant(t)} is too far from the origin of {self!r}")

    # -- the same in SQL ---------------------------------------------------------------------------

    def _sql_truncate(self, t: str, within: tuple[int, int] | None = None) -> str:
        p = self.period
        assert p is not None
        zone = _SqlZone(self._zone, within)
        if self._compound:
            return self._sql_compound(t, zone)
        if p.years > 0:
            if p.years > 1 or self.has_origin:
                return self._sql_calendar(t, zone, p.years, _year_diff_pos_sql, _add_years_sql)
            return zone.floor_date(t, lambda x: _trunc_sql("year", x))
        if p.months > 0:
            if p.months > 1 or self.has_origin:
                return self._sql_calendar(t, zone, p.months, _month_diff_pos_sql, _add_months_sql)
            return zone.floor_date(t, lambda x: _trunc_sql("month", x))
        if p.weeks > 0:
            if p.weeks > 1 or self.has_origin:
                return self._sql_local_multiple(t, zone, p.weeks, WEEK)
            return zone.week_floor(t)
        if p.days > 0:
            if p.days > 1 or self.has_origin:
                return self._sql_local_multiple(t, zone, p.days, DAY)
            return zone.floor_date(t, lambda x: _floor_sql(x, DAY))
        if p.hours > 0:
            if p.hours > 1 or self.has_origin:
                return self._sql_hours(t, zone, p.hours)
            return zone.floor_time(t, HOUR)
        if p.minutes > 0:
            if p.minutes > 1 or self.has_origin:
                return self._sql_absolute(t, p.minutes, MINUTE)
            return zone.floor_time(t, MINUTE)
        if p.seconds > 0:
            if p.seconds > 1 or self.has_origin:
                return self._sql_absolute(t, p.seconds, SECOND)
            # Offsets are whole seconds, so setting the local millisecond to 0 is a UTC floor.
            return _floor_sql(t, SECOND)
        if p.millis > 1:
            return self._sql_absolute(t, p.millis, 1)
        return t

    def _sql_calendar(
        self,
        t: str,
        zone: _SqlZone,
        n: int,
        diff_pos: Callable[[_LocalSql, _LocalSql], str],
        add: Callable[[int, str], str],
    ) -> str:
        lo = self._local_origin
        if lo == 0:
            return self._sql_calendar_from_epoch(
                t, zone, n, months_per_unit=12 if add is _add_years_sql else 1
            )

        def pick(k: str) -> str:
            previous = zone.from_local(add(lo, f"({k} - {n})"))
            return zone.let(
                zone.from_local(add(lo, k)),
                lambda s: f"(CASE WHEN {t} < {s} THEN {previous} ELSE {s} END)",
            )

        # DuckDB does not share subexpressions across CASE branches, and the month count is
        # referenced all over the date arithmetic, so it is bound even for fixed zones.
        def diff(lt: str) -> str:
            return _let(
                _diff_sql(diff_pos, _LocalSql.of(lt), _LocalSql.constant(lo)),
                lambda k: _let(f"({k} - {k} % {n})", pick),
            )

        return _let(zone.local(t), diff)

    def _sql_calendar_from_epoch(self, t: str, zone: _SqlZone, n: int, months_per_unit: int) -> str:
        """_sql_calendar when the origin is local 1970-01-01T00:00, the default.

        Counting whole months (or years) from a month start never hits the month-end or leap-day
        special cases, so Druid's difference-then-adjust steps reduce to flooring the month index.
        """
        step = n * months_per_unit
        if zone.fixed is not None and 12 % step == 0:
            # Aligned within each year (quarters, halves): plain calendar truncation.
            return zone.from_local(
                zone.let(
                    zone.local(t),
                    lambda lt: (
                        f"epoch_ms(make_date({_year_sql(lt)},"
                        f" ({_month_sql(lt)} - 1) // {step} * {step} + 1, 1))"
                    ),
                )
            )

        def start(index: str) -> str:
            floored = f"({index} - {_fmod_sql(index, step)})"
            return zone.let(
                floored,
                lambda q: zone.from_local(
                    f"epoch_ms(make_date(1970 + {_fdiv_sql(q, 12)}, {_fmod_sql(q, 12)} + 1, 1))"
                ),
            )

        def index(lt: str) -> str:
            return f"({_year_sql(lt)} * 12 + {_month_sql(lt)} - 23641)"

        return zone.let(zone.local(t), lambda lt: zone.let(index(lt), start))

    def _sql_local_multiple(self, t: str, zone: _SqlZone, n: int, unit: int) -> str:
        lo = _sql_int(self._local_origin)

        def pick(k: str) -> str:
            previous = zone.from_local(f"({lo} + ({k} - {n}) * {unit})")
            return zone.let(
                zone.from_local(f"({lo} + {k} * {unit})"),
                lambda s: f"(CASE WHEN {t} < {s} THEN {previous} ELSE {s} END)",
            )

        k = f"(({zone.local(t)} - {lo}) // {unit})"
        return zone.let(k, lambda v: zone.let(f"({v} - {v} % {n})", pick))

    def _sql_hours(self, t: str, zone: _SqlZone, n: int) -> str:
        o = self.origin or 0
        h = f"(({t} - {_sql_int(o)}) // {HOUR})"
        start = f"({_sql_int(o)} + ({h} - {h} % {n}) * {HOUR})"
        if o > 0:
            return zone.let(
                start, lambda s: f"(CASE WHEN {t} < {s} THEN {s} - {n * HOUR} ELSE {s} END)"
            )
        if o == 0:
            return start
        congruence = self._zone.facts.congruent_since(HOUR) if self._zone.facts else None
        guard = ""
        if congruence is not None and (o + congruence[1]) % HOUR == 0:
            # Where local(start) is a whole hour, re-flooring it to the hour changes nothing.
            if congruence[0] == _LONG_MIN:
                return start
            guard = f" AND {{s}} < {_sql_int(congruence[0])}"

        def pick(s: str) -> str:
            odd = zone.minute_zero(zone.floor_time(s, MINUTE))
            return f"(CASE WHEN {t} > {s}{guard.format(s=s)} THEN {odd} ELSE {s} END)"

        return zone.let(start, pick)

    def _sql_absolute(self, t: str, n: int, unit: int) -> str:
        o = _sql_int(self.origin or 0)
        k = f"(({t} - {o}) // {unit})"
        start = f"({o} + ({k} - {k} % {n}) * {unit})"
        return f"(CASE WHEN {t} < {start} THEN {start} - {n * unit} ELSE {start} END)"

    def _sql_compound(self, t: str, zone: _SqlZone) -> str:
        p = self.period
        assert p is not None
        o = self.origin or 0
        if not p.years and not p.months:
            length = p.standard_ms()
            if zone.fixed is not None:
                return _java_offset_floor_sql(t, length, _jrem(o, length))
            if not p.weeks and not p.days:
                return f"({t} - {_fmod_sql(f'{t} - {_sql_int(o)}', length)})"
        raise ValueError(
            f"period granularity {p.iso()} in {self.tz.key} steps from its origin one period at a"
            " time; it has no SQL form"
        )

    # -- identity --------------------------------------------------------------------------------

    def _identity(self) -> tuple[object, ...]:
        return (self.kind, self.tz.key, self.period, self.duration, self.origin, self.has_origin)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Granularity) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        return f"Granularity({self.to_json()!r})"


def _java_offset_floor(t: int, length: int, origin: int) -> int:
    """Druid's `offset = t % length - origin; if (offset < 0) offset += length; t - offset`."""
    offset = _jrem(t, length) - origin
    if offset < 0:
        offset += length
    return t - offset


def _java_offset_floor_sql(t: str, length: int, origin: int) -> str:
    offset = f"({t} % {length} - {_sql_int(origin)})"
    return f"({t} - CASE WHEN {offset} < 0 THEN {offset} + {length} ELSE {offset} END)"


def _json_long(value: object) -> int | None:
    """Jackson's coercion of a JSON value to a Java long."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 2**63:
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value.strip()):
        return int(value.strip())
    return None


def _json_origin(value: object) -> int | None:
    """Druid's DateTime deserializer: a JSON integer is millis, a string is ISO with its offset."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"Invalid origin [{value!r}]")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return parse_instant(value.strip())
    raise ValueError(f"Invalid origin [{value!r}]: expected an ISO date-time or epoch millis")


# ------------------------------------------------------------------------------------------------
# Timestamp parsing (timestampSpec formats), in Python and as DuckDB SQL

_NUMERIC_FORMATS = ("auto", "millis", "posix", "micro", "nano", "ruby")
_JAVA_SPACE = "".join(chr(c) for c in range(33))
_JAVA_DOUBLE = re.compile(
    r"[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[fFdD]?"
)
_JAVA_DOUBLE_SQL = "[+-]?(NaN|Infinity|([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?)[fFdD]?"


_CANONICAL = (
    "[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}{separator}([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    "([.][0-9]{{1,3}})?Z?"
)


def _strip_quotes(text: str) -> str | None:
    """ParserUtils.stripQuotes: Java trim, then one pair of surrounding double quotes."""
    text = text.strip(_JAVA_SPACE)
    if not text or text == '"':
        return None
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].strip(_JAVA_SPACE)
    return text


def _parse_java_long(text: str) -> int | None:
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    return _long(int(text))


def _java_double_to_long(value: float) -> int:
    if value != value:
        return 0
    if value >= 2.0**63:
        return _LONG_MAX
    if value <= -(2.0**63):
        return _LONG_MIN
    return int(value)


def _scale_numeric(kind: str, value: int) -> int:
    """createNumericTimestampParser on a Java long."""
    if kind == "posix":
        limit = _LONG_MAX // SECOND
        return _LONG_MAX if value > limit else _LONG_MIN if value < -limit else value * SECOND
    if kind == "micro":
        return _jdiv(value, 1_000)
    if kind == "nano":
        return _jdiv(value, 1_000_000)
    return value


@functools.lru_cache(maxsize=1)
def _zone_suffix_re() -> str:
    """Java's TimeZone ids, which 'auto' strips from the end of a value ("... UTC")."""
    names = set(zoneinfo.available_timezones()) | set(_JAVA_SHORT_IDS) | {"UTC", "GMT"}
    names = {n for n in names if _ZONE_KEY.fullmatch(n)}
    return "|".join(_re_escape(n) for n in sorted(names, key=lambda n: (-len(n), n)))


def _re_escape(text: str) -> str:
    return "".join("\\" + ch if ch in r"\.^$|?*+()[]{}" else ch for ch in text)


@functools.lru_cache(maxsize=1)
def _auto_grammar() -> _Grammar:
    # TimestampParser's auto parser: dateElementParser, then 'T' or ' ' with optional time and
    # offset; a trailing " <Java zone id>" is dropped first (it does not change the instant).
    core = f"{_DATE_RE}(?:[Tt ](?:{_TIME_RE})?{_OFFSET_RE}?)?(?: (?:{_zone_suffix_re()}))?"
    return _Grammar(core, _ISO_ROLES)


class _Format:
    """A compiled timestampSpec format."""

    def __init__(self, fmt: str) -> None:
        if not isinstance(fmt, str) or not fmt:
            raise ValueError(f"Invalid timestamp format [{fmt!r}]")
        lower = fmt.lower()
        self.kind = lower if lower in (*_NUMERIC_FORMATS, "iso") else "pattern"
        self.grammar: _Grammar | None = None
        if self.kind == "pattern":
            self.grammar = _compile_joda_pattern(fmt)
        elif self.kind == "auto":
            self.grammar = _auto_grammar()
        elif self.kind == "iso":
            self.grammar = _ISO_GRAMMAR

    # -- Python ----------------------------------------------------------------------------------

    def parse(self, value: object) -> int | None:
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.kind in _NUMERIC_FORMATS:
                return self._parse_number(value)
            value = str(value)
        if not isinstance(value, str):
            return None
        if not value:
            return None
        if self.kind == "auto" and all("0" <= ch <= "9" for ch in value):
            return _parse_java_long(value)
        text = _strip_quotes(value)
        if text is None:
            return None
        if self.kind in ("millis", "posix", "micro", "nano"):
            number = _parse_java_long(text)
            return None if number is None else _scale_numeric(self.kind, number)
        if self.kind == "ruby":
            if not _JAVA_DOUBLE.fullmatch(text):
                return None
            return _java_double_to_long(float(text.rstrip("fFdD")) * 1000)
        result = self._parse_grammar(text)
        if result is None and self.kind == "iso":
            return _parse_java_long(text)
        return result

    def _parse_number(self, value: int | float) -> int | None:
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                return None
            if self.kind == "ruby":
                return _java_double_to_long(value * 1000)
            value = int(value)
        if not _LONG_MIN <= value <= _LONG_MAX:
            return None
        if self.kind == "ruby":
            return _java_double_to_long(float(value) * 1000)
        return _scale_numeric(self.kind, value)

    def _parse_grammar(self, text: str) -> int | None:
        assert self.grammar is not None
        fields = self.grammar.match(text)
        if fields is None:
            return None
        parsed = _assemble(fields, self.grammar, _two_digit_pivot())
        if parsed is None:
            return None
        local, offset = parsed
        return _long(local - (offset or 0))

    # -- SQL -------------------------------------------------------------------------------------

    def sql(self, column: str) -> str:
        return _let(f"CAST({column} AS VARCHAR)", self._sql_raw)

    def _sql_raw(self, raw: str) -> str:
        general = _let(_strip_quotes_sql(raw), lambda text: self._sql_text(raw, text), force=True)
        if self.kind in ("millis", "posix", "micro", "nano"):
            number = _scale_numeric_sql(self.kind, f"TRY_CAST({raw} AS BIGINT)")
            plain = f"regexp_full_match({raw}, '[+-]?[0-9]+')"
            return f"(CASE WHEN {plain} THEN {number} ELSE {general} END)"
        if self.kind not in ("auto", "iso"):
            return general
        # The usual shape, UTC with at most milliseconds, is where DuckDB's own cast agrees with
        # Joda exactly (hour 24 excluded); everything else takes the general grammar.
        separator = "[T ]" if self.kind == "auto" else "T"
        canonical = _sql_str(_CANONICAL.format(separator=separator))
        fast = f"epoch_ms(TRY_CAST(rtrim({raw}, 'Z') AS TIMESTAMP))"
        digits = ""
        if self.kind == "auto":
            digits = f"WHEN regexp_full_match({raw}, '[0-9]+') THEN TRY_CAST({raw} AS BIGINT) "
        return (
            f"(CASE {digits}WHEN regexp_full_match({raw}, {canonical}) THEN {fast}"
            f" ELSE {general} END)"
        )

    def _sql_text(self, raw: str, text: str) -> str:
        if self.kind in ("millis", "posix", "micro", "nano"):
            return _scale_numeric_sql(self.kind, _java_long_sql(text))
        if self.kind == "ruby":
            return _ruby_sql(text)
        parsed = self._grammar_sql(text)
        if self.kind == "iso":
            return f"coalesce({parsed}, {_java_long_sql(text)})"
        return parsed

    def _grammar_sql(self, text: str) -> str:
        assert self.grammar is not None
        grammar = self.grammar
        names = [f"g{i}" for i in range(len(grammar.roles) + 1)]
        pattern = _sql_str("^(" + grammar.core + ")$")
        extract = f"regexp_extract({text}, {pattern}, [{', '.join(_sql_str(n) for n in names)}])"

        def assemble(match: str) -> str:
            groups: dict[str, list[str]] = {}
            for role, name in zip(grammar.roles, names[1:], strict=True):
                groups.setdefault(role, []).append(f"struct_extract({match}, '{name}')")
            g = {role: " || ".join(parts) for role, parts in groups.items()}
            return _assemble_sql(g, grammar, f"struct_extract({match}, 'g0') <> ''")

        return _let(extract, assemble, force=True)


def _strip_quotes_sql(raw: str) -> str:
    trim = "'^[\\x00-\\x20]+|[\\x00-\\x20]+$'"

    def strip(t: str) -> str:
        inner = f"regexp_replace(substr({t}, 2, length({t}) - 2), {trim}, '', 'g')"
        return (
            f"(CASE WHEN {t} = '' OR {t} = '\"' THEN NULL"
            f" WHEN {t} LIKE '\"%\"' THEN {inner} ELSE {t} END)"
        )

    return _let(f"regexp_replace({raw}, {trim}, '', 'g')", strip, force=True)


def _java_long_sql(text: str) -> str:
    valid = f"regexp_full_match({text}, '[+-]?[0-9]+')"
    return f"(CASE WHEN {valid} THEN TRY_CAST({text} AS BIGINT) END)"


def _scale_numeric_sql(kind: str, value: str) -> str:
    if kind == "posix":
        limit = _LONG_MAX // SECOND
        return (
            f"(CASE WHEN {value} > {limit} THEN {_LONG_MAX} WHEN {value} < {-limit}"
            f" THEN CAST({_LONG_MIN} AS BIGINT) ELSE {value} * {SECOND} END)"
        )
    if kind == "micro":
        return f"({value} // 1000)"
    if kind == "nano":
        return f"({value} // 1000000)"
    return value


def _ruby_sql(text: str) -> str:
    number = f"TRY_CAST(regexp_replace({text}, '[fFdD]$', '') AS DOUBLE)"
    scaled = f"({number} * 1000)"
    return (
        f"(CASE WHEN NOT regexp_full_match({text}, {_sql_str(_JAVA_DOUBLE_SQL)}) THEN NULL"
        f" WHEN isnan({scaled}) THEN 0 WHEN {scaled} >= 9.223372036854775807e18 THEN {_LONG_MAX}"
        f" WHEN {scaled} <= -9.223372036854775808e18 THEN CAST({_LONG_MIN} AS BIGINT)"
        f" ELSE CAST(trunc({scaled}) AS BIGINT) END)"
    )


def _assemble_sql(g: dict[str, str], grammar: _Grammar, matched: str) -> str:
    """_assemble as SQL over the captured group texts `g` (role -> VARCHAR expression)."""

    def num(role: str) -> str | None:
        return f"TRY_CAST(NULLIF({g[role]}, '') AS BIGINT)" if role in g else None

    def given(role: str) -> str:
        return f"({g[role]} <> '')" if role in g else "FALSE"

    checks = [matched]
    if grammar.needs_date_or_time:
        checks.append(f"({given('year')} OR {given('weekyear')} OR {given('hour')})")
    year_parts = [x for x in (num("year"), _two_digit_sql(g, grammar)) if x]
    year = f"coalesce({', '.join([*year_parts, str(grammar.default_year)])})"
    checks.append(f"{year} BETWEEN {_MIN_YEAR} AND {_MAX_YEAR}")
    month = _month_sql_field(g, num)
    checks.append(f"{month} BETWEEN 1 AND 12")
    day = f"coalesce({num('day') or 'NULL'}, 1)"
    ymd = _dfc_sql(year, month, day)
    days = ymd
    if "doy" in g:
        doy = num("doy")
        ordinal = f"({_dfc_sql(year, '1', '1')} + {doy} - 1)"
        leap = f"CASE WHEN {_leap_sql(year)} THEN 366 ELSE 365 END"
        checks.append(f"(NOT {given('doy')} OR {doy} BETWEEN 1 AND {leap})")
        days = f"(CASE WHEN {given('doy')} THEN {ordinal} ELSE {days} END)"
    checks.append(f"({given('doy')} OR {day} BETWEEN 1 AND {_dim_sql(year, month)})")
    if "weekyear" in g:
        week_days, week_checks = _week_date_sql(num("weekyear") or "0", num("week") or "0", num)
        checks.append(f"(NOT {given('weekyear')} OR ({week_checks}))")
        days = f"(CASE WHEN {given('weekyear')} THEN {week_days} ELSE {days} END)"
    dow = _dow_sql_field(g, num, checks)
    if dow is not None:
        days = f"({days} + {dow} - ({_fmod_sql(f'{days} + 3', 7)} + 1))"
    hour = _hour_sql_field(g, num, checks)
    minute = f"coalesce({num('minute') or 'NULL'}, 0)"
    second = f"coalesce({num('second') or 'NULL'}, 0)"
    checks.append(f"{minute} <= 59 AND {second} <= 59")
    local = (
        f"(CAST({days} AS HUGEINT) * {DAY} + {hour} * {HOUR} + {minute} * {MINUTE}"
        f" + {second} * {SECOND} + {_fraction_sql(g)})"
    )
    offset = _offset_sql_field(g, checks)
    return f"(CASE WHEN {' AND '.join(checks)} THEN TRY_CAST({local} - {offset} AS BIGINT) END)"


def _two_digit_sql(g: dict[str, str], grammar: _Grammar) -> str | None:
    if "year2" not in g:
        return None
    text = g["year2"]
    pivot = _two_digit_pivot()
    low = pivot - 50
    t = low % 100 if low >= 0 else 99 + _jrem(low + 1, 100)
    value = f"TRY_CAST(NULLIF({text}, '') AS BIGINT)"
    pivoted = f"({value} + {low - t} + CASE WHEN {value} < {t} THEN 100 ELSE 0 END)"
    if not grammar.two_digit_lenient:
        return pivoted
    return f"(CASE WHEN regexp_full_match({text}, '[0-9]{{2}}') THEN {pivoted} ELSE {value} END)"


def _month_sql_field(g: dict[str, str], num: Callable[[str], str | None]) -> str:
    if "month_text" in g:
        names = ", ".join(_sql_str(n[:3]) for n in _MONTH_NAMES)
        return f"list_position([{names}], lower(substr({g['month_text']}, 1, 3)))"
    return f"coalesce({num('month') or 'NULL'}, 1)"


def _week_date_sql(weekyear: str, week: str, num: Callable[[str], str | None]) -> tuple[str, str]:
    def monday(year: str) -> str:
        jan4 = _dfc_sql(year, "1", "4")
        return f"({jan4} - {_fmod_sql(f'{jan4} + 3', 7)})"

    dow = f"coalesce({num('wdow') or 'NULL'}, 4)"
    weeks = f"(({monday(f'{weekyear} + 1')} - {monday(weekyear)}) // 7)"
    checks = (
        f"{weekyear} BETWEEN {_MIN_YEAR} AND {_MAX_YEAR} AND {week} BETWEEN 1 AND {weeks}"
        f" AND {dow} BETWEEN 1 AND 7"
    )
    return f"({monday(weekyear)} + ({week} - 1) * 7 + {dow} - 1)", checks


def _dow_sql_field(
    g: dict[str, str], num: Callable[[str], str | None], checks: list[str]
) -> str | None:
    if "dow_text" in g:
        names = ", ".join(_sql_str(n[:3]) for n in _DOW_NAMES)
        return f"list_position([{names}], lower(substr({g['dow_text']}, 1, 3)))"
    if "dow" in g:
        checks.append(f"{num('dow')} BETWEEN 1 AND 7")
        return num("dow")
    return None


def _hour_sql_field(g: dict[str, str], num: Callable[[str], str | None], checks: list[str]) -> str:
    hour = f"(CASE WHEN upper({g['ampm']}) = 'PM' THEN 12 ELSE 0 END)" if "ampm" in g else "0"
    if "hour" in g:
        value = f"coalesce({num('hour')}, 0)"
        checks.append(f"{value} <= 23")
        hour = value
    if "clockhour" in g:
        checks.append(f"{num('clockhour')} BETWEEN 1 AND 24")
        hour = f"({num('clockhour')} % 24)"
    if "halfhour" in g:
        checks.append(f"{num('halfhour')} <= 11")
        hour = f"({hour} // 12 * 12 + {num('halfhour')})"
    if "clockhalf" in g:
        checks.append(f"{num('clockhalf')} BETWEEN 1 AND 12")
        hour = f"({hour} // 12 * 12 + {num('clockhalf')} % 12)"
    return hour


def _fraction_sql(g: dict[str, str]) -> str:
    def digits(role: str, count: int) -> str:
        return f"CAST(substr(rpad({g[role]}, {count}, '0'), 1, {count}) AS BIGINT)"

    cases = []
    if "sfrac" in g:
        cases.append(f"WHEN {g['sfrac']} <> '' THEN {digits('sfrac', 3)}")
    if "mfrac" in g:
        cases.append(f"WHEN {g['mfrac']} <> '' THEN {digits('mfrac', 5)} * 6 // 10")
    if "hfrac" in g:
        seventh = f"CAST(substr(rpad({g['hfrac']}, 7, '0'), 7, 1) AS BIGINT)"
        cases.append(
            f"WHEN {g['hfrac']} <> '' THEN ({digits('hfrac', 6)} * 36 + {seventh} * 3) // 10"
        )
    return f"(CASE {' '.join(cases)} ELSE 0 END)" if cases else "0"


def _offset_sql_field(g: dict[str, str], checks: list[str]) -> str:
    if "osign" not in g:
        return "0"
    digits = f"regexp_replace({g['odigits']}, '[:.,]', '', 'g')"

    def part(start: int, count: int) -> str:
        return f"coalesce(TRY_CAST(NULLIF(substr({digits}, {start}, {count}), '') AS BIGINT), 0)"

    hours, minutes, seconds, millis = part(1, 2), part(3, 2), part(5, 2), part(7, 3)
    checks.append(f"{hours} <= 23 AND {minutes} <= 59 AND {seconds} <= 59")
    total = f"({hours} * {HOUR} + {minutes} * {MINUTE} + {seconds} * {SECOND} + {millis})"
    zulu = f"{g['zulu']} <> '' OR " if "zulu" in g else ""
    return (
        f"(CASE WHEN {zulu}{g['osign']} = '' THEN 0"
        f" WHEN {g['osign']} = '-' THEN -{total} ELSE {total} END)"
    )


# -- Joda DateTimeFormat patterns ----------------------------------------------------------------

_NUMERIC_LETTERS = set("cCxyYdhHmsSeDFwWkK")
_UNSUPPORTED_LETTERS = {
    "G": "era",
    "C": "century of era",
    "x": "weekyear",
    "w": "week of weekyear",
    "z": "time zone name",
}


def _joda_tokens(pattern: str) -> list[str]:
    """DateTimeFormat.parseToken: runs of one letter, or quoted/unquoted literal text ("'...")."""
    tokens: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c.isascii() and c.isalpha():
            j = i
            while j + 1 < n and pattern[j + 1] == c:
                j += 1
            tokens.append(pattern[i : j + 1])
            i = j + 1
            continue
        literal, in_quote = [], False
        while i < n:
            c = pattern[i]
            if c == "'":
                if i + 1 < n and pattern[i + 1] == "'":
                    literal.append("'")
                    i += 1
                else:
                    in_quote = not in_quote
            elif not in_quote and c.isascii() and c.isalpha():
                break
            else:
                literal.append(c)
            i += 1
        tokens.append("'" + "".join(literal))
    return tokens


def _is_numeric_token(token: str) -> bool:
    if token.startswith("'"):
        return token[1:2].isdigit()
    return token[0] in _NUMERIC_LETTERS or (token[0] == "M" and len(token) <= 2)


def _literal_re(text: str) -> str:
    # Joda matches literal text case-insensitively.
    out = []
    for ch in text:
        if ch.isascii() and ch.isalpha():
            out.append(f"[{ch.lower()}{ch.upper()}]")
        else:
            out.append(_re_escape(ch))
    return "".join(out)


def _digits_re(max_digits: int, fixed: bool, signed: bool = False) -> str:
    sign = "[+-]?" if signed else ""
    if fixed:
        return f"({sign}{_N}{{{max_digits}}})"
    return f"({sign}{_N}{{1,{max_digits}}})"


def _names_re(names: list[str]) -> str:
    choices = sorted({*names, *(n[:3] for n in names)}, key=lambda n: (-len(n), n))
    return f"((?i:{'|'.join(choices)}))"


def _compile_joda_pattern(pattern: str) -> _Grammar:
    """A Joda DateTimeFormat pattern as a regex over the same digits Joda's parser accepts.

    Joda parses each number greedily up to its maximum width, so a number directly followed by
    another number only succeeds with exactly that width; the regex makes those widths fixed.
    """
    tokens = _joda_tokens(pattern)
    parts: list[str] = []
    roles: list[str] = []
    lenient = False
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        adjacent = following is not None and _is_numeric_token(following)
        if token.startswith("'"):
            parts.append(_literal_re(token[1:]))
            continue
        letter, count = token[0], len(token)
        piece, role = _joda_field(pattern, letter, count, adjacent)
        if letter in "yY" and count == 2 and not adjacent:
            lenient = True
        parts.append(piece)
        roles.extend(role)
    if len(set(roles)) != len(roles):
        raise ValueError(f"Unable to parse timestamps with format [{pattern}]: repeated field")
    if "doy" in roles and ({"month", "month_text", "day"} & set(roles)):
        raise ValueError(
            f"Unable to parse timestamps with format [{pattern}]: day of year mixed with month/day"
        )
    has_year = bool({"year", "year2"} & set(roles))
    dated = bool({"month", "month_text", "day", "doy", "dow", "dow_text"} & set(roles))
    return _Grammar(
        "".join(parts),
        tuple(roles),
        default_year=2000 if dated and not has_year else 1970,
        two_digit_lenient=lenient,
    )


def _joda_field(pattern: str, letter: str, count: int, adjacent: bool) -> tuple[str, list[str]]:
    if letter in _UNSUPPORTED_LETTERS:
        raise ValueError(
            f"Unable to parse timestamps with format [{pattern}]:"
            f" '{letter}' ({_UNSUPPORTED_LETTERS[letter]}) is not supported"
        )
    if letter in "yY":
        if count == 2:
            return (f"({_N}{{2}})" if adjacent else f"([+-]?{_N}{{1,9}})"), ["year2"]
        return _digits_re(count if adjacent else max(count, 9), adjacent, letter == "y"), ["year"]
    if letter == "M" and count >= 3:
        return _names_re(_MONTH_NAMES), ["month_text"]
    if letter == "E":
        return _names_re(_DOW_NAMES), ["dow_text"]
    if letter == "a":
        return "((?i:AM|PM))", ["ampm"]
    if letter == "Z":
        if count > 2:
            raise ValueError(
                f"Unable to parse timestamps with format [{pattern}]: zone ids (ZZZ) not supported"
            )
        return _OFFSET_RE, ["zulu", "osign", "odigits"]
    if letter == "S":
        return _digits_re(count, adjacent), ["sfrac"]
    widths = {"M": 2, "d": 2, "H": 2, "k": 2, "K": 2, "h": 2, "m": 2, "s": 2, "D": 3, "e": 1}
    roles = {
        "M": "month",
        "d": "day",
        "H": "hour",
        "k": "clockhour",
        "K": "halfhour",
        "h": "clockhalf",
        "m": "minute",
        "s": "second",
        "D": "doy",
        "e": "dow",
    }
    if letter not in widths:
        raise ValueError(
            f"Unable to parse timestamps with format [{pattern}]: illegal pattern component"
            f" '{letter * count}'"
        )
    return _digits_re(max(count, widths[letter]), adjacent), [roles[letter]]


@functools.lru_cache(maxsize=64)
def _timestamp_format(fmt: str) -> _Format:
    return _Format(fmt)


def timestamp_sql(column_sql: str, fmt: str) -> str:
    """DuckDB SQL turning raw input text into BIGINT epoch ms per a timestampSpec format; NULL when
    Druid would reject the value. Raises ValueError for a format that cannot be converted."""
    return _timestamp_format(fmt).sql(f"({column_sql})")


def parse_timestamp(value: object, fmt: str) -> int | None:
    """timestampSpec parsing of one in-memory value (number or string); None when unparseable."""
    return _timestamp_format(fmt).parse(value)


def joda_parse_sql(column_sql: str, pattern: str) -> str:
    """DuckDB SQL for text parsed by one Joda pattern as DateTimeFormat.forPattern(pattern)
    parses it in UTC (no quote stripping, unlike timestampSpec): BIGINT epoch ms, NULL when the
    text does not parse. Raises ValueError for a pattern Joda rejects."""
    if pattern.lower() in (*_NUMERIC_FORMATS, "iso"):
        raise ValueError(f"Illegal pattern component in [{pattern}]")
    fmt = _timestamp_format(pattern)
    return _let(f"CAST(({column_sql}) AS VARCHAR)", fmt._grammar_sql, force=True)


def canonical_iso_sql(column_sql: str) -> str:
    """DuckDB SQL for the one ISO form most events carry, `2024-01-01T00:00:00(.000)Z`: a short
    expression that binds in microseconds where the full ISO parser's SQL takes milliseconds.
    NULL for any other text; where it is not NULL it equals `timestamp_sql(..., "iso")`."""
    c = f"({column_sql})"
    digits = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"
    return (
        f"(CASE WHEN regexp_full_match({c}, '{digits}\\.\\d{{3}}Z') "
        f"THEN epoch_ms(try_strptime({c}, '%Y-%m-%dT%H:%M:%S.%gZ')) "
        f"WHEN regexp_full_match({c}, '{digits}Z') "
        f"THEN epoch_ms(try_strptime({c}, '%Y-%m-%dT%H:%M:%SZ')) END)"
    )


# Joda-Time pattern letters (runs of one letter) to DuckDB strftime.
_JODA = {
    "yyyy": "%Y",
    "YYYY": "%Y",
    "yy": "%y",
    "MMMM": "%B",
    "MMM": "%b",
    "MM": "%m",
    "M": "%-m",
    "dd": "%d",
    "d": "%-d",
    "HH": "%H",
    "H": "%-H",
    "hh": "%I",
    "h": "%-I",
    "mm": "%M",
    "m": "%-M",
    "ss": "%S",
    "s": "%-S",
    "SSS": "%g",
    "EEEE": "%A",
    "EEE": "%a",
    "a": "%p",
    "DDD": "%j",
}


def joda_strftime(fmt: str, where: str) -> list[str]:
    """A Joda pattern as DuckDB strftime pieces (the timeFormat extraction function and the
    timestamp_format expression print with it); "\x00Z" and "\x00ZZ" stand for the zone offset,
    which the caller prints. Other pattern letters answer 501."""
    pieces: list[str] = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c == "'":
            end = fmt.find("'", i + 1)
            if end < 0:
                raise InvalidInput(f"{where}: unterminated quote in [{fmt}]")
            pieces.append("'" if end == i + 1 else fmt[i + 1 : end].replace("%", "%%"))
            i = end + 1
            continue
        if c.isalpha():
            j = i
            while j < len(fmt) and fmt[j] == c:
                j += 1
            token = fmt[i:j]
            if c == "Z" and len(token) <= 2:
                pieces.append("\x00" + token)
            elif token in _JODA:
                pieces.append(_JODA[token])
            elif c == "y" and len(token) > 4:
                raise Unsupported(f"{where}: pattern [{token}] is not supported by localdruid")
            else:
                raise Unsupported(
                    f"{where}: pattern letters [{token}] are not supported by localdruid"
                )
            i = j
            continue
        pieces.append("%%" if c == "%" else c)
        i += 1
    return pieces
