"""Validation: checks a native Druid query against the shapes Druid documents, before saving it."""

from __future__ import annotations

import difflib
import math
import re
import warnings
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

QUERY_TYPES = ("timeseries", "topN", "groupBy")

# Django's key for errors that belong to no single form field (a query that is not an object).
_WHOLE_QUERY = "__all__"
# Druid reads thresholds, limits and offsets into Java ints.
_MAX_INT = 2**31 - 1


@dataclass
class _Context:
    """Errors found so far, plus the names that later parts of the query may refer to."""

    check_intervals: bool = True
    query_type: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    dimensions: list[tuple[str, str]] = field(default_factory=list)
    aggregators: list[str] = field(default_factory=list)
    post_aggregators: list[str] = field(default_factory=list)
    references: frozenset[str] = field(default_factory=frozenset)
    reader: str | None = None

    def add(self, path: str, message: str) -> None:
        found = self.errors.setdefault(path, [])
        if message not in found:
            found.append(message)

    @property
    def dimension_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.dimensions)

    @property
    def outputs(self) -> frozenset[str]:
        names = self.dimension_names | frozenset(self.aggregators)
        return names | frozenset(self.post_aggregators)


_Check = Callable[[_Context, str, object], None]
_Handler = Callable[[_Context, str, dict], None]


# --- describing values and paths ------------------------------------------------------------


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def _quote(text: str) -> str:
    shown = text if len(text) <= 60 else f"{text[:57]}..."
    return f'"{shown}"'


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {_quote(value)}"
    # Python refuses to print ints of thousands of digits, and nobody wants to read them.
    if isinstance(value, int) and abs(value) >= 10**18:
        return "a very large number"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a Python {type(value).__name__}"


def _unknown(kind: str, value: object, known: Iterable[str]) -> str:
    names = list(known)
    expected = f"expected one of {', '.join(names)}"
    if not isinstance(value, str):
        return f"Must be a string naming the {kind} type, not {_describe(value)}; {expected}."
    message = f"Unknown {kind} type {_quote(value)}; {expected}."
    close = difflib.get_close_matches(value, names, n=1) if len(value) < 100 else []
    return f'{message} Did you mean "{close[0]}"?' if close else message


# --- plain values ---------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return _as_int(value) is not None


def _is_number(value: object) -> bool:
    return _as_number(value) is not None


def _as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _as_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if isinstance(value, int) or math.isfinite(value) else None


def _is_scalar(value: object) -> bool:
    return isinstance(value, str) or _is_number(value)


def _parses_as_number(text: str) -> bool:
    if "_" in text or not text.strip():
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def _anything(ctx: _Context, path: str, value: object) -> None:
    """Accepts any value: for fields whose presence is all that matters."""


def _string(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, str):
        ctx.add(path, f"Must be a string, not {_describe(value)}.")
    elif not value:
        ctx.add(path, "Must not be an empty string.")


def _text(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, str):
        ctx.add(path, f"Must be a string, not {_describe(value)}.")


def _boolean(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, bool):
        ctx.add(path, f"Must be true or false, not {_describe(value)}.")


def _flag(ctx: _Context, path: str, value: object) -> None:
    # Druid's context reader (and Jackson, for "descending") also take the strings "true"/"false".
    if isinstance(value, bool) or (isinstance(value, str) and value.lower() in ("true", "false")):
        return
    ctx.add(path, f"Must be true or false, not {_describe(value)}.")


def _scalar(ctx: _Context, path: str, value: object) -> None:
    if not _is_scalar(value):
        ctx.add(path, f"Must be a string or a number, not {_describe(value)}.")


def _object(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, dict):
        ctx.add(path, f"Must be a JSON object, not {_describe(value)}.")


def _bounds(
    ctx: _Context, path: str, value: float, minimum: float | None, maximum: float | None
) -> None:
    if minimum is not None and value < minimum:
        ctx.add(path, f"Must be at least {minimum}.")
    elif maximum is not None and value > maximum:
        ctx.add(path, f"Must be at most {maximum}.")


def _integer(minimum: int | None = None, maximum: int | None = None) -> _Check:
    def check(ctx: _Context, path: str, value: object) -> None:
        number = _as_int(value)
        if number is None:
            ctx.add(path, f"Must be a whole number, not {_describe(value)}.")
        else:
            _bounds(ctx, path, number, minimum, maximum)

    return check


def _number(minimum: float | None = None, maximum: float | None = None) -> _Check:
    def check(ctx: _Context, path: str, value: object) -> None:
        number = _as_number(value)
        if number is None:
            ctx.add(path, f"Must be a number, not {_describe(value)}.")
        else:
            _bounds(ctx, path, number, minimum, maximum)

    return check


def _positive_number(ctx: _Context, path: str, value: object) -> None:
    number = _as_number(value)
    if number is None:
        ctx.add(path, f"Must be a number, not {_describe(value)}.")
    elif number <= 0:
        ctx.add(path, "Must be greater than 0.")


def _power_of_two(minimum: int, maximum: int) -> _Check:
    def check(ctx: _Context, path: str, value: object) -> None:
        number = _as_int(value)
        if number is None:
            ctx.add(path, f"Must be a whole number, not {_describe(value)}.")
        elif not minimum <= number <= maximum or number & (number - 1):
            ctx.add(path, f"Must be a power of 2 between {minimum} and {maximum}.")

    return check


def _byte_size(ctx: _Context, path: str, value: object) -> None:
    # Druid reads sizes as HumanReadableBytes: a number of bytes or a string such as "8KiB".
    if isinstance(value, str) and value.strip():
        return
    number = _as_int(value)
    if number is None or number <= 0:
        ctx.add(
            path,
            f'Must be a positive number of bytes or a size such as "8KiB", not {_describe(value)}.',
        )


def _choice(options: tuple[str, ...], *, ignore_case: bool = False) -> _Check:
    folded = {option.lower() for option in options}

    def check(ctx: _Context, path: str, value: object) -> None:
        expected = ", ".join(options)
        if not isinstance(value, str):
            ctx.add(path, f"Must be one of {expected}, not {_describe(value)}.")
        elif not (value.lower() in folded if ignore_case else value in options):
            ctx.add(path, f"Unknown value {_quote(value)}; expected one of {expected}.")

    return check


def _array_of(check: _Check, *, min_items: int = 0, allow_null: bool = False) -> _Check:
    def checker(ctx: _Context, path: str, value: object) -> None:
        if not isinstance(value, list):
            ctx.add(path, f"Must be a JSON array, not {_describe(value)}.")
            return
        if len(value) < min_items:
            ctx.add(
                path,
                "Must not be empty."
                if min_items == 1
                else f"Must have at least {min_items} items.",
            )
        for index, item in enumerate(value):
            if item is None and allow_null:
                continue
            check(ctx, _item(path, index), item)

    return checker


def _string_map(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, dict):
        ctx.add(path, f"Must be a JSON object mapping keys to values, not {_describe(value)}.")
        return
    for key, mapped in value.items():
        if mapped is not None and not _is_scalar(mapped):
            ctx.add(_at(path, str(key)), f"Must be a string, not {_describe(mapped)}.")


# --- building object handlers ---------------------------------------------------------------


def _fields(
    required: Mapping[str, _Check] | None = None,
    optional: Mapping[str, _Check] | None = None,
    rules: Iterable[_Handler] = (),
) -> _Handler:
    """A handler that checks required and optional keys; null counts as absent, as in Jackson."""
    must = dict(required or {})
    may = dict(optional or {})
    extra = tuple(rules)

    def handler(ctx: _Context, path: str, obj: dict) -> None:
        for key, check in must.items():
            value = obj.get(key)
            if value is None:
                ctx.add(_at(path, key), f'Missing required field "{key}".')
            else:
                check(ctx, _at(path, key), value)
        for key, check in may.items():
            value = obj.get(key)
            if value is not None:
                check(ctx, _at(path, key), value)
        for rule in extra:
            rule(ctx, path, obj)

    return handler


