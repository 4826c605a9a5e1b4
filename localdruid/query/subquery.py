"""The query datasource: an inner query's result rows become the table its outer query reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from localdruid import timeutil
from localdruid.errors import InvalidInput, ResourceLimitExceeded, Unsupported
from localdruid.jsonspec import Spec
from localdruid.query.base import (
    INLINE_QUERY_TYPES,
    InlineDatasource,
    aggregate_plan,
    eternal_table,
    parse_granularity,
)
from localdruid.query.dimensions import parse_dimension
from localdruid.storage import Column, Datasource

# Druid's broker default for druid.server.http.maxSubqueryRows.
DEFAULT_MAX_SUBQUERY_ROWS = 100_000
# Inner query types whose results localdruid turns into rows as Druid's toolchests do.
INNER_QUERY_TYPES = ("groupBy", "timeseries", "topN")
_VALUE_TYPES = ("STRING", "LONG", "DOUBLE", "FLOAT")


@dataclass
class RowBudget:
    """maxSubqueryRows of one query: every inlined subquery's rows count against it."""

    limit: int | None
    used: int = 0

    @staticmethod
    def of(spec: Spec) -> RowBudget:
        context = spec.raw("context", {})
        context = context if isinstance(context, dict) else {}
        size = context.get("maxSubqueryBytes")
        if size is not None and str(size).lower() != "disabled":
            # Druid then limits the subqueries' bytes in memory, which localdruid cannot mirror.
            return RowBudget(None)
        value = context.get("maxSubqueryRows", DEFAULT_MAX_SUBQUERY_ROWS)
        try:
            limit = int(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"context.maxSubqueryRows must be a number, got [{value}]") from None
        return RowBudget(None if limit < 0 else limit)

    def spend(self, rows: int) -> None:
        if self.limit is None:
            return
        if self.used >= self.limit or self.used + rows > self.limit:
            raise ResourceLimitExceeded(
                f"Cannot issue the query, subqueries generated results beyond maximum"
                f"[{self.limit}] rows. Try setting the 'maxSubqueryBytes' in the query context to "
                "'auto' for enabling byte based limit, which chooses an optimal limit based on "
                "memory size and result's heap usage or manually configure the values of either "
                "'maxSubqueryBytes' or 'maxSubqueryRows' in the query context. Manually alter the "
                "value carefully as it can cause the broker to go out of memory."
            )
        self.used += rows


@dataclass(frozen=True)
class SubqueryDatasource(InlineDatasource):
    """An inner query's results, read as Druid reads them: one row-based segment over all time."""


def inner_query(spec: Spec, query_type: str) -> Spec | None:
    """The inner query of a query datasource (None for any other datasource); outer query types
    whose answer over inlined rows localdruid does not know answer 501 before it runs."""
    value = spec.data.get("dataSource")
    if not (isinstance(value, dict) and value.get("type") == "query"):
        return None
    if query_type not in INLINE_QUERY_TYPES:
        raise Unsupported(f"{query_type} over a query dataSource is not supported by localdruid")
    source = Spec(value, spec.at("dataSource"))
    return Spec(source.require("query"), source.at("query"))


def results_datasource(
    *,
    outer_type: str,
    inner: Spec,
    inner_type: str,
    inner_ds: Datasource,
    results: list[dict[str, Any]],
    cursor: duckdb.DuckDBPyConnection,
    budget: RowBudget,
    depth: int,
) -> SubqueryDatasource:
    """The inner query's results as a temporary table. A groupBy over a groupBy is Druid's native
    nested groupBy (rows keep the inner's universal timestamp, no row limit); any other pairing
    is inlined by the broker (result arrays, maxSubqueryRows, a groupBy over all time without
    __time reads as 1970)."""
    if inner_type not in INNER_QUERY_TYPES:
        raise Unsupported(f"a {inner_type} subquery is not supported by localdruid")
    native = outer_type == "groupBy" and inner_type == "groupBy"
    signature = _signature(inner, inner_type, inner_ds)
    rows = _rows(inner, inner_type, results, native=native)
    if not native:
        budget.spend(len(rows))
    columns = {
        name: Column(name, f"c{i + 1}", kind, "dimension")
        for i, (name, kind) in enumerate(signature)
    }
    table = f"__localdruid_subquery_{depth}"
    values = [
        [stamp, 1, *(_value(row.get(c.name), c.type) for c in columns.values())]
        for stamp, row in rows
    ]
    eternity = eternal_table(cursor, table, columns, values)
    return SubqueryDatasource(name="query", table=table, columns=columns, segments=(eternity,))


def _signature(inner: Spec, inner_type: str, inner_ds: Datasource) -> list[tuple[str, str]]:
    """(name, type) of each result column but __time, as the inner query's toolchest reports
    them: dimensions (with their outputType), aggregators, post-aggregators."""
    plan = aggregate_plan(inner, inner_ds)
    if inner_type == "groupBy":
        dims = [
            parse_dimension(d, plan.resolve, f"dimensions[{i}]")
            for i, d in enumerate(inner.list("dimensions", []))
        ]
    elif inner_type == "topN":
        dims = [parse_dimension(inner.require("dimension"), plan.resolve, "dimension")]
    else:
        dims = []
    signature = [(d.name, d.type) for d in dims]
    signature += [(name, kind) for _, name, kind in plan.output_columns()]
    for name, kind in signature:
        if name == "__time" or kind not in _VALUE_TYPES:
            raise Unsupported(
                f"subquery result column [{name}] of type [{kind}] is not supported by localdruid"
            )
    return signature


def _rows(
    inner: Spec, inner_type: str, results: list[dict[str, Any]], *, native: bool
) -> list[tuple[int, dict[str, Any]]]:
    """(__time, values by column name) of each result row, in result order."""
    if inner_type == "groupBy":
        # Inlined, a granularity-all groupBy has no __time column: its rows read as time 0.
        zero = parse_granularity(inner.data.get("granularity")).kind == "all" and not native
        return [(0 if zero else _instant(r["timestamp"]), r["event"]) for r in results]
    if inner_type == "timeseries":
        if any(r.get("timestamp") is None for r in results):
            raise Unsupported(
                "a timeseries subquery with grandTotal is not supported by localdruid"
            )
        return [(_instant(r["timestamp"]), r["result"]) for r in results]
    return [(_instant(r["timestamp"]), item) for r in results for item in r["result"]]


def _instant(text: str) -> int:
    return timeutil.parse_instant(text)


def _value(value: Any, kind: str) -> Any:
    """A result value back as its column type (non-finite doubles are written as strings)."""
    if value is None:
        return None
    if kind == "STRING":
        return str(value)
    if kind == "LONG":
        return int(value)
    return float(value)
