"""Dimension specs: which column a groupBy or topN groups on, its output name and type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localdruid.errors import InvalidInput, Unsupported
from localdruid.jsonspec import Spec
from localdruid.query.columns import Resolver

_OUTPUT_TYPES = {"STRING": "VARCHAR", "LONG": "BIGINT", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE"}


@dataclass(frozen=True)
class Dimension:
    """A grouping column: the SQL of its values, its output name, and Druid output type."""

    name: str
    sql: str
    type: str


def check_default_spec(spec: Spec) -> None:
    """Only `default` dimension specs are supported: Druid's other types answer 501, unknown
    types 400 as in Druid."""
    kind = spec.raw("type", "default")
    if kind != "default":
        if kind in ("extraction", "listFiltered", "regexFiltered", "prefixFiltered", "lookup"):
            raise Unsupported(f"Dimension spec type [{kind}] is not supported by localdruid")
        raise InvalidInput(f"Could not resolve type id '{kind}' as a subtype of dimension spec")


def parse_dimension(value: Any, resolve: Resolver, path: str) -> Dimension:
    if isinstance(value, str):
        col = resolve(value)
        return Dimension(value, col.as_text, "STRING")
    spec = Spec(value, path)
    check_default_spec(spec)
    column = spec.str("dimension")
    name = spec.str("outputName", None) or column
    out_type = str(spec.raw("outputType", "STRING")).upper()
    if out_type not in _OUTPUT_TYPES:
        raise InvalidInput(f"{spec.at('outputType')}: unknown output type [{out_type}]")
    col = resolve(column)
    if out_type == "STRING":
        return Dimension(name, col.as_text, out_type)
    if col.type == out_type:
        return Dimension(name, col.sql, out_type)
    if col.numeric:
        if out_type == "LONG":
            return Dimension(name, f"CAST(trunc({col.sql}) AS BIGINT)", out_type)
        return Dimension(name, f"CAST({col.sql} AS {_OUTPUT_TYPES[out_type]})", out_type)
    if out_type == "LONG":
        return Dimension(name, f"CAST(trunc(TRY_CAST({col.sql} AS DOUBLE)) AS BIGINT)", out_type)
    return Dimension(name, f"TRY_CAST({col.sql} AS {_OUTPUT_TYPES[out_type]})", out_type)
