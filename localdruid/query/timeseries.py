"""The timeseries query: a row per granularity bucket, empty buckets filled as Druid fills them."""

from __future__ import annotations

from typing import Any

from localdruid.jsonspec import Spec
from localdruid.query.aggregators import convert
from localdruid.query.base import (
    AggregatePlan,
    Execution,
    aggregate_plan,
    context_flag,
    data_ranges,
    fill_buckets,
)
from localdruid.sql import Sql
from localdruid.storage import Datasource
from localdruid.timeutil import Granularity


def all_timestamp(ranges: list[tuple[int, int]]) -> int:
    """A granularity-all result's timestamp: the earliest clipped start of any segment's cursor."""
    return min(low for low, _ in ranges)


def run(spec: Spec, ds: Datasource, ex: Execution) -> list[dict[str, Any]]:
    plan = aggregate_plan(spec, ds)
    descending = spec.bool("descending")
    skip_empty = context_flag(spec, "skipEmptyBuckets")
    limit = spec.int("limit", None, minimum=0)
    ranges = data_ranges(ds, plan.intervals, plan.granularity)
    columns = plan.output_columns()

    def result(values: tuple[Any, ...]) -> dict[str, Any]:
        return {name: convert(values[i], t) for i, (_, name, t) in enumerate(columns)}

    if not plan.bucketed:
        if ranges:
            rows = ex.fetch(plan.with_post(plan.aggregate_sql([])))
            timestamp = all_timestamp(ranges)
        elif not skip_empty:
            # No data at all: Druid still answers one row of empty aggregates, at the query start.
            rows = ex.fetch(plan.empty_row_sql())
            timestamp = plan.intervals[0][0] if plan.intervals else 0
        else:
            return []
        values = rows[0][0 if plan.aggregates else 1 :]
        out: list[dict[str, Any]] = [
            {"timestamp": plan.granularity.format(timestamp), "result": result(values)}
        ]
        if skip_empty and _is_empty(plan, values):
            out = []
    else:
        if not ranges:
            return []
        buckets = [] if skip_empty else fill_buckets(plan.granularity, ranges)
        sql = _filled(plan, plan.aggregate_sql([]), buckets)
        sql = sql + f" ORDER BY __b {'DESC' if descending else 'ASC'}"
        rows = ex.fetch(sql)
        out = [
            {"timestamp": plan.granularity.format(row[0]), "result": result(row[1:])}
            for row in rows
        ]
    if limit is not None:
        out = out[:limit]
    if context_flag(spec, "grandTotal") and out:
        out.append({"timestamp": None, "result": _grand_total(plan, ex, ranges)})
    return out


def _is_empty(plan: AggregatePlan, values: tuple[Any, ...]) -> bool:
    return all(
        (values[i] in (0, None) if a.empty != "NULL" else values[i] is None)
        for i, a in enumerate(plan.aggregates)
    )


def _filled(plan: AggregatePlan, grouped: Sql, buckets: list[int]) -> Sql:
    """Join the grouped rows onto every bucket to fill, so empty buckets get empty aggregates."""
    if not buckets:
        return plan.with_post(grouped).wrap("SELECT * FROM (", ") AS t")
    values = ", ".join(
        f"COALESCE(g.a{i}, {a.empty}) AS a{i}" for i, a in enumerate(plan.aggregates)
    )
    select = "SELECT b.__b" + (", " + values if values else "")
    joined = (
        Sql(
            f"{select} FROM (SELECT unnest(?::BIGINT[]) AS __b UNION SELECT __b FROM g) AS b ",
            [buckets],
        )
        + "LEFT JOIN g ON b.__b = g.__b"
    )
    return grouped.wrap("WITH g AS (", ") ") + plan.with_post(joined).wrap(
        "SELECT * FROM (", ") AS t"
    )


def _grand_total(plan: AggregatePlan, ex: Execution, ranges: list[tuple[int, int]]) -> dict:
    total = AggregatePlan(
        ds=plan.ds,
        resolve=plan.resolve,
        intervals=plan.intervals,
        granularity=Granularity.parse("all"),
        where=plan.where,
        aggregates=plan.aggregates,
        post=plan.post,
    )
    sql = total.with_post(total.aggregate_sql([])) if ranges else total.empty_row_sql()
    row = ex.fetch(sql)[0]
    values = row[0 if plan.aggregates else 1 :]
    return {name: convert(values[i], t) for i, (_, name, t) in enumerate(plan.output_columns())}
