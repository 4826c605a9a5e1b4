"""The groupBy query: rows per bucket and dimension values, with having and limitSpec."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from localdruid.errors import InvalidInput, Unsupported
from localdruid.jsonspec import Spec
from localdruid.query import orderings
from localdruid.query.aggregators import convert, grouping_id, refuse_finalized
from localdruid.query.base import SQL_TYPES, AggregatePlan, Execution, aggregate_plan, segments_in
from localdruid.query.columns import ColumnRef
from localdruid.query.dimensions import Dimension, grouping_sql, parse_dimension
from localdruid.query.having import compile_having
from localdruid.sql import Sql
from localdruid.storage import Datasource

_DIRECTIONS = {"ascending": "ASC", "asc": "ASC", "descending": "DESC", "desc": "DESC"}


def _limit_clause(
    spec: Spec, plan: AggregatePlan, dims: list[Dimension], columns: dict[str, ColumnRef]
) -> str:
    metrics = {name for _, name, _ in plan.output_columns()}
    limit_value = spec.data.get("limitSpec")
    natural = [f"d{i} ASC NULLS FIRST" for i in range(len(dims))]
    time = ["__b ASC"] if plan.bucketed else []
    if limit_value is None:
        order = time + natural
        return f" ORDER BY {', '.join(order)}" if order else ""
    limit_spec = Spec(limit_value, "limitSpec")
    kind = limit_spec.raw("type", "default")
    if kind != "default":
        raise InvalidInput(f"Could not resolve type id '{kind}' as a subtype of limitSpec")
    keys: list[str] = []
    for i, item in enumerate(limit_spec.list("columns", [])):
        where = f"limitSpec.columns[{i}]"
        if isinstance(item, str):
            item = {"dimension": item}
        column = Spec(item, where)
        name = column.str("dimension")
        col = columns.get(name)
        if col is None:
            raise InvalidInput(f"{where}: unknown column [{name}] in limitSpec")
        direction = _DIRECTIONS.get(str(column.raw("direction", "ascending")).lower())
        if direction is None:
            raise InvalidInput(f"{where}.direction: unknown direction [{column.raw('direction')}]")
        if name in metrics:
            refuse_finalized(plan.aggregates, name, "limitSpec ordering")
            # Aggregators and post-aggregators order by their numeric value, nulls first.
            nulls = "NULLS FIRST" if direction == "ASC" else "NULLS LAST"
            keys.append(f"{col.sql} {direction} {nulls}")
            continue
        ordering = column.raw("dimensionOrder", "lexicographic")
        if isinstance(ordering, dict):
            ordering = Spec(ordering, f"{where}.dimensionOrder").type()
        ordering = orderings.normalize(ordering, f"{where}.dimensionOrder")
        keys.append(orderings.order_by(col.as_text, ordering, descending=direction == "DESC"))
    order = time + keys + natural
    clause = f" ORDER BY {', '.join(order)}" if order else ""
    limit = limit_spec.int("limit", None, minimum=0)
    offset = limit_spec.int("offset", 0, minimum=0)
    if limit is not None:
        clause += f" LIMIT {int(limit)}"
    if offset:
        clause += f" OFFSET {int(offset)}"
    return clause


def run(spec: Spec, ds: Datasource, ex: Execution) -> list[dict[str, Any]]:
    plan = aggregate_plan(spec, ds)
    dims = [
        parse_dimension(d, plan.resolve, f"dimensions[{i}]")
        for i, d in enumerate(spec.list("dimensions", []))
    ]
    names = [d.name for d in dims] + [name for _, name, _ in plan.output_columns()]
    if len(set(names)) != len(names):
        raise InvalidInput("Duplicate output name in dimensions, aggregations or postAggregations")
    subtotals = _subtotals(spec, dims)
    summary = not dims and not plan.bucketed
    if not plan.intervals and not plan.bucketed:
        # Druid stamps granularity-all rows with the first interval's start; with none it fails.
        raise InvalidInput("groupBy with granularity all needs at least one interval")
    if not segments_in(ds, plan.intervals) and not summary:
        return []
    columns: dict[str, ColumnRef] = {d.name: ColumnRef(f"d{i}", d.type) for i, d in enumerate(dims)}
    columns.update({name: ColumnRef(alias, t) for alias, name, t in plan.output_columns()})
    if spec.data.get("having") is not None:
        for a in plan.aggregates:
            refuse_finalized(plan.aggregates, a.name, "having")
    # A having filter reads __time as the result row's timestamp, as in Druid.
    stamp = "__b" if plan.bucketed else f"CAST({int(plan.intervals[0][0])} AS BIGINT)"
    having = compile_having(
        spec.data.get("having"), {"__time": ColumnRef(stamp, "LONG"), **columns}
    )
    if subtotals is not None:
        sql = _subtotals_sql(plan, dims, subtotals)
    elif segments_in(ds, plan.intervals):
        grouped = plan.aggregate_sql(*grouping_sql(dims, empty_is_null=True))
    else:
        # No dimensions, granularity all: Druid's summary row of empty aggregates.
        grouped = plan.empty_aggregates_sql()
    if subtotals is None:
        sql = (
            plan.with_post(grouped).wrap("SELECT * FROM (", ") AS t WHERE ")
            + having
            + _limit_clause(spec, plan, dims, columns)
        )
    rows = ex.fetch(sql)
    if subtotals is not None:
        rows = [row[1:] for row in rows]  # the subtotal's number
    outputs = plan.output_columns()
    first = 1 if plan.bucketed else 0
    if not plan.aggregates and not dims and not plan.bucketed:
        first += 1  # the placeholder count column
    universal = plan.intervals[0][0]
    result = []
    for row in rows:
        event: dict[str, Any] = {}
        for i, d in enumerate(dims):
            event[d.name] = convert(row[first + i], d.type)
        base = first + len(dims)
        for i, (_, name, t) in enumerate(outputs):
            event[name] = convert(row[base + i], t)
        bucket = row[0] if plan.bucketed else universal
        result.append(
            {"version": "v1", "timestamp": plan.granularity.format(bucket), "event": event}
        )
    return result


def _subtotals(spec: Spec, dims: list[Dimension]) -> list[set[str]] | None:
    """The dimension sets of a subtotalsSpec: output names of the query's dimensions."""
    value = spec.raw("subtotalsSpec")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(s, list) for s in value):
        raise InvalidInput("subtotalsSpec must be a list of lists of dimension output names")
    names = {d.name for d in dims}
    out = []
    for i, subtotal in enumerate(value):
        for name in subtotal:
            if name not in names:
                raise InvalidInput(
                    f"subtotalsSpec[{i}]: [{name}] is not the output name of a dimension"
                )
        out.append(set(subtotal))
    if any(d.explode is not None for d in dims):
        # Druid merges the full grouping's rows, where a row counts once per value.
        raise Unsupported("groupBy subtotalsSpec over multi-value dimensions is not supported")
    if spec.data.get("having") is not None or spec.data.get("limitSpec") is not None:
        raise Unsupported("groupBy subtotalsSpec with having or limitSpec is not supported")
    return out


