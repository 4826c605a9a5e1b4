"""Druid SQL answers: native results read back as SQL rows, written in the requested resultFormat
with the optional header rows, as Druid's SQL API writes them."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from localdruid import timeutil
from localdruid.errors import InvalidInput
from localdruid.sql_planner import OutputColumn, SqlPlan

Row = list[Any]
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class SqlBody:
    """The response body and its content type."""

    text: str
    media_type: str


def sql_rows(plan: SqlPlan, results: list[dict[str, Any]]) -> list[Row]:
    """The SQL rows of a native result: each column read from its field, coerced to its type."""
    kind = plan.native["queryType"]
    records: list[dict[str, Any]]
    if kind == "scan":
        records = [
            dict(zip(batch["columns"], event, strict=True))
            for batch in results
            for event in batch["events"]
        ]
    elif kind == "timeseries":
        records = [{"__timestamp": r["timestamp"], **r["result"]} for r in results]
    else:
        records = [r["event"] for r in results]
    return [[_coerce(rec.get(c.field), c.sql_type) for c in plan.columns] for rec in records]


def _coerce(value: Any, sql_type: str) -> Any:
    """Druid's SqlResults.coerce: timestamps as ISO text, BIGINT as Java's longValue()."""
    if value is None:
        return None
    if sql_type == "TIMESTAMP":
        ms = timeutil.parse_instant(value) if isinstance(value, str) else int(value)
        return timeutil.format_instant(ms)
    if sql_type == "BIGINT":
        return _long_value(value)
    if sql_type in ("DOUBLE", "FLOAT"):
        return float(value)
    return value


def _long_value(value: Any) -> int:
    if isinstance(value, float):
        if math.isnan(value):
            return 0
        if math.isinf(value):
            return _LONG_MAX if value > 0 else _LONG_MIN
        return max(_LONG_MIN, min(_LONG_MAX, int(value)))
    return int(value)


# -- result formats -------------------------------------------------------------------------


@dataclass(frozen=True)
class Headers:
    """The request's header flags; the type rows need `header` as in Druid."""

    names: bool = False
    types: bool = False
    sql_types: bool = False


def sql_body(
    result_format: str, columns: list[OutputColumn], rows: list[Row], headers: Headers
) -> SqlBody:
    writer = _WRITERS.get(result_format.lower())
    if writer is None:
        raise InvalidInput(
            f"resultFormat [{result_format}] is not one of "
            "[object, array, objectLines, arrayLines, csv]"
        )
    return writer(columns, rows, headers)


def _header_rows(columns: list[OutputColumn], headers: Headers) -> list[Row]:
    if not headers.names:
        return []
    rows: list[Row] = [[c.name for c in columns]]
    if headers.types:
        rows.append([c.druid_type for c in columns])
    if headers.sql_types:
        rows.append([c.sql_type for c in columns])
    return rows


def _header_object(columns: list[OutputColumn], headers: Headers) -> list[dict[str, Any]]:
    if not headers.names:
        return []

    def describe(column: OutputColumn) -> dict[str, str] | None:
        info = {}
        if headers.types:
            info["type"] = column.druid_type
        if headers.sql_types:
            info["sqlType"] = column.sql_type
        return info or None

    return [{c.name: describe(c) for c in columns}]


def _objects(columns: list[OutputColumn], rows: list[Row]) -> list[dict[str, Any]]:
    return [{c.name: v for c, v in zip(columns, row, strict=True)} for row in rows]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _object(columns: list[OutputColumn], rows: list[Row], headers: Headers) -> SqlBody:
    body = [*_header_object(columns, headers), *_objects(columns, rows)]
    return SqlBody(_dumps(body), "application/json")


def _array(columns: list[OutputColumn], rows: list[Row], headers: Headers) -> SqlBody:
    return SqlBody(_dumps([*_header_rows(columns, headers), *rows]), "application/json")


def _lines(values: list[Any]) -> str:
    """One JSON value a line, then the empty line Druid ends a complete response with."""
    return "".join(_dumps(v) + "\n" for v in values) + "\n"


def _object_lines(columns: list[OutputColumn], rows: list[Row], headers: Headers) -> SqlBody:
    values = [*_header_object(columns, headers), *_objects(columns, rows)]
    return SqlBody(_lines(values), "text/plain")


def _array_lines(columns: list[OutputColumn], rows: list[Row], headers: Headers) -> SqlBody:
    return SqlBody(_lines([*_header_rows(columns, headers), *rows]), "text/plain")


def _csv(columns: list[OutputColumn], rows: list[Row], headers: Headers) -> SqlBody:
    lines = [[_csv_field(v) for v in row] for row in _header_rows(columns, headers)]
    types = [c.sql_type for c in columns]
    lines.extend([_csv_field(_text(v, t)) for v, t in zip(row, types, strict=True)] for row in rows)
    return SqlBody("".join(",".join(line) + "\n" for line in lines) + "\n", "text/csv")


def _csv_field(text: str) -> str:
    """opencsv's quoting as Druid uses it: only fields with a quote, comma or line break."""
    if any(ch in text for ch in '",\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _text(value: Any, sql_type: str) -> str:
    """A value as Druid's CSV writer prints it: Java's toString, empty for null."""
    if value is None:
        return ""
    if isinstance(value, float):
        return java_float_text(value) if sql_type == "FLOAT" else java_double_text(value)
    return str(value)


def java_double_text(value: float) -> str:
    """Java's Double.toString: the shortest digits that read back, in plain notation from 10^-3
    up to 10^7 and in computerized scientific notation (1.0E7) outside it."""
    return _java_text(value, repr(value))


def java_float_text(value: float) -> str:
    """Java's Float.toString: the same, with the shortest digits of the 32-bit float."""
    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        text = f"{single:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            return _java_text(value, text)
    return _java_text(value, repr(single))


def _java_text(value: float, shortest: str) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign, digits, exponent = Decimal(shortest).normalize().as_tuple()
    text = "".join(map(str, digits))
    assert isinstance(exponent, int)
    magnitude = len(text) - 1 + exponent  # the power of ten of the first digit
    prefix = "-" if sign else ""
    if -3 <= magnitude < 7:
        if magnitude >= 0:
            whole = text[: magnitude + 1].ljust(magnitude + 1, "0")
            fraction = text[magnitude + 1 :] or "0"
        else:
            whole, fraction = "0", "0" * (-magnitude - 1) + text
        return f"{prefix}{whole}.{fraction}"
    return f"{prefix}{text[0]}.{text[1:] or '0'}E{magnitude}"


_WRITERS: dict[str, Callable[[list[OutputColumn], list[Row], Headers], SqlBody]] = {
    "object": _object,
    "array": _array,
    "objectlines": _object_lines,
    "arraylines": _array_lines,
    "csv": _csv,
}