def _dispatch(
    ctx: _Context,
    path: str,
    value: object,
    kind: str,
    handlers: Mapping[str, _Handler],
    default: str | None = None,
) -> None:
    if not isinstance(value, dict):
        ctx.add(path, f"Must be a JSON object ({kind}), not {_describe(value)}.")
        return
    type_name = value.get("type")
    if type_name is None:
        type_name = default
    if type_name is None:
        expected = ", ".join(handlers)
        ctx.add(_at(path, "type"), f'Missing required field "type"; expected one of {expected}.')
        return
    handler = handlers.get(type_name) if isinstance(type_name, str) else None
    if handler is None:
        ctx.add(_at(path, "type"), _unknown(kind, type_name, handlers))
        return
    handler(ctx, path, value)


def _exactly_one(first: str, second: str) -> _Handler:
    def rule(ctx: _Context, path: str, obj: dict) -> None:
        has_first, has_second = obj.get(first) is not None, obj.get(second) is not None
        if not (has_first or has_second):
            ctx.add(_at(path, first), f'Missing required field "{first}" (or give "{second}").')
        elif has_first and has_second:
            ctx.add(_at(path, second), f'Give either "{first}" or "{second}", not both.')

    return rule


def _at_least_one(first: str, second: str) -> _Handler:
    def rule(ctx: _Context, path: str, obj: dict) -> None:
        if obj.get(first) is None and obj.get(second) is None:
            ctx.add(
                _at(path, first),
                f'Missing required field "{first}" or "{second}"; give at least one.',
            )

    return rule


def _increasing(low_key: str, high_key: str) -> _Handler:
    def rule(ctx: _Context, path: str, obj: dict) -> None:
        low, high = _as_number(obj.get(low_key)), _as_number(obj.get(high_key))
        if low is not None and high is not None and low >= high:
            ctx.add(_at(path, high_key), f'Must be greater than "{low_key}".')

    return rule


def _same_length(first: str, second: str) -> _Handler:
    def rule(ctx: _Context, path: str, obj: dict) -> None:
        left, right = obj.get(first), obj.get(second)
        if isinstance(left, list) and isinstance(right, list) and len(left) != len(right):
            ctx.add(_at(path, second), f'Must have as many items as "{first}".')

    return rule


def _retain_or_replace(ctx: _Context, path: str, obj: dict) -> None:
    replacement = obj.get("replaceMissingValueWith")
    if obj.get("retainMissingValue") is True and replacement not in (None, ""):
        ctx.add(
            _at(path, "replaceMissingValueWith"),
            'Cannot be set when "retainMissingValue" is true; Druid rejects the combination.',
        )


# --- entry points into the handler tables below ------------------------------------------------


def _filter(ctx: _Context, path: str, value: object) -> None:
    _dispatch(ctx, path, value, "filter", _FILTERS)


def _virtual_column(ctx: _Context, path: str, value: object) -> None:
    _dispatch(ctx, path, value, "virtual column", _VIRTUAL_COLUMNS)


def _extraction_fn(ctx: _Context, path: str, value: object) -> None:
    _dispatch(ctx, path, value, "extraction function", _EXTRACTION_FNS)


def _search_spec(ctx: _Context, path: str, value: object) -> None:
    _dispatch(ctx, path, value, "search query spec", _SEARCH_SPECS)


def _inline_lookup(ctx: _Context, path: str, value: object) -> None:
    _dispatch(ctx, path, value, "lookup", _INLINE_LOOKUPS)


def _spatial_bound(ctx: _Context, path: str, value: object) -> None:
    _dispatch(ctx, path, value, "spatial bound", _SPATIAL_BOUNDS)


def _aggregator_value(ctx: _Context, path: str, value: object) -> None:
    _dispatch(ctx, path, value, "aggregator", _AGGREGATORS)


def _having(ctx: _Context, path: str, value: object) -> None:
    _dispatch(ctx, path, value, "having spec", _HAVING)


# --- ISO-8601 instants, periods, intervals and time zones ------------------------------------

# Joda's ISODateTimeFormat.dateTimeParser(), which Druid uses: calendar, ordinal and week dates,
# an optional time with fractions of the smallest unit given, and an offset only after "T".
_INSTANT = re.compile(
    r"""
    (?:(?P<year>\d{4})
       (?:-(?:(?P<ordinal>\d{3})(?!\d)
             |W(?P<week>\d{2})(?:-(?P<weekday>[1-7]))?
             |(?P<month>\d{2})(?:-(?P<day>\d{2}))?))?)?
    (?:T
       (?:(?P<hour>\d{2})
          (?::(?P<minute>\d{2})
             (?::(?P<second>\d{2})(?:[.,](?P<second_fraction>\d{1,9}))?
              |[.,](?P<minute_fraction>\d{1,9}))?
           |[.,](?P<hour_fraction>\d{1,9}))?)?
       (?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?)?
    """,
    re.VERBOSE,
)
_PERIOD = re.compile(
    r"P(?:(?P<Y>\d+)Y)?(?:(?P<M>\d+)M)?(?:(?P<W>\d+)W)?(?:(?P<D>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?"
)
_INTEGER_TEXT = re.compile(r"[+-]?\d{1,19}", re.ASCII)
_FIXED_OFFSET = re.compile(r"[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?")
_INSTANT_HINT = "an ISO-8601 date or time such as 2013-08-31 or 2013-08-31T01:02:33Z"
_PERIOD_HINT = "an ISO-8601 period such as P1D, PT1H or P1Y2M3W4DT5H6M7.5S"
_FIRST_DAY = datetime(1, 1, 1)
_INTERVAL_HINT = "start/end, start/period or period/end, e.g. 2013-01-01/2013-01-08"


def _calendar_day(match: re.Match[str]) -> date:
    if match["year"] is None:
        return date(1970, 1, 1)
    year = int(match["year"])
    if match["ordinal"]:
        day = date(year, 1, 1) + timedelta(days=int(match["ordinal"]) - 1)
        if day.year != year:
            raise ValueError("day of year out of range")
        return day
    if match["week"]:
        return date.fromisocalendar(year, int(match["week"]), int(match["weekday"] or 1))
    return date(year, int(match["month"] or 1), int(match["day"] or 1))


def _clock(match: re.Match[str]) -> timedelta:
    hours, minutes, seconds = (int(match[key] or 0) for key in ("hour", "minute", "second"))
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError("time of day out of range")
    clock = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    for key, unit in (("hour_fraction", 3600), ("minute_fraction", 60), ("second_fraction", 1)):
        digits = match[key]
        if digits:
            clock += timedelta(seconds=unit * int(digits) / 10 ** len(digits))
    return clock


def _offset(text: str | None) -> timedelta:
    if text is None or text == "Z":
        return timedelta(0)
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("offset out of range")
    sign = -1 if text[0] == "-" else 1
    return sign * timedelta(hours=hours, minutes=minutes)


def _parse_instant(text: str) -> timedelta | None:
    """The instant Joda would read from ``text`` (case-insensitively, like Joda), or None.

    It is returned as the time since 0001-01-01T00:00Z rather than as a datetime, so that
    instants such as 9999-12-31T23:00-05:00, past datetime's range in UTC, still compare.
    """
    match = _INSTANT.fullmatch(text.upper())
    if match is None or (match["year"] is None and match["hour"] is None):
        return None
    try:
        local = datetime.combine(_calendar_day(match), time()) - _FIRST_DAY
        return local + _clock(match) - _offset(match["offset"])
    except (ValueError, OverflowError):
        return None


def _parse_period(text: str) -> list[float] | None:
    """The amounts of each unit in an ISO-8601 period (Joda also reads it case-insensitively)."""
    match = _PERIOD.fullmatch(text.upper())
    if match is None or all(part is None for part in match.groups()):
        return None
    amounts = [float(part.replace(",", ".")) if part else 0.0 for part in match.groups()]
    # Joda keeps each unit of a period in a Java int.
    return None if any(amount > _MAX_INT for amount in amounts) else amounts