def _subtotals_sql(plan: AggregatePlan, dims: list[Dimension], subtotals: list[set[str]]) -> Sql:
    """Druid's subtotals: the query's result regrouped by each set of dimensions in turn (the
    others null), concatenated in the spec's order, each sorted by time and its dimensions.
    With single-value dimensions every row is in one group of the full grouping, so grouping
    the rows again gives what merging those groups gives."""
    parts = []
    for k, names in enumerate(subtotals):
        # A grouping aggregator's value depends on the subtotal; the others do not.
        aggregates = [grouping_id(a, names) if a.kind == "grouping" else a for a in plan.aggregates]
        subtotal = replace(plan, aggregates=aggregates)
        columns = [
            (f"d{i}", d.sql if d.name in names else f"CAST(NULL AS {SQL_TYPES[d.type]})")
            for i, d in enumerate(dims)
        ]
        grouped = subtotal.with_post(subtotal.aggregate_sql(columns))
        part = grouped.wrap(f"SELECT {k} AS __set, * FROM (", ") AS s")
        if not names and not plan.bucketed:
            # Grouped by nothing, SQL answers one row even over no rows; Druid answers none.
            part = part + (Sql(" WHERE EXISTS (SELECT 1") + plan.rows_sql() + ")")
        parts.append(part)
    order = ["__set"] + (["__b"] if plan.bucketed else [])
    order += [f"d{i} ASC NULLS FIRST" for i in range(len(dims))]
    return Sql.join(" UNION ALL ", parts).wrap(
        "SELECT * FROM (", f") AS u ORDER BY {', '.join(order)}"
    )
