"""Dimension specs: which column (or extracted or filtered value) a groupBy or topN groups on, its
output name and type."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from localdruid.errors import InvalidInput, Unsupported
from localdruid.jsonspec import Spec, text_of
from localdruid.query.columns import ELEMENT, ColumnRef, MultiValueRef, Resolver
from localdruid.query.extraction import extract, literal

_OUTPUT_TYPES = {"STRING": "VARCHAR", "LONG": "BIGINT", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE"}


@dataclass(frozen=True)
class Explode:
    """A multi-value column's values as a grouping dimension sees them: each stored value
    mapped (extraction, output type) over ELEMENT, then kept or dropped by filtered specs."""

    column: MultiValueRef
    value: str = ELEMENT
    keep: str | None = None

    def values_sql(self, *, empty_is_null: bool) -> str:
        """The list a row contributes one group per value of. groupBy groups an empty row
        (also one its filtered spec emptied) under null; topN leaves it out (Druid's engines
        differ so, apache/druid#5897)."""
        values = self.column.row_values(empty_is_null=empty_is_null)
        if self.value != ELEMENT:
            values = f"list_transform({values}, lambda {ELEMENT}: {self.value})"
        if self.keep is None:
            return values
        values = f"list_filter({values}, lambda {ELEMENT}: {self.keep})"
        if empty_is_null:
            values = f"(CASE WHEN len({values}) > 0 THEN {values} ELSE [NULL] END)"
        return values


@dataclass(frozen=True)
class Dimension:
    """A grouping column: the SQL of its values, its output name, and Druid output type. A
    multi-value dimension has `explode` instead: the engine unnests it (the SQL is unused)."""

    name: str
    sql: str
    type: str
    explode: Explode | None = None


def check_default_spec(spec: Spec) -> None:
    """Where only `default` dimension specs are supported: Druid's other types answer 501,
    unknown types 400 as in Druid."""
    kind = spec.raw("type", "default")
    if kind != "default":
        if kind in _KNOWN_TYPES:
            raise Unsupported(f"Dimension spec type [{kind}] is not supported here by localdruid")
        raise InvalidInput(f"Could not resolve type id '{kind}' as a subtype of dimension spec")


def parse_dimension(value: Any, resolve: Resolver, path: str) -> Dimension:
    column = value if isinstance(value, str) else None
    if isinstance(value, dict) and value.get("type", "default") in (
        "default",
        "extraction",
        "lookup",
    ):
        column = value.get("dimension")
    multi = resolve(column) if isinstance(column, str) else None
    if not isinstance(multi, MultiValueRef):
        return _parse(value, resolve, path)
    element = ColumnRef(ELEMENT, "STRING")
    dim = _parse(value, lambda name: element if name == column else resolve(name), path)
    return replace(dim, sql=ELEMENT, explode=Explode(multi, dim.sql))


def _parse(value: Any, resolve: Resolver, path: str) -> Dimension:
    if isinstance(value, str):
        col = resolve(value)
        return Dimension(value, col.as_text, "STRING")
    spec = Spec(value, path)
    kind = spec.raw("type", "default")
    if kind in _FILTERS:
        return _filtered(spec, kind, resolve)
    if kind == "lookup":
        return _lookup(spec, resolve)
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
    v = ELEMENT if inner.explode else inner.sql
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
    if inner.explode is not None:
        # A multi-value row keeps the values that pass; Druid filters the row's value list.
        before = inner.explode.keep
        both = keep if before is None else f"({before}) AND ({keep})"
        return replace(inner, explode=replace(inner.explode, keep=both))
    return Dimension(inner.name, f"CASE WHEN {keep} THEN {v} END", "STRING")


def _lookup(spec: Spec, resolve: Resolver) -> Dimension:
    """A lookup dimension spec with an inline map is the lookup extraction function over its
    dimension; one naming a registered lookup needs lookups localdruid does not have."""
    if spec.data.get("name") is not None:
        raise Unsupported(f"{spec.at('name')}: registered lookups are not supported by localdruid")
    column = spec.str("dimension")
    options = ("lookup", "retainMissingValue", "replaceMissingValueWith", "optimize")
    fn = {"type": "lookup", **{k: v for k, v in spec.data.items() if k in options}}
    col = extract(fn, resolve(column), spec.path)
    return Dimension(spec.str("outputName", None) or column, col.sql, "STRING")


_FILTERS = ("listFiltered", "regexFiltered", "prefixFiltered")
_KNOWN_TYPES = ("extraction", *_FILTERS, "lookup")


def grouping_sql(
    dims: list[Dimension], *, empty_is_null: bool
) -> tuple[list[tuple[str, str]], list[str]]:
    """Each dimension's (alias d0..., SQL) for AggregatePlan.aggregate_sql, and the lists it
    explodes: a multi-value dimension reads the unnested column __mv0... of its list."""
    columns: list[tuple[str, str]] = []
    exploded: list[str] = []
    for i, dim in enumerate(dims):
        if dim.explode is None:
            columns.append((f"d{i}", dim.sql))
            continue
        columns.append((f"d{i}", f"__mv{len(exploded)}"))
        exploded.append(dim.explode.values_sql(empty_is_null=empty_is_null))
    return columns, exploded