def _interval_problem(text: str) -> str | None:
    pieces = text.split("/")
    if len(pieces) != 2:
        return f"Interval {_quote(text)} is not an ISO-8601 interval; use {_INTERVAL_HINT}."
    ends: list[timedelta | None] = []
    for piece in pieces:
        if piece.upper().startswith("P"):
            if _parse_period(piece) is None:
                return f"Interval {_quote(text)}: {_quote(piece)} is not {_PERIOD_HINT}."
            ends.append(None)
        else:
            instant = _parse_instant(piece)
            if instant is None:
                return f"Interval {_quote(text)}: {_quote(piece)} is not {_INSTANT_HINT}."
            ends.append(instant)
    start, end = ends
    if start is None and end is None:
        return f"Interval {_quote(text)} has a period on both sides; one side must be an instant."
    if start is not None and end is not None and start > end:
        return f"Interval {_quote(text)} starts after it ends."
    return None


def _is_time_zone(text: str) -> bool:
    if text == "UTC" or _FIXED_OFFSET.fullmatch(text):
        return True
    try:
        zoneinfo.ZoneInfo(text)
    except Exception:  # zoneinfo raises several error types for keys that are not zone ids
        return False
    return True


def _time_zone(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, str):
        ctx.add(path, f"Must be a time zone name, not {_describe(value)}.")
    elif not _is_time_zone(value):
        ctx.add(
            path,
            f"Unknown time zone {_quote(value)}; use an IANA zone id such as "
            "America/Los_Angeles or a fixed offset such as +05:30.",
        )


def _instant(ctx: _Context, path: str, value: object) -> None:
    if _is_int(value):
        return  # Jackson also reads epoch milliseconds into a DateTime
    if not isinstance(value, str):
        ctx.add(path, f"Must be {_INSTANT_HINT}, not {_describe(value)}.")
    elif _parse_instant(value) is None:
        ctx.add(path, f"Instant {_quote(value)} is not {_INSTANT_HINT}.")


def _positive_period(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, str):
        ctx.add(path, f"Must be {_PERIOD_HINT}, not {_describe(value)}.")
        return
    amounts = _parse_period(value)
    if amounts is None:
        ctx.add(path, f"Period {_quote(value)} is not {_PERIOD_HINT}.")
    elif not any(amounts):
        ctx.add(path, "Must be a period longer than zero.")


def _interval(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, str):
        ctx.add(
            path, f"Must be an ISO-8601 interval string ({_INTERVAL_HINT}), not {_describe(value)}."
        )
        return
    problem = _interval_problem(value)
    if problem:
        ctx.add(path, problem)


def _intervals(ctx: _Context, path: str, value: object) -> None:
    if isinstance(value, str):
        # Druid's legacy segment spec splits a single string on commas.
        for piece in value.split(","):
            _interval(ctx, path, piece)
    elif isinstance(value, list):
        _array_of(_interval, min_items=1)(ctx, path, value)
    elif isinstance(value, dict):
        _dispatch(ctx, path, value, "intervals spec", _SEGMENT_SPECS)
    else:
        ctx.add(
            path, f"Must be an ISO-8601 interval or a JSON array of them, not {_describe(value)}."
        )


def _duration_millis(ctx: _Context, path: str, value: object) -> None:
    # Jackson reads a numeric string into the Long, as the docs' own example relies on.
    number = int(value) if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value) else value
    millis = _as_int(number)
    if millis is None:
        ctx.add(path, f"Must be a whole number of milliseconds, not {_describe(value)}.")
    elif millis <= 0:
        ctx.add(path, "Must be a positive number of milliseconds.")


# --- Druid types, orderings, regular expressions ---------------------------------------------

_PRIMITIVE_TYPES = ("STRING", "LONG", "DOUBLE", "FLOAT")
_NUMERIC_TYPES = ("LONG", "DOUBLE", "FLOAT")
_SORTING_ORDERS = ("lexicographic", "alphanumeric", "numeric", "strlen", "version")


def _is_column_type(text: str) -> bool:
    stripped = text.strip()
    upper = stripped.upper()
    if upper in _PRIMITIVE_TYPES:
        return True
    if upper.startswith("COMPLEX<") and upper.endswith(">"):
        return len(stripped) > len("COMPLEX<>")
    if upper.startswith("ARRAY<") and upper.endswith(">"):
        return _is_column_type(stripped[len("ARRAY<") : -1])
    return False


def _column_type(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, str):
        ctx.add(path, f"Must be a type name such as STRING or LONG, not {_describe(value)}.")
    elif not _is_column_type(value):
        ctx.add(
            path,
            f"Unknown type {_quote(value)}; expected STRING, LONG, DOUBLE, FLOAT, "
            "ARRAY<...> or COMPLEX<...>.",
        )


def _match_problem(type_name: str, value: object) -> str | None:
    kind = type_name.strip().upper()
    if kind.startswith("ARRAY<"):
        return None if isinstance(value, list) else f"Must be a JSON array to match {kind}."
    if kind in _NUMERIC_TYPES:
        if _is_number(value) or (isinstance(value, str) and _parses_as_number(value)):
            return None
        return f"Must be a number to match {kind}, not {_describe(value)}."
    if kind == "STRING" and not _is_scalar(value):
        return f"Must be a string to match STRING, not {_describe(value)}."
    return None


def _typed_values(type_key: str, *value_keys: str) -> _Handler:
    def rule(ctx: _Context, path: str, obj: dict) -> None:
        type_name = obj.get(type_key)
        if not isinstance(type_name, str) or not _is_column_type(type_name):
            return
        for key in value_keys:
            value = obj.get(key)
            problem = None if value is None else _match_problem(type_name, value)
            if problem:
                ctx.add(_at(path, key), problem)

    return rule


def _sorting_order(ctx: _Context, path: str, value: object) -> None:
    order, where = value, path
    if isinstance(value, dict):
        order, where = value.get("type"), _at(path, "type")
        if order is None:
            ctx.add(
                where,
                f'Missing required field "type"; expected one of {", ".join(_SORTING_ORDERS)}.',
            )
            return
    if not isinstance(order, str):
        ctx.add(where, f'Must be a sorting order such as "numeric", not {_describe(order)}.')
    elif order.lower() not in _SORTING_ORDERS:
        ctx.add(
            where,
            f"Unknown sorting order {_quote(order)}; expected one of {', '.join(_SORTING_ORDERS)}.",
        )


def _direction(ctx: _Context, path: str, value: object) -> None:
    # Druid takes any unambiguous case-insensitive prefix, so "DESC" and "asc" work too.
    if isinstance(value, str) and value:
        matches = [name for name in ("ascending", "descending") if name.startswith(value.lower())]
        if len(matches) == 1:
            return
    ctx.add(path, f'Must be "ascending" or "descending", not {_describe(value)}.')


# Java escapes Python's re lacks, mapped to something that compiles the same way.
_JAVA_ESCAPES = {
    "z": r"\Z",
    "h": " ",
    "H": "a",
    "v": " ",
    "V": "a",
    "R": r"\n",
    "X": ".",
    "G": "",
    "e": r"\x1b",
}
_JAVA_INLINE_FLAGS = re.compile(r"\(\?[a-zA-Z]*(?:-[a-zA-Z]*)?\)")
_JAVA_PROPERTY = re.compile(r"\{[^}]*\}|[A-Za-z]")
_JAVA_BACKREFERENCE = re.compile(r"<(\w+)>")


def _java_escape(pattern: str, index: int) -> tuple[str, int]:
    kind = pattern[index + 1]
    if kind == "Q":
        end = pattern.find("\\E", index + 2)
        stop = len(pattern) if end < 0 else end
        return re.escape(pattern[index + 2 : stop]), stop if end < 0 else end + 2
    if kind in ("p", "P"):
        name = _JAVA_PROPERTY.match(pattern, index + 2)
        return "a", name.end() if name else index + 2
    reference = _JAVA_BACKREFERENCE.match(pattern, index + 2) if kind == "k" else None
    if reference:
        return f"(?P={reference.group(1)})", reference.end()
    return _JAVA_ESCAPES.get(kind, "\\" + kind), index + 2


