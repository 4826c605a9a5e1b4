"""Having specs: conditions on groupBy result rows, compiled over the row's column aliases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localdruid.errors import InvalidInput
from localdruid.jsonspec import Spec, text_of, to_double
from localdruid.query.columns import ColumnRef
from localdruid.query.filters import compile_filter
from localdruid.sql import FALSE, TRUE, Sql

Columns = dict[str, ColumnRef]


def compile_having(value: Any, columns: Columns, path: str = "having") -> Sql:
    if value is None:
        return TRUE
    spec = Spec(value, path)
    kind = spec.type()
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise InvalidInput(
            f"Could not resolve type id '{kind}' as a subtype of having spec at {path}: "
            f"known type ids = {sorted(_HANDLERS)}"
        )
    return handler(spec, columns).wrap("(", ")")


def _metric(op: str) -> Callable[[Spec, Columns], Sql]:
    def build(spec: Spec, columns: Columns) -> Sql:
        name = spec.str("aggregation")
        col = columns.get(name)
        if col is None:
            # Druid compares a missing metric as null, which matches no comparison.
            return FALSE
        bound = to_double(spec.require("value"), spec.at("value"))
        # Druid's having is two-valued: a null metric compares false.
        return Sql(f"COALESCE(CAST({col.sql} AS DOUBLE) {op} ?, FALSE)", [bound])

    return build


def _dim_selector(spec: Spec, columns: Columns) -> Sql:
    col = columns.get(spec.str("dimension"))
    value = text_of(spec.data.get("value"))
    if col is None:
        return TRUE if value in (None, "") else FALSE
    if value in (None, ""):
        # dimSelector keeps Druid's old rule: null and "" are the same here.
        return Sql(f"({col.sql} IS NULL OR {col.as_text} = '')")
    return Sql(f"COALESCE({col.as_text} = ?, FALSE)", [value])


def _children(spec: Spec, columns: Columns) -> list[Sql]:
    return [
        compile_having(h, columns, f"{spec.at('havingSpecs')}[{i}]")
        for i, h in enumerate(spec.list("havingSpecs"))
    ]


def _filter(spec: Spec, columns: Columns) -> Sql:
    def resolve(name: str) -> ColumnRef:
        return columns.get(name, ColumnRef("CAST(NULL AS VARCHAR)", "STRING"))

    return compile_filter(spec.require("filter"), resolve, spec.at("filter")).wrap(
        "COALESCE(", ", FALSE)"
    )


def _and(spec: Spec, columns: Columns) -> Sql:
    return Sql.all(_children(spec, columns))


def _or(spec: Spec, columns: Columns) -> Sql:
    return Sql.any(_children(spec, columns))


def _not(spec: Spec, columns: Columns) -> Sql:
    inner = compile_having(spec.require("havingSpec"), columns, spec.at("havingSpec"))
    return inner.wrap("NOT COALESCE(", ", FALSE)")


_HANDLERS: dict[str, Callable[[Spec, Columns], Sql]] = {
    "greaterThan": _metric(">"),
    "lessThan": _metric("<"),
    "equalTo": _metric("="),
    "dimSelector": _dim_selector,
    "filter": _filter,
    "and": _and,
    "or": _or,
    "not": _not,
    "always": lambda spec, columns: TRUE,
    "never": lambda spec, columns: FALSE,
}
