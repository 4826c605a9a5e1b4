"""Extraction functions: Druid's extractionFn JSON compiled to SQL over a column's values."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from localdruid import timeutil
from localdruid.errors import InvalidInput, Unsupported
from localdruid.jsonspec import Spec, text_of
from localdruid.query.columns import ColumnRef
from localdruid.sql import Sql, utf16_length

Handler = Callable[[Spec, ColumnRef], str]


def extract(value: Any, col: ColumnRef, path: str) -> ColumnRef:
    """The column's values through an extraction function: always a STRING column, as in Druid
    (SQL-compatible null handling: results are not turned from "" into null)."""
    spec = Spec(value, path)
    kind = spec.type()
    handler = _HANDLERS.get(kind)
    if handler is None:
        if kind in _UNSUPPORTED:
            raise Unsupported(f"Extraction function type [{kind}] is not supported by localdruid")
        raise InvalidInput(
            f"Could not resolve type id '{kind}' as a subtype of ExtractionFn at {path}: "
            f"known type ids = {sorted(_HANDLERS | dict.fromkeys(_UNSUPPORTED))}"
        )
    return ColumnRef(handler(spec, col), "STRING")


def literal(value: str) -> str:
    """A SQL string literal: extraction SQL becomes part of a dimension, which has no parameters."""
    return "'" + value.replace("'", "''") + "'"


def inline(sql: Sql) -> str:
    """A parameterized fragment with its (text or list-of-text) parameters written as literals."""
    parts = sql.text.split("?")
    if len(parts) != len(sql.params) + 1:
        raise Unsupported("this extraction function is not supported by localdruid")
    out = [parts[0]]
    for param, rest in zip(sql.params, parts[1:], strict=True):
        if isinstance(param, list):
            out.append("[" + ", ".join(literal(str(p)) for p in param) + "]")
        else:
            out.append(literal(str(param)))
        out.append(rest)
    return "".join(out)


def _check_regex(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise InvalidInput(f"{where}: invalid regular expression [{pattern}]: {exc}") from None


def _substring(spec: Spec, col: ColumnRef) -> str:
    # SubstringDimExtractionFn: an index at or past the end gives null; length clips at the end.
    index = spec.int("index", minimum=0)
    length = spec.int("length", None, minimum=0)
    v = col.as_text
    part = (
        f"substring({v}, {index + 1})"
        if length is None
        else f"substring({v}, {index + 1}, {length})"
    )
    return f"CASE WHEN length({v}) > {index} THEN {part} END"


def _strlen(spec: Spec, col: ColumnRef) -> str:
    return f"CAST({utf16_length(col.as_text)} AS VARCHAR)"


# Java's String.toUpperCase/toLowerCase(Locale) differ from the root locale's only for these
# languages (dotted and dotless i, and Lithuanian's dot above).
_SPECIAL_CASING = ("tr", "az", "lt")


def _case(function: str) -> Handler:
    def handler(spec: Spec, col: ColumnRef) -> str:
        locale = str(spec.str("locale", None) or "")
        if re.split(r"[-_]", locale.lower())[0] in _SPECIAL_CASING:
            raise Unsupported(
                f"{spec.at('locale')}: locale [{locale}] is not supported by localdruid"
            )
        return f"{function}({col.as_text})"

    return handler


def _regex(spec: Spec, col: ColumnRef) -> str:
    # RegexDimExtractionFn: the group of the first match; without a match the value itself,
    # or replaceMissingValueWith when replaceMissingValue is set.
    expr = spec.str("expr")
    _check_regex(expr, spec.at("expr"))
    index = spec.int("index", 1, minimum=0)
    if index > re.compile(expr).groups:
        raise InvalidInput(
            f"{spec.at('index')}: index [{index}] is more than the groups in [{expr}]"
        )
    v = col.as_text
    missing = v
    if spec.bool("replaceMissingValue"):
        replacement = spec.str("replaceMissingValueWith", None)
        missing = "CAST(NULL AS VARCHAR)" if replacement is None else literal(replacement)
    pattern = literal(expr)
    return (
        f"CASE WHEN regexp_matches({v}, {pattern}) THEN regexp_extract({v}, {pattern}, {index}) "
        f"ELSE {missing} END"
    )


def _partial(spec: Spec, col: ColumnRef) -> str:
    expr = spec.str("expr")
    _check_regex(expr, spec.at("expr"))
    return f"CASE WHEN regexp_matches({col.as_text}, {literal(expr)}) THEN {col.as_text} END"


def _lookup(spec: Spec, col: ColumnRef) -> str:
    lookup = spec.obj("lookup")
    kind = lookup.type()
    if kind != "map":
        raise Unsupported(f"Lookup type [{kind}] is not supported by localdruid")
    mapping = lookup.require("map")
    if not isinstance(mapping, dict):
        raise InvalidInput(f"{lookup.at('map')} must be a JSON object")
    # isOneToOne, injective and optimize are hints for Druid's planner; read only to check them.
    lookup.bool("isOneToOne")
    spec.bool("injective")
    spec.bool("optimize", True)
    retain = spec.bool("retainMissingValue")
    replacement = spec.str("replaceMissingValueWith", None)
    if replacement == "":
        replacement = None  # FunctionalExtraction turns "" into null
    if retain and replacement is not None:
        raise InvalidInput(
            "Cannot specify a [replaceMissingValueWith] and set [retainMissingValue] to true"
        )
    v = col.as_text
    if not mapping:
        found = "CAST(NULL AS VARCHAR)"
    else:
        keys = ", ".join(literal(str(k)) for k in mapping)
        values = ", ".join(
            "CAST(NULL AS VARCHAR)" if x is None else literal(text_of(x) or "")
            for x in mapping.values()
        )
        found = f"map_extract(MAP([{keys}], [{values}]), {v})[1]"
    if retain:
        return f"coalesce({found}, {v})"
    if replacement is None:
        return found
    return f"coalesce({found}, {literal(replacement)})"


def _bucket(spec: Spec, col: ColumnRef) -> str:
    size = spec.raw("size", 1)
    offset = spec.raw("offset", 0)
    for key, number in (("size", size), ("offset", offset)):
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise InvalidInput(f"{spec.at(key)} must be a number")
    if size == 0:
        raise InvalidInput(f"{spec.at('size')} must not be 0")
    size_sql, offset_sql = repr(float(size)), repr(float(offset))
    r = f"(floor(({col.as_double} - {offset_sql}) / {size_sql}) * {size_sql} + {offset_sql})"
    return (
        f"CASE WHEN {r} = trunc({r}) THEN CAST(CAST({r} AS BIGINT) AS VARCHAR) "
        f"ELSE CAST({r} AS VARCHAR) END"
    )


def _cascade(spec: Spec, col: ColumnRef) -> str:
    fns = spec.list("extractionFns")
    if not fns:
        raise InvalidInput(f"{spec.at('extractionFns')}: extractionFns should not be empty")
    for i, fn in enumerate(fns):
        col = extract(fn, col, f"{spec.at('extractionFns')}[{i}]")
    return col.sql


def _string_format(spec: Spec, col: ColumnRef) -> str:
    fmt = spec.str("format")
    if fmt == "":
        raise InvalidInput(f"{spec.at('format')}: format string should not be empty")
    handling = str(spec.raw("nullHandling", "nullString")).lower()
    if handling not in ("nullstring", "emptystring", "returnnull"):
        raise InvalidInput(f"{spec.at('nullHandling')}: unknown nullHandling [{handling}]")
    pieces = re.split(r"(%%|%s)", fmt)
    if any("%" in p for p in pieces if p not in ("%%", "%s")):
        raise Unsupported(
            f"{spec.at('format')}: only %s and %% are supported by localdruid in [{fmt}]"
        )
    null_text = {"nullstring": "'null'", "emptystring": "''", "returnnull": "NULL"}[handling]
    value = f"coalesce({col.as_text}, {null_text})"
    parts = []
    for piece in pieces:
        if piece == "%s":
            parts.append(value)
        elif piece:
            parts.append(literal("%" if piece == "%%" else piece))
    body = " || ".join(parts) if parts else "''"
    if handling == "returnnull":
        return f"CASE WHEN {col.as_text} IS NOT NULL THEN {body} END"
    return body


def _search_query(spec: Spec, col: ColumnRef) -> str:
    from localdruid.query.filters import search_predicate

    predicate = inline(search_predicate(col.as_text, spec.obj("query")))
    return f"CASE WHEN {predicate} THEN {col.as_text} END"


_ZONE_NAME = re.compile(r"UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+)+")


def _offset(local: str, utc: str, colon: bool, zulu: bool) -> str:
    seconds = f"(epoch({local}) - epoch({utc}))"
    sep = ":" if colon else ""
    text = (
        f"(CASE WHEN {seconds} < 0 THEN '-' ELSE '+' END || "
        f"lpad(CAST(CAST(abs({seconds}) // 3600 AS BIGINT) AS VARCHAR), 2, '0') || '{sep}' || "
        f"lpad(CAST(CAST(abs({seconds}) % 3600 // 60 AS BIGINT) AS VARCHAR), 2, '0'))"
    )
    if zulu:
        return f"(CASE WHEN {seconds} = 0 THEN 'Z' ELSE {text} END)"
    return text


# Full day (Sunday first) and month names of some locales, as Java's locale data (CLDR) gives
# them for Joda's EEEE and MMMM; stable across Java versions, unlike the abbreviated forms.
_FULL_NAMES = {
    "fr": (
        "dimanche lundi mardi mercredi jeudi vendredi samedi",
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    ),
    "de": (
        "Sonntag Montag Dienstag Mittwoch Donnerstag Freitag Samstag",
        "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    ),
    "es": (
        "domingo lunes martes miércoles jueves viernes sábado",
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    ),
    "it": (
        "domenica lunedì martedì mercoledì giovedì venerdì sabato",
        "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
        "dicembre",
    ),
    "nl": (
        "zondag maandag dinsdag woensdag donderdag vrijdag zaterdag",
        "januari februari maart april mei juni juli augustus september oktober november december",
    ),
    "pt": (
        "domingo segunda-feira terça-feira quarta-feira quinta-feira sexta-feira sábado",
        "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    ),
}


def _locale_names(spec: Spec, pieces: list[str]) -> tuple[list[str], list[str]] | None:
    """The day and month names of the timeFormat's locale; None for English. Other locales
    print full names only (abbreviations and AM/PM differ between Java versions: 501)."""
    locale = str(spec.str("locale", None) or "")
    language = re.split(r"[-_]", locale.lower())[0]
    if language in ("", "en"):
        return None
    names = _FULL_NAMES.get(language)
    if names is None or any(p in ("%a", "%b", "%p") for p in pieces):
        raise Unsupported(
            f"{spec.at('locale')}: locale [{locale}] is not supported by localdruid for this "
            "format (full day and month names are, in fr, de, es, it, nl and pt)"
        )
    return names[0].split(), names[1].split()


def _time_format(spec: Spec, col: ColumnRef) -> str:
    if col.type != "LONG":
        raise Unsupported(
            f"{spec.path}: timeFormat of a non-LONG column is not supported by localdruid"
        )
    millis = _truncated(spec, f"CAST({col.sql} AS BIGINT)")
    fmt = spec.str("format", None)
    if fmt is None and spec.bool("asMillis"):
        # Druid prints the (truncated) milliseconds; a zone or locale then needs a format.
        for key in ("timeZone", "locale"):
            if spec.data.get(key) is not None:
                raise InvalidInput(f"{spec.at(key)}: {key} requires a format")
        return f"CAST({millis} AS VARCHAR)"
    zone = spec.str("timeZone", "UTC")
    try:
        key = timeutil.parse_zone(zone).key
    except ValueError as exc:
        raise InvalidInput(f"{spec.at('timeZone')}: {exc}") from None
    if not _ZONE_NAME.fullmatch(key or ""):
        raise Unsupported(
            f"{spec.at('timeZone')}: time zone [{zone}] is not supported by localdruid"
        )
    if fmt is None:
        pieces = ["%Y-%m-%dT%H:%M:%S.%g", "\x00ISO"]
    else:
        pieces = timeutil.joda_strftime(fmt, spec.at("format"))
    names = _locale_names(spec, pieces)
    return f"CASE WHEN {col.sql} IS NOT NULL THEN {_print(pieces, millis, key, names)} END"


def _print(
    pieces: list[str],
    millis: str,
    zone: str,
    names: tuple[list[str], list[str]] | None = None,
) -> str:
    """Epoch milliseconds printed in a zone with joda_strftime's pieces, with a locale's full
    day and month `names` for %A and %B (strftime knows English only)."""
    utc = f"epoch_ms({millis})"
    local = f"timezone({literal(zone)}, timezone('UTC', {utc}))"
    parts = []
    text: list[str] = []
    for piece in pieces:
        if names is not None and piece in ("%A", "%B"):
            if text:
                parts.append(f"strftime({local}, {literal(''.join(text))})")
                text = []
            days, months = names
            if piece == "%A":
                parts.append(f"[{', '.join(map(literal, days))}][dayofweek({local}) + 1]")
            else:
                parts.append(f"[{', '.join(map(literal, months))}][month({local})]")
        elif piece.startswith("\x00"):
            if text:
                parts.append(f"strftime({local}, {literal(''.join(text))})")
                text = []
            token = piece[1:]
            parts.append(_offset(local, utc, colon=token != "Z", zulu=token == "ISO"))
        else:
            text.append(piece)
    if text:
        parts.append(f"strftime({local}, {literal(''.join(text))})")
    return " || ".join(parts)


def _time_parsing(spec: Spec, col: ColumnRef) -> str:
    # TimeDimExtractionFn: parse with timeFormat, print with resultFormat (both in UTC); a value
    # that does not parse is passed through unchanged. Only Joda patterns: the other branch is
    # ICU's lenient SimpleDateFormat, which localdruid does not reproduce.
    time_format = spec.str("timeFormat")
    result_format = spec.str("resultFormat")
    if not spec.bool("joda"):
        raise Unsupported(
            f"{spec.at('joda')}: time extraction function with SimpleDateFormat patterns "
            "(joda false) is not supported by localdruid"
        )
    pieces = timeutil.joda_strftime(result_format, spec.at("resultFormat"))
    try:
        parsed = timeutil.joda_parse_sql(col.as_text, time_format)
    except ValueError as exc:
        raise InvalidInput(f"{spec.at('timeFormat')}: {exc}") from None
    text = col.as_text
    return (
        f"CASE WHEN {text} IS NULL THEN NULL WHEN ({parsed}) IS NULL THEN {text} "
        f"ELSE {_print(pieces, parsed, 'UTC')} END"
    )


# Simple granularities of a timeFormat (UTC buckets): fixed lengths in ms, or calendar units.
_FIXED_MS = {
    "second": 1_000,
    "minute": 60_000,
    "five_minute": 300_000,
    "ten_minute": 600_000,
    "fifteen_minute": 900_000,
    "thirty_minute": 1_800_000,
    "hour": 3_600_000,
    "six_hour": 21_600_000,
    "eight_hour": 28_800_000,
    "day": 86_400_000,
}
_CALENDAR = ("week", "month", "quarter", "year")


def _truncated(spec: Spec, millis: str) -> str:
    """The milliseconds at the start of their granularity bucket (Granularity.bucketStart)."""
    granularity = spec.raw("granularity")
    if isinstance(granularity, dict) and set(granularity) == {"type"}:
        granularity = granularity["type"]
    name = granularity.lower() if isinstance(granularity, str) else granularity
    if name in (None, "none"):
        return millis
    if name in _FIXED_MS:
        return f"({millis} // {_FIXED_MS[name]} * {_FIXED_MS[name]})"
    if name in _CALENDAR:
        return f"epoch_ms(date_trunc('{name}', epoch_ms({millis})))"
    raise Unsupported(
        f"{spec.at('granularity')}: granularity [{granularity}] on timeFormat is not supported "
        "by localdruid"
    )


_HANDLERS: dict[str, Handler] = {
    "substring": _substring,
    "strlen": _strlen,
    "upper": _case("upper"),
    "lower": _case("lower"),
    "regex": _regex,
    "partial": _partial,
    "lookup": _lookup,
    "bucket": _bucket,
    "cascade": _cascade,
    "stringFormat": _string_format,
    "searchQuery": _search_query,
    "timeFormat": _time_format,
    "time": _time_parsing,
}

_UNSUPPORTED = {"javascript", "registeredLookup", "identity"}