def _java_regex(pattern: str) -> str:
    """Java regex syntax Python lacks, rewritten to something equivalent enough to compile."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern[index] == "\\" and index + 1 < len(pattern):
            piece, index = _java_escape(pattern, index)
        elif pattern.startswith("(?<", index) and pattern[index + 3 : index + 4] not in ("=", "!"):
            piece, index = "(?P<", index + 3
        elif flags := _JAVA_INLINE_FLAGS.match(pattern, index):
            # Java allows inline flags mid-pattern; Python only at the start. They never make a
            # pattern invalid, so they are dropped.
            piece, index = "", flags.end()
        else:
            piece, index = pattern[index], index + 1
        out.append(piece)
    return "".join(out)


def _regex(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, str):
        ctx.add(path, f"Must be a regular expression string, not {_describe(value)}.")
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. FutureWarning for Java's nested classes "[[a]]"
            re.compile(_java_regex(value))
    except (re.error, OverflowError, RecursionError, ValueError) as error:
        ctx.add(path, f"Pattern {_quote(value)} is not a valid regular expression: {error}.")


def _escape_character(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, str) or len(value) != 1:
        ctx.add(path, f"Must be null or a single character, not {_describe(value)}.")


# --- granularities, data sources, virtual columns ---------------------------------------------

_SIMPLE_GRANULARITIES = (
    "all",
    "none",
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
)

_GRANULARITIES: dict[str, _Handler] = {
    "all": _fields(),
    "none": _fields(),
    "duration": _fields({"duration": _duration_millis}, {"origin": _instant}),
    "period": _fields({"period": _positive_period}, {"timeZone": _time_zone, "origin": _instant}),
}


def _granularity(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, str):
        _dispatch(ctx, path, value, "granularity", _GRANULARITIES)
        return
    if value.lower() in _SIMPLE_GRANULARITIES:
        return
    message = (
        f"Unknown granularity {_quote(value)}; expected one of {', '.join(_SIMPLE_GRANULARITIES)}, "
        "or a duration or period granularity object."
    )
    if _parse_period(value) is not None:
        message += f' For a period, write {{"type": "period", "period": "{value}"}}.'
    ctx.add(path, message)


_SEGMENT_SPECS: dict[str, _Handler] = {
    "intervals": _fields({"intervals": _array_of(_interval, min_items=1)}),
}


def _datasource(ctx: _Context, path: str, value: object) -> None:
    if isinstance(value, str):
        _string(ctx, path, value)
    else:
        _dispatch(ctx, path, value, "data source", _DATASOURCES)


def _subquery(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, dict):
        ctx.add(path, f"Must be a JSON object (a query), not {_describe(value)}.")
        return
    query_type = value.get("queryType")
    if query_type not in QUERY_TYPES:
        # Other query types (scan, ...) may feed a query data source; their shape is not checked.
        _required(ctx, value, "queryType", _string, prefix=path)
        return
    for key, messages in validate_query(value, check_intervals=ctx.check_intervals).items():
        for message in messages:
            ctx.add(path if key == _WHOLE_QUERY else _at(path, key), message)


def _inline_rows(ctx: _Context, path: str, obj: dict) -> None:
    names, rows = obj.get("columnNames"), obj.get("rows")
    if not isinstance(names, list) or not isinstance(rows, list):
        return
    for index, row in enumerate(rows):
        if isinstance(row, list) and len(row) != len(names):
            ctx.add(
                _item(_at(path, "rows"), index), f"Must have {len(names)} values, one per column."
            )


_DATASOURCES: dict[str, _Handler] = {
    "table": _fields({"name": _string}),
    "lookup": _fields({"lookup": _string}),
    "union": _fields({"dataSources": _array_of(_datasource, min_items=1)}),
    "inline": _fields(
        {"columnNames": _array_of(_string, min_items=1), "rows": _array_of(_array_of(_anything))},
        {"columnTypes": _array_of(_column_type, allow_null=True)},
        rules=(_inline_rows, _same_length("columnNames", "columnTypes")),
    ),
    "query": _fields({"query": _subquery}),
    "join": _fields(
        {
            "left": _datasource,
            "right": _datasource,
            "rightPrefix": _string,
            "condition": _string,
            "joinType": _choice(("INNER", "LEFT", "RIGHT", "FULL"), ignore_case=True),
        }
    ),
    "unnest": _fields(
        {"base": _datasource, "virtualColumn": _virtual_column},
        {"unnestFilter": _filter},
    ),
    "filter": _fields({"base": _datasource}, {"filter": _filter}),
}


_VIRTUAL_COLUMNS: dict[str, _Handler] = {
    "expression": _fields({"name": _string, "expression": _string}, {"outputType": _column_type}),
    "nested-field": _fields(
        {"columnName": _string, "outputName": _string},
        {
            "path": _string,
            "pathParts": _array_of(_object),
            "expectedType": _column_type,
            "processFromRaw": _boolean,
            "useJqSyntax": _boolean,
        },
    ),
    "mv-filtered": _fields(
        {"name": _string, "delegate": _string, "values": _array_of(_text, allow_null=True)},
        {"isAllowList": _boolean},
    ),
}


def _virtual_columns(ctx: _Context, path: str, value: object) -> None:
    _array_of(_virtual_column)(ctx, path, value)
    if not isinstance(value, list):
        return
    seen: set[str] = set()
    for index, column in enumerate(value):
        if not isinstance(column, dict):
            continue
        key = "outputName" if column.get("type") == "nested-field" else "name"
        name = column.get(key)
        if not isinstance(name, str) or not name:
            continue
        where = _at(_item(path, index), key)
        if name == "__time":
            ctx.add(where, 'A virtual column cannot be named "__time".')
        elif name in seen:
            ctx.add(where, f"Duplicate virtual column name {_quote(name)}.")
        seen.add(name)


# --- extraction functions, search specs, dimension specs ---------------------------------------


_SEARCH_SPECS: dict[str, _Handler] = {
    "contains": _fields({"value": _text}, {"caseSensitive": _boolean}),
    "insensitive_contains": _fields({"value": _text}),
    "fragment": _fields({"values": _array_of(_text, min_items=1)}, {"caseSensitive": _boolean}),
    "regex": _fields({"pattern": _regex}),
    "all": _fields(),
}

_INLINE_LOOKUPS: dict[str, _Handler] = {
    "map": _fields({"map": _string_map}, {"isOneToOne": _boolean, "injective": _boolean}),
}

_LOOKUP_OPTIONS: dict[str, _Check] = {
    "retainMissingValue": _boolean,
    "replaceMissingValueWith": _text,
    "injective": _boolean,
    "optimize": _boolean,
}
_LOCALE: dict[str, _Check] = {"locale": _string}

_EXTRACTION_FNS: dict[str, _Handler] = {
    "regex": _fields(
        {"expr": _regex},
        {"index": _integer(0), "replaceMissingValue": _boolean, "replaceMissingValueWith": _text},
    ),
    "partial": _fields({"expr": _regex}),
    "searchQuery": _fields({"query": _search_spec}),
    "substring": _fields(optional={"index": _integer(0), "length": _integer(0)}),
    "strlen": _fields(),
    "timeFormat": _fields(
        optional={
            "format": _text,
            "timeZone": _time_zone,
            "locale": _string,
            "granularity": _granularity,
            "asMillis": _boolean,
        }
    ),
    "time": _fields({"timeFormat": _string, "resultFormat": _string}, {"joda": _boolean}),
    "javascript": _fields({"function": _string}, {"injective": _boolean}),
    "registeredLookup": _fields({"lookup": _string}, _LOOKUP_OPTIONS, rules=(_retain_or_replace,)),
    "lookup": _fields({"lookup": _inline_lookup}, _LOOKUP_OPTIONS, rules=(_retain_or_replace,)),
    "cascade": _fields({"extractionFns": _array_of(_extraction_fn, min_items=1)}),
    "stringFormat": _fields(
        {"format": _text},
        {"nullHandling": _choice(("nullString", "emptyString", "returnNull"))},
    ),
    "upper": _fields(optional=_LOCALE),
    "lower": _fields(optional=_LOCALE),
    "bucket": _fields(optional={"size": _positive_number, "offset": _number()}),
}


def _dimension(ctx: _Context, path: str, value: object) -> None:
    """A dimension given as a plain column name or as a dimension spec object."""
    if isinstance(value, str):
        _string(ctx, path, value)
    else:
        # An object without "type" is Druid's legacy form of the default spec.
        _dispatch(ctx, path, value, "dimension spec", _DIMENSION_SPECS, default="default")


_OUTPUT: dict[str, _Check] = {"outputName": _string, "outputType": _column_type}
_FILTERED_DIMENSION_TYPES = ("listFiltered", "regexFiltered", "prefixFiltered")

_DIMENSION_SPECS: dict[str, _Handler] = {
    "default": _fields({"dimension": _string}, _OUTPUT),
    "extraction": _fields({"dimension": _string, "extractionFn": _extraction_fn}, _OUTPUT),
    "listFiltered": _fields(
        {"delegate": _dimension, "values": _array_of(_text, allow_null=True)},
        {"isWhitelist": _boolean},
    ),
    "regexFiltered": _fields({"delegate": _dimension, "pattern": _regex}),
    "prefixFiltered": _fields({"delegate": _dimension, "prefix": _text}),
    "lookup": _fields(
        {"dimension": _string},
        {"outputName": _string, "name": _string, "lookup": _inline_lookup, **_LOOKUP_OPTIONS},
        rules=(_exactly_one("name", "lookup"), _retain_or_replace),
    ),
}


def _output_name(spec: object, path: str) -> tuple[str, str] | None:
    """The output name a dimension gets, with the path of the field that sets it."""
    if isinstance(spec, str):
        return (spec, path) if spec else None
    if not isinstance(spec, dict):
        return None
    if spec.get("type") in _FILTERED_DIMENSION_TYPES:
        return _output_name(spec.get("delegate"), _at(path, "delegate"))
    for key in ("outputName", "dimension"):
        name = spec.get(key)
        if isinstance(name, str) and name:
            return name, _at(path, key)
    return None


# --- filters --------------------------------------------------------------------------------


def _coordinates(ctx: _Context, path: str, value: object) -> None:
    _array_of(_number(), min_items=1)(ctx, path, value)


_SPATIAL_BOUNDS: dict[str, _Handler] = {
    "rectangular": _fields(
        {"minCoords": _coordinates, "maxCoords": _coordinates},
        {"limit": _integer(1)},
        rules=(_same_length("minCoords", "maxCoords"),),
    ),
    "radius": _fields(
        {"coords": _coordinates, "radius": _number(0)},
        {"limit": _integer(1), "radiusUnit": _string},
    ),
    "polygon": _fields(
        {"abscissa": _coordinates, "ordinate": _coordinates},
        {"limit": _integer(1)},
        rules=(_same_length("abscissa", "ordinate"),),
    ),
}


# Only the filters Druid documents as taking an extraction function read "extractionFn"; on the
# others it is an unknown key that Druid ignores, so it is not checked there either.
_EXTRACTABLE: dict[str, _Check] = {"extractionFn": _extraction_fn}
_LOGICAL = _fields({"fields": _array_of(_filter, min_items=1)})

_FILTERS: dict[str, _Handler] = {
    "selector": _fields({"dimension": _string}, {"value": _scalar, **_EXTRACTABLE}),
    "equals": _fields(
        {"column": _string, "matchValueType": _column_type, "matchValue": _anything},
        rules=(_typed_values("matchValueType", "matchValue"),),
    ),
    "null": _fields({"column": _string}),
    "in": _fields(
        {"dimension": _string, "values": _array_of(_scalar, allow_null=True)}, _EXTRACTABLE
    ),
    "bound": _fields(
        {"dimension": _string},
        {
            "lower": _scalar,
            "upper": _scalar,
            "lowerStrict": _boolean,
            "upperStrict": _boolean,
            "ordering": _sorting_order,
            "alphaNumeric": _boolean,
            **_EXTRACTABLE,
        },
        rules=(_at_least_one("lower", "upper"),),
    ),
    "range": _fields(
        {"column": _string, "matchValueType": _column_type},
        {"lower": _anything, "upper": _anything, "lowerOpen": _boolean, "upperOpen": _boolean},
        rules=(_at_least_one("lower", "upper"), _typed_values("matchValueType", "lower", "upper")),
    ),
    "like": _fields(
        {"dimension": _string, "pattern": _text}, {"escape": _escape_character, **_EXTRACTABLE}
    ),
    "regex": _fields({"dimension": _string, "pattern": _regex}, _EXTRACTABLE),
    "search": _fields({"dimension": _string, "query": _search_spec}, _EXTRACTABLE),
    "interval": _fields(
        {"dimension": _string, "intervals": _array_of(_interval, min_items=1)}, _EXTRACTABLE
    ),
    "columnComparison": _fields({"dimensions": _array_of(_dimension, min_items=2)}),
    "expression": _fields({"expression": _string}),
    "javascript": _fields({"dimension": _string, "function": _string}, _EXTRACTABLE),
    "spatial": _fields({"dimension": _string, "bound": _spatial_bound}),
    "true": _fields(),
    "false": _fields(),
    "and": _LOGICAL,
    "or": _LOGICAL,
    "not": _fields({"field": _filter}),
    "arrayContainsElement": _fields(
        {"column": _string, "elementMatchValueType": _column_type},
        {"elementMatchValue": _anything},
        rules=(_typed_values("elementMatchValueType", "elementMatchValue"),),
    ),
    "extraction": _fields(
        {"dimension": _string, "extractionFn": _extraction_fn}, {"value": _scalar}
    ),
}


# --- aggregators ----------------------------------------------------------------------------


def _aggregator(
    required: Mapping[str, _Check] | None = None,
    optional: Mapping[str, _Check] | None = None,
    rules: Iterable[_Handler] = (),
) -> _Handler:
    return _fields({"name": _string, **(required or {})}, optional, rules)


def _combine_needed(ctx: _Context, path: str, obj: dict) -> None:
    fields = obj.get("fields")
    if obj.get("combine") is None and isinstance(fields, list) and len(fields) != 1:
        ctx.add(
            _at(path, "combine"),
            'Missing required field "combine"; it may only be left out when "fields" names '
            "exactly one column.",
        )


def _groupings_are_dimensions(ctx: _Context, path: str, obj: dict) -> None:
    groupings = obj.get("groupings")
    if ctx.query_type != "groupBy" or not isinstance(groupings, list):
        return
    names = ctx.dimension_names
    for index, name in enumerate(groupings):
        if isinstance(name, str) and name and name not in names:
            ctx.add(
                _item(_at(path, "groupings"), index),
                f"Grouping {_quote(name)} is not an output name of this query's dimensions.",
            )


_FIELD: dict[str, _Check] = {"fieldName": _string}
_SHOULD_FINALIZE: dict[str, _Check] = {"shouldFinalize": _boolean}
_HLL_OPTIONS: dict[str, _Check] = {
    "lgK": _integer(4, 21),
    "tgtHllType": _choice(("HLL_4", "HLL_6", "HLL_8")),
    "round": _boolean,
    **_SHOULD_FINALIZE,
}
_HISTOGRAM_OPTIONS: dict[str, _Check] = {
    "resolution": _integer(1),
    "numBuckets": _integer(1),
    "lowerLimit": _number(),
    "upperLimit": _number(),
    "finalizeAsBase64Binary": _boolean,
}
_KLL = _aggregator(
    _FIELD, {"k": _integer(8, 65535), "maxStreamLength": _integer(1), **_SHOULD_FINALIZE}
)
_VARIANCE = _aggregator(_FIELD, {"estimator": _string, "inputType": _string})

_AGGREGATORS: dict[str, _Handler] = {
    "count": _aggregator(),
    **dict.fromkeys(
        (
            "longSum",
            "doubleSum",
            "floatSum",
            "longMin",
            "longMax",
            "doubleMin",
            "doubleMax",
            "floatMin",
            "floatMax",
        ),
        _aggregator(
            optional={"fieldName": _string, "expression": _string},
            rules=(_exactly_one("fieldName", "expression"),),
        ),
    ),
    "doubleMean": _aggregator(_FIELD),
    **dict.fromkeys(
        ("longFirst", "longLast", "doubleFirst", "doubleLast", "floatFirst", "floatLast"),
        _aggregator(_FIELD, {"timeColumn": _string}),
    ),
    **dict.fromkeys(
        ("stringFirst", "stringLast"),
        _aggregator(_FIELD, {"timeColumn": _string, "maxStringBytes": _integer(0)}),
    ),
    **dict.fromkeys(("longAny", "doubleAny", "floatAny"), _aggregator(_FIELD)),
    "stringAny": _aggregator(
        _FIELD, {"maxStringBytes": _integer(0), "aggregateMultipleValues": _boolean}
    ),
    "hyperUnique": _aggregator(_FIELD, {"isInputHyperUnique": _boolean, "round": _boolean}),
    "cardinality": _aggregator(
        {"fields": _array_of(_dimension, min_items=1)},
        {"byRow": _boolean, "round": _boolean},
    ),
    # The outer name is optional: Druid then names the result after the wrapped aggregator.
    "filtered": _fields({"filter": _filter, "aggregator": _aggregator_value}, {"name": _string}),
    "grouping": _aggregator(
        {"groupings": _array_of(_string, min_items=1)}, rules=(_groupings_are_dimensions,)
    ),
    "expression": _aggregator(
        {"fields": _array_of(_string), "fold": _string, "initialValue": _scalar},
        {
            "accumulatorIdentifier": _string,
            "combine": _string,
            "compare": _string,
            "finalize": _string,
            "initialCombineValue": _scalar,
            "isNullUnlessAggregated": _boolean,
            "shouldAggregateNullInputs": _boolean,
            "shouldCombineAggregateNullInputs": _boolean,
            "maxSizeBytes": _byte_size,
        },
        rules=(_combine_needed,),
    ),
    "javascript": _aggregator(
        {
            "fieldNames": _array_of(_string),
            "fnAggregate": _string,
            "fnCombine": _string,
            "fnReset": _string,
        }
    ),
    # Extensions: druid-datasketches, druid-histogram, druid-tdigestsketch, druid-stats.
    "thetaSketch": _aggregator(
        _FIELD,
        {
            "size": _power_of_two(16, 2**26),
            "isInputThetaSketch": _boolean,
            "errorBoundsStdDev": _integer(1, 3),
            "samplingProbability": _number(0, 1),
            **_SHOULD_FINALIZE,
        },
    ),
    "HLLSketchBuild": _aggregator(
        _FIELD, {**_HLL_OPTIONS, "stringEncoding": _choice(("utf16le", "utf8"))}
    ),
    "HLLSketchMerge": _aggregator(_FIELD, _HLL_OPTIONS),
    "quantilesDoublesSketch": _aggregator(
        _FIELD,
        {"k": _power_of_two(2, 32768), "maxStreamLength": _integer(1), **_SHOULD_FINALIZE},
    ),
    "KllDoublesSketch": _KLL,
    "KllFloatsSketch": _KLL,
    "arrayOfDoublesSketch": _aggregator(
        _FIELD,
        {
            "nominalEntries": _power_of_two(16, 2**26),
            "numberOfValues": _integer(1),
            "metricColumns": _array_of(_string),
        },
    ),
    **dict.fromkeys(
        ("approxHistogram", "approxHistogramFold"),
        _aggregator(_FIELD, _HISTOGRAM_OPTIONS, rules=(_increasing("lowerLimit", "upperLimit"),)),
    ),
    "fixedBucketsHistogram": _aggregator(
        {
            **_FIELD,
            "lowerLimit": _number(),
            "upperLimit": _number(),
            "outlierHandlingMode": _choice(("ignore", "overflow", "clip")),
        },
        {"numBuckets": _integer(1), "finalizeAsBase64Binary": _boolean},
        rules=(_increasing("lowerLimit", "upperLimit"),),
    ),
    "tDigestSketch": _aggregator(_FIELD, {"compression": _integer(1)}),
    "variance": _VARIANCE,
    "varianceFold": _VARIANCE,
}


def _aggregator_name(item: object, path: str) -> tuple[str, str] | None:
    """The name an aggregator's result gets, with the path of the field that sets it."""
    if not isinstance(item, dict):
        return None
    name = item.get("name")
    if isinstance(name, str) and name:
        return name, _at(path, "name")
    if item.get("type") == "filtered":
        return _aggregator_name(item.get("aggregator"), _at(path, "aggregator"))
    return None


