"""Dimension specs: which column (or extracted or filtered value) a groupBy or topN groups on, its
output name and type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from localdruid.errors import InvalidInput, Unsupported
from localdruid.jsonspec import Spec, text_of
from localdruid.query.columns import ColumnRef, Resolver
from localdruid.query.extraction import extract, literal

_OUTPUT_TYPES = {"STRING": "VARCHAR", "LONG": "BIGINT", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE"}


@dataclass(frozen=True)
class Dimension:
    """A grouping column: the SQL of its values, its output name, and Druid output type."""

    name: str
    sql: str
    type: str


def check_default_spec(spec: Spec) -> None:
    """Where only `default` dimension specs are supported: Druid's other types answer 501,
    unknown types 400 as in Druid."""
    kind = spec.raw("type", "default")
    if kind != "default":
        if kind in _KNOWN_TYPES:
            raise Unsupported(f"Dimension spec type [{kind}] is not supported here by localdruid")
        raise InvalidInput(f"Could not resolve type id '{kind}' as a subtype of dimension spec")


def parse_dimension(value: Any, resolve: Resolver, path: str) -> Dimension:
    if isinstance(value, str):
        col = resolve(value)
        return Dimension(value, col.as_text, "STRING")
    spec = Spec(value, path)
    kind = spec.raw("type", "default")
    if kind in _FILTERS:
        return _filtered(spec, kind, resolve)
    if kind not in ("default", "extraction"):
        check_default_spec(spec)
    column = spec.str("dimension")
    name = spec.str("outputName", None) or column
    out_type = str(spec.raw("outputType", "STRING")).upper()
    if out_type not in _OUTPUT_TYPES:
        raise InvalidInput(f"{spec.at('outputType')}: unknown output type [{out_type}]")
    col = resolve(column)
    if kind == "extraction":
        col = extract(spec.require("extractionFn"), col, spec.at("extractionFn"))
    elif spec.data.get("extractionFn") is not None:
        raise InvalidInput(
            f"{spec.at('extractionFn')}: a default dimension spec has no extractionFn"
        )
    return Dimension(name, _typed(col, out_type), out_type)


def _typed(col: ColumnRef, out_type: str) -> str:
    if out_type == "STRING":
        return col.as_text
    if col.type == out_type:
        return col.sql
    if col.numeric:
        if out_type == "LONG":
            return f"CAST(trunc({col.sql}) AS BIGINT)"
        return f"CAST({col.sql} AS {_OUTPUT_TYPES[out_type]})"
    if out_type == "LONG":
        return f"CAST(trunc(TRY_CAST({col.sql} AS DOUBLE)) AS BIGINT)"
    return f"TRY_CAST({col.sql} AS {_OUTPUT_TYPES[out_type]})"


def _filtered(spec: Spec, kind: str, resolve: Resolver) -> Dimension:
    """listFiltered, regexFiltered, prefixFiltered: on a single-value dimension, a value the
    filter rejects reads as null (the row has no value left)."""
    inner = parse_dimension(spec.require("delegate"), resolve, spec.at("delegate"))
    if inner.type != "STRING":
        raise Unsupported(
            f"{spec.at('delegate')}: a filtered dimension of type {inner.type} is not supported"
        )
    v = inner.sql
    if kind == "listFiltered":
        values = spec.list("values")
        texts = sorted({t for t in (text_of(x) for x in values) if t is not None})
        member = (
            f"list_contains([{', '.join(literal(t) for t in texts)}]::VARCHAR[], {v})"
            if texts
            else "FALSE"
        )
        keep = member if spec.bool("isWhitelist", True) else f"NOT {member}"
    elif kind == "regexFiltered":
        pattern = spec.str("pattern")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidInput(
                f"{spec.at('pattern')}: invalid regular expression [{pattern}]: {exc}"
            ) from None
        keep = f"regexp_full_match({v}, {literal(pattern)})"
    else:
        keep = f"starts_with({v}, {literal(spec.str('prefix'))})"
    return Dimension(inner.name, f"CASE WHEN {keep} THEN {v} END", "STRING")


_FILTERS = ("listFiltered", "regexFiltered", "prefixFiltered")
_KNOWN_TYPES = ("extraction", *_FILTERS, "lookup")