# --- post-aggregators -----------------------------------------------------------------------


def _post_aggregator_value(ctx: _Context, path: str, value: object) -> None:
    """A post-aggregator nested in another; its name is optional and only used in messages."""
    name = value.get("name") if isinstance(value, dict) else None
    if name is not None:
        _string(ctx, _at(path, "name"), name)
    outer = ctx.reader
    if isinstance(name, str) and name:
        ctx.reader = name
    try:
        _dispatch(ctx, path, value, "post-aggregator", _POST_AGGREGATORS)
    finally:
        ctx.reader = outer


def _reference(ctx: _Context, path: str, value: object) -> None:
    """A field a post-aggregator reads: an aggregator or an earlier post-aggregator."""
    _string(ctx, path, value)
    if isinstance(value, str) and value and value not in ctx.references:
        reader = f"Post-aggregator {_quote(ctx.reader)}" if ctx.reader else "This post-aggregator"
        ctx.add(
            path,
            f"{reader} reads {_quote(value)}, which is not an aggregator or an earlier "
            "post-aggregator.",
        )


_ORDERING: dict[str, _Check] = {"ordering": _choice(("numericFirst",))}
_FIELD_ACCESS = _fields({"fieldName": _reference})
_SKETCH = _fields({"field": _post_aggregator_value})
_FRACTION = _number(0, 1)
_FRACTIONS = _array_of(_FRACTION, min_items=1)
_POINTS = _array_of(_number(), min_items=1)


def _sketch(
    required: Mapping[str, _Check] | None = None, optional: Mapping[str, _Check] | None = None
) -> _Handler:
    return _fields({"field": _post_aggregator_value, **(required or {})}, optional)


def _quantile_post_aggregators(prefix: str) -> dict[str, _Handler]:
    """The quantile, rank, CDF and histogram readers every datasketches quantiles sketch has."""
    return {
        f"{prefix}ToQuantile": _sketch({"fraction": _FRACTION}),
        f"{prefix}ToQuantiles": _sketch({"fractions": _FRACTIONS}),
        f"{prefix}ToHistogram": _sketch(optional={"splitPoints": _POINTS, "numBins": _integer(1)}),
        f"{prefix}ToRank": _sketch({"value": _number()}),
        f"{prefix}ToCDF": _sketch({"splitPoints": _POINTS}),
        f"{prefix}ToString": _SKETCH,
    }


_POST_AGGREGATORS: dict[str, _Handler] = {
    "arithmetic": _fields(
        {
            "fn": _choice(("+", "-", "*", "/", "quotient", "pow")),
            "fields": _array_of(_post_aggregator_value, min_items=2),
        },
        _ORDERING,
    ),
    "fieldAccess": _FIELD_ACCESS,
    "finalizingFieldAccess": _FIELD_ACCESS,
    "constant": _fields({"value": _number()}),
    "expression": _fields({"expression": _string}, {**_ORDERING, "outputType": _column_type}),
    **dict.fromkeys(
        ("doubleGreatest", "doubleLeast", "longGreatest", "longLeast"),
        _fields({"fields": _array_of(_post_aggregator_value, min_items=1)}),
    ),
    "javascript": _fields({"fieldNames": _array_of(_reference, min_items=1), "function": _string}),
    "hyperUniqueCardinality": _FIELD_ACCESS,
    # Extensions: druid-datasketches, druid-histogram, druid-tdigestsketch, druid-stats.
    "thetaSketchEstimate": _sketch(optional={"errorBoundsStdDev": _integer(1, 3)}),
    "thetaSketchSetOp": _fields(
        {
            "func": _choice(("UNION", "INTERSECT", "NOT")),
            "fields": _array_of(_post_aggregator_value, min_items=1),
        },
        {"size": _power_of_two(16, 2**26)},
    ),
    "thetaSketchToString": _SKETCH,
    "thetaSketchConstant": _fields({"value": _string}),
    "HLLSketchEstimate": _sketch(optional={"round": _boolean}),
    "HLLSketchEstimateWithBounds": _sketch(optional={"numStdDev": _integer(1, 3)}),
    "HLLSketchUnion": _fields(
        {"fields": _array_of(_post_aggregator_value, min_items=1)},
        {"lgK": _integer(4, 21), "tgtHllType": _choice(("HLL_4", "HLL_6", "HLL_8"))},
    ),
    "HLLSketchToString": _SKETCH,
    **_quantile_post_aggregators("quantilesDoublesSketch"),
    **_quantile_post_aggregators("KllDoublesSketch"),
    **_quantile_post_aggregators("KllFloatsSketch"),
    **dict.fromkeys(
        (
            "arrayOfDoublesSketchToEstimate",
            "arrayOfDoublesSketchToNumEntries",
            "arrayOfDoublesSketchToMeans",
            "arrayOfDoublesSketchToVariances",
            "arrayOfDoublesSketchToString",
        ),
        _SKETCH,
    ),
    "arrayOfDoublesSketchToEstimateAndBounds": _sketch(optional={"numStdDevs": _integer(1, 3)}),
    "arrayOfDoublesSketchToQuantilesSketch": _sketch(
        optional={"column": _integer(1), "k": _power_of_two(2, 32768)}
    ),
    "arrayOfDoublesSketchSetOp": _fields(
        {
            "operation": _choice(("UNION", "INTERSECT", "NOT")),
            "fields": _array_of(_post_aggregator_value, min_items=1),
        },
        {"nominalEntries": _power_of_two(16, 2**26), "numberOfValues": _integer(1)},
    ),
    "arrayOfDoublesSketchTTest": _fields(
        {"fields": _array_of(_post_aggregator_value, min_items=2)}
    ),
    "buckets": _fields(
        {"fieldName": _reference, "bucketSize": _positive_number}, {"offset": _number()}
    ),
    "equalBuckets": _fields({"fieldName": _reference, "numBuckets": _integer(2)}),
    "customBuckets": _fields({"fieldName": _reference, "breaks": _POINTS}),
    "min": _FIELD_ACCESS,
    "max": _FIELD_ACCESS,
    "quantile": _fields({"fieldName": _reference, "probability": _FRACTION}),
    "quantiles": _fields({"fieldName": _reference, "probabilities": _FRACTIONS}),
    "quantilesFromTDigestSketch": _sketch({"fractions": _FRACTIONS}),
    "quantileFromTDigestSketch": _sketch({"fraction": _FRACTION}),
    "stddev": _fields({"fieldName": _reference}, {"estimator": _string}),
}


# --- having, limitSpec, topN metric ---------------------------------------------------------


def _output_reference(ctx: _Context, path: str, value: object) -> None:
    _string(ctx, path, value)
    if isinstance(value, str) and value and value not in ctx.outputs:
        ctx.add(
            path,
            f"Column {_quote(value)} is not a dimension, aggregator or post-aggregator "
            "of this query.",
        )


def _numeric_value(ctx: _Context, path: str, value: object) -> None:
    # Jackson reads a numeric string into the Number Druid expects.
    if not (_is_number(value) or (isinstance(value, str) and _parses_as_number(value))):
        ctx.add(path, f"Must be a number, not {_describe(value)}.")


_COMPARISON = _fields({"aggregation": _output_reference, "value": _numeric_value})
_HAVING_LIST = _fields({"havingSpecs": _array_of(_having)})

_HAVING: dict[str, _Handler] = {
    "greaterThan": _COMPARISON,
    "lessThan": _COMPARISON,
    "equalTo": _COMPARISON,
    "dimSelector": _fields({"dimension": _string}, {"value": _scalar, **_EXTRACTABLE}),
    "and": _HAVING_LIST,
    "or": _HAVING_LIST,
    "not": _fields({"havingSpec": _having}),
    "filter": _fields({"filter": _filter}, {"finalize": _boolean}),
    "always": _fields(),
    "never": _fields(),
}


def _order_by(ctx: _Context, path: str, value: object) -> None:
    if isinstance(value, str):
        _output_reference(ctx, path, value)
        return
    if not isinstance(value, dict):
        ctx.add(path, f"Must be a column name or an order-by object, not {_describe(value)}.")
        return
    _ORDER_BY(ctx, path, value)


_ORDER_BY = _fields(
    {"dimension": _output_reference},
    {"direction": _direction, "dimensionOrder": _sorting_order},
)

_LIMIT_SPECS: dict[str, _Handler] = {
    "default": _fields(
        optional={
            "limit": _integer(1, _MAX_INT),
            "offset": _integer(0, _MAX_INT),
            "columns": _array_of(_order_by),
        }
    ),
    "noop": _fields(),
}


def _limit_spec(ctx: _Context, path: str, value: object) -> None:
    if isinstance(value, dict) and value.get("type") is None:
        # Druid silently reads a limitSpec without "type" as "noop", dropping limit and columns.
        ctx.add(
            _at(path, "type"),
            'Missing required field "type"; without "type": "default" Druid ignores the limitSpec.',
        )
        return
    _dispatch(ctx, path, value, "limit spec", _LIMIT_SPECS)


def _metric_name(ctx: _Context, path: str, value: object) -> None:
    _string(ctx, path, value)
    names = frozenset(ctx.aggregators) | frozenset(ctx.post_aggregators)
    if isinstance(value, str) and value and value not in names:
        ctx.add(
            path,
            f"topN metric {_quote(value)} is not an aggregator or post-aggregator of this query.",
        )


def _topn_metric(ctx: _Context, path: str, value: object) -> None:
    if isinstance(value, str):
        _metric_name(ctx, path, value)
    else:
        # An object without "type" is Druid's legacy form of the numeric spec.
        _dispatch(ctx, path, value, "topN metric spec", _TOPN_METRICS, default="numeric")


_PREVIOUS_STOP: dict[str, _Check] = {"previousStop": _scalar}

_TOPN_METRICS: dict[str, _Handler] = {
    "numeric": _fields({"metric": _metric_name}),
    "inverted": _fields({"metric": _topn_metric}),
    "dimension": _fields(optional={"ordering": _sorting_order, **_PREVIOUS_STOP}),
    "lexicographic": _fields(optional=_PREVIOUS_STOP),
    "alphaNumeric": _fields(optional=_PREVIOUS_STOP),
}


# --- context --------------------------------------------------------------------------------


def _context_integer(minimum: int | None = None) -> _Check:
    # Druid's context reader also takes integers written as strings.
    def check(ctx: _Context, path: str, value: object) -> None:
        number = int(value) if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value) else value
        _integer(minimum)(ctx, path, number)

    return check


def _vectorize(ctx: _Context, path: str, value: object) -> None:
    if isinstance(value, str) and value.lower() == "force":
        return
    _flag(ctx, path, value)


_CONTEXT_KEYS: dict[str, _Check] = {
    "timeout": _context_integer(0),
    "priority": _context_integer(),
    "lane": _string,
    "queryId": _string,
    "sqlQueryId": _string,
    "brokerService": _string,
    "timestampResultField": _string,
    "minTopNThreshold": _context_integer(1),
    "maxScatterGatherBytes": _context_integer(0),
    "maxQueuedBytes": _context_integer(0),
    "maxSubqueryRows": _context_integer(0),
    "vectorSize": _context_integer(1),
    "parallelMergeParallelism": _context_integer(1),
    "parallelMergeInitialYieldRows": _context_integer(1),
    "parallelMergeSmallBatchRows": _context_integer(1),
    "bufferGrouperInitialBuckets": _context_integer(0),
    "intermediateCombineDegree": _context_integer(1),
    "numParallelCombineThreads": _context_integer(1),
    "vectorize": _vectorize,
    "vectorizeVirtualColumns": _vectorize,
    **dict.fromkeys(
        (
            "useCache",
            "populateCache",
            "useResultLevelCache",
            "populateResultLevelCache",
            "bySegment",
            "finalize",
            "serializeDateTimeAsLong",
            "serializeDateTimeAsLongInner",
            "enableParallelMerge",
            "useFilterCNF",
            "secondaryPartitionPruning",
            "debug",
            "setProcessingThreadNames",
            "skipEmptyBuckets",
            "grandTotal",
            "resultAsArray",
            "sortByDimsFirst",
            "forceLimitPushDown",
            "applyLimitPushDownToSegment",
            "groupByIsSingleThreaded",
            "forceHashAggregation",
            "mergeThreadLocal",
            "groupByEnableMultiValueUnnesting",
            "enableJoinFilterPushDown",
            "enableJoinFilterRewrite",
            "enableJoinFilterRewriteValueColumnFilters",
            "enableRewriteJoinToFilter",
        ),
        _flag,
    ),
}


def _context(ctx: _Context, path: str, value: object) -> None:
    if not isinstance(value, dict):
        ctx.add(path, f"Must be a JSON object, not {_describe(value)}.")
        return
    for key, check in _CONTEXT_KEYS.items():
        if value.get(key) is not None:
            check(ctx, _at(path, key), value[key])


# --- the query ------------------------------------------------------------------------------


def _required(ctx: _Context, query: dict, key: str, check: _Check, *, prefix: str = "") -> None:
    value = query.get(key)
    if value is None:
        ctx.add(_at(prefix, key), f'Missing required field "{key}".')
    else:
        check(ctx, _at(prefix, key), value)


def _optional(ctx: _Context, query: dict, key: str, check: _Check) -> None:
    value = query.get(key)
    if value is not None:
        check(ctx, key, value)


def _query_type(ctx: _Context, query: dict) -> str:
    value = query.get("queryType")
    if value is None:
        ctx.add(
            "queryType",
            f'Missing required field "queryType"; expected one of {", ".join(QUERY_TYPES)}.',
        )
    elif value not in QUERY_TYPES:
        ctx.add("queryType", _unknown("query", value, QUERY_TYPES))
    return value if isinstance(value, str) and value in QUERY_TYPES else ""


def _collect_dimension(ctx: _Context, spec: object, path: str) -> None:
    named = _output_name(spec, path)
    if named is None:
        return
    name, where = named
    if name in ctx.dimension_names:
        ctx.add(where, f"Duplicate output name {_quote(name)}; every dimension needs its own.")
    ctx.dimensions.append(named)


def _topn_dimension(ctx: _Context, query: dict) -> None:
    _required(ctx, query, "dimension", _dimension)
    _collect_dimension(ctx, query.get("dimension"), "dimension")


def _groupby_dimensions(ctx: _Context, query: dict) -> None:
    _required(ctx, query, "dimensions", _array_of(_dimension))
    dimensions = query.get("dimensions")
    if isinstance(dimensions, list):
        for index, spec in enumerate(dimensions):
            _collect_dimension(ctx, spec, _item("dimensions", index))


def _aggregations(ctx: _Context, query: dict) -> None:
    value = query.get("aggregations")
    if value is None:
        return
    if not isinstance(value, list):
        ctx.add("aggregations", f"Must be a JSON array of aggregators, not {_describe(value)}.")
        return
    for index, item in enumerate(value):
        path = _item("aggregations", index)
        _aggregator_value(ctx, path, item)
        named = _aggregator_name(item, path)
        if named is None:
            continue
        name, where = named
        if name in ctx.aggregators:
            ctx.add(
                where, f"Duplicate aggregator name {_quote(name)}; every aggregator needs its own."
            )
        ctx.aggregators.append(name)


def _post_aggregation(ctx: _Context, path: str, item: object) -> str | None:
    """Checks one top-level post-aggregator and returns its name."""
    name = item.get("name") if isinstance(item, dict) else None
    if isinstance(item, dict):
        _required(ctx, item, "name", _string, prefix=path)
    ctx.reader = name if isinstance(name, str) and name else None
    earlier = frozenset(ctx.post_aggregators)
    # Druid lets groupBy and topN post-aggregators read dimension outputs as well.
    ctx.references = frozenset(ctx.aggregators) | ctx.dimension_names | earlier
    _dispatch(ctx, path, item, "post-aggregator", _POST_AGGREGATORS)
    ctx.reader = None
    if not isinstance(name, str) or not name:
        return None
    if name in ctx.aggregators:
        ctx.add(_at(path, "name"), f"Name {_quote(name)} is already used by an aggregator.")
    elif name in earlier:
        ctx.add(_at(path, "name"), f"Duplicate post-aggregator name {_quote(name)}.")
    return name


def _post_aggregations(ctx: _Context, query: dict) -> None:
    value = query.get("postAggregations")
    if value is None:
        return
    if not isinstance(value, list):
        ctx.add(
            "postAggregations", f"Must be a JSON array of post-aggregators, not {_describe(value)}."
        )
        return
    for index, item in enumerate(value):
        name = _post_aggregation(ctx, _item("postAggregations", index), item)
        if name is not None:
            ctx.post_aggregators.append(name)


def _timeseries_rest(ctx: _Context, query: dict) -> None:
    _optional(ctx, query, "descending", _flag)
    _optional(ctx, query, "limit", _integer(1, _MAX_INT))


def _topn_rest(ctx: _Context, query: dict) -> None:
    _required(ctx, query, "threshold", _integer(1, _MAX_INT))
    _required(ctx, query, "metric", _topn_metric)


def _subtotals(ctx: _Context, path: str, value: object) -> None:
    names = ctx.dimension_names

    def subtotal_name(ctx: _Context, where: str, name: object) -> None:
        _string(ctx, where, name)
        if isinstance(name, str) and name and name not in names:
            ctx.add(
                where, f"Dimension {_quote(name)} is not an output name of this query's dimensions."
            )

    _array_of(_array_of(subtotal_name))(ctx, path, value)


def _groupby_rest(ctx: _Context, query: dict) -> None:
    taken = frozenset(ctx.aggregators) | frozenset(ctx.post_aggregators)
    for name, where in ctx.dimensions:
        if name in taken:
            ctx.add(
                where,
                f"Output name {_quote(name)} is also used by an aggregator or post-aggregator; "
                "every output name must be unique.",
            )
    context = query.get("context")
    result_field = context.get("timestampResultField") if isinstance(context, dict) else None
    if isinstance(result_field, str) and result_field:
        ctx.dimensions.append((result_field, "context.timestampResultField"))
    _optional(ctx, query, "having", _having)
    _optional(ctx, query, "limitSpec", _limit_spec)
    _optional(ctx, query, "subtotalsSpec", _subtotals)


_QueryPart = Callable[[_Context, dict], None]

# Dimensions are read before aggregators, so that grouping aggregators and post-aggregators can
# refer to them; everything that refers to aggregators comes after.
_BEFORE_AGGREGATIONS: dict[str, _QueryPart] = {
    "topN": _topn_dimension,
    "groupBy": _groupby_dimensions,
}
_AFTER_AGGREGATIONS: dict[str, _QueryPart] = {
    "timeseries": _timeseries_rest,
    "topN": _topn_rest,
    "groupBy": _groupby_rest,
}


def _check_query(ctx: _Context, query: dict) -> None:
    ctx.query_type = _query_type(ctx, query)
    _required(ctx, query, "dataSource", _datasource)
    if ctx.check_intervals:
        _required(ctx, query, "intervals", _intervals)
    _required(ctx, query, "granularity", _granularity)
    _optional(ctx, query, "virtualColumns", _virtual_columns)
    _optional(ctx, query, "filter", _filter)
    if ctx.query_type in _BEFORE_AGGREGATIONS:
        _BEFORE_AGGREGATIONS[ctx.query_type](ctx, query)
    _aggregations(ctx, query)
    _post_aggregations(ctx, query)
    if ctx.query_type in _AFTER_AGGREGATIONS:
        _AFTER_AGGREGATIONS[ctx.query_type](ctx, query)
    _optional(ctx, query, "context", _context)


def validate_query(query: object, *, check_intervals: bool = True) -> dict[str, list[str]]:
    """Every problem in a native Druid query of type timeseries, topN or groupBy, keyed by the path
    of the field it is about (``"aggregations[1].fieldName"``, ``"filter.fields[0].dimension"``,
    ``"granularity"``, ``"threshold"``); an empty dict when the query is valid."""
    ctx = _Context(check_intervals=check_intervals)
    if not isinstance(query, dict):
        ctx.add(_WHOLE_QUERY, f"A Druid query must be a JSON object, not {_describe(query)}.")
        return ctx.errors
    try:
        _check_query(ctx, query)
    except RecursionError:
        ctx.add(_WHOLE_QUERY, "The query is nested too deeply to check.")
    return ctx.errors
