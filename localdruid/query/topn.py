"""The topN query: per granularity bucket, the top `threshold` values of one dimension."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from localdruid.errors import InvalidInput
from localdruid.jsonspec import Spec, text_of
from localdruid.query import orderings
from localdruid.query.aggregators import convert, refuse_finalized
from localdruid.query.base import (
    AggregatePlan,
    Execution,
    aggregate_plan,
    data_ranges,
    fill_buckets,
)
from localdruid.query.dimensions import grouping_sql, parse_dimension
from localdruid.query.timeseries import all_timestamp
from localdruid.sql import Sql
from localdruid.storage import Datasource

MAX_THRESHOLD = 2**31 - 1


def _metric_order(
    value: Any, plan: AggregatePlan, dim_sql: str, path: str
) -> tuple[list[str], Sql]:
    """ORDER BY keys for a topN metric spec, and a WHERE for `previousStop` (TRUE if none)."""
    aliases = plan.name_aliases()
    if isinstance(value, str):
        value = {"type": "numeric", "metric": value}
    spec = Spec(value, path)
    kind = spec.type()
    if kind == "numeric":
        name = spec.str("metric")
        if name not in aliases:
            raise InvalidInput(
                f"Must have an AggregatorFactory or PostAggregator for metric[{name}], "
                f"gave[{[a.name for a in plan.aggregates]}] and [{[p.name for p in plan.post]}]"
            )
        refuse_finalized(plan.aggregates, name, "topN metric ordering")
        return [f"{aliases[name]} DESC NULLS LAST", f"{dim_sql} ASC NULLS FIRST"], Sql("TRUE")
    if kind == "inverted":
        inner, stop = _metric_order(spec.require("metric"), plan, dim_sql, spec.at("metric"))
        # Druid inverts the metric comparison only; nulls stay last and ties stay ascending.
        key = inner[0]
        if key.endswith(" DESC NULLS LAST"):
            flipped = key.removesuffix(" DESC NULLS LAST") + " ASC NULLS LAST"
            return [flipped, f"{dim_sql} ASC NULLS FIRST"], stop
        flipped = key.removesuffix(" ASC NULLS FIRST") + " DESC NULLS LAST"
        return [flipped, f"{dim_sql} DESC NULLS LAST"], stop
    if kind in ("dimension", "lexicographic", "alphaNumeric"):
        ordering = spec.raw("ordering", "lexicographic") if kind == "dimension" else kind
        if isinstance(ordering, dict):
            ordering = Spec(ordering, spec.at("ordering")).type()
        ordering = orderings.normalize(ordering, spec.at("ordering"))
        previous = text_of(spec.data.get("previousStop"))
        where = Sql("TRUE") if previous is None else _after(ordering, dim_sql, previous)
        return [orderings.order_by(dim_sql, ordering), f"{dim_sql} ASC NULLS FIRST"], where
    raise InvalidInput(f"Could not resolve type id '{kind}' as a subtype of topN metric spec")


def _after(ordering: str, dim_sql: str, stop: str) -> Sql:
    return Sql(f"{orderings.comparable(dim_sql, ordering)} > ") + orderings.comparable_param(
        stop, ordering
    )


def run(spec: Spec, ds: Datasource, ex: Execution) -> list[dict[str, Any]]:
    plan = aggregate_plan(spec, ds)
    dim = parse_dimension(spec.require("dimension"), plan.resolve, "dimension")
    threshold = spec.int("threshold", minimum=0)
    if threshold > MAX_THRESHOLD:
        raise InvalidInput(f"threshold: [{threshold}] is larger than {MAX_THRESHOLD}")
    ranges = data_ranges(ds, plan.intervals, plan.granularity)
    if not ranges:
        return []
    keys, stop = _metric_order(spec.require("metric"), plan, "d0", "metric")
    order = ", ".join(keys)
    partition = "PARTITION BY __b " if plan.bucketed else ""
    grouped, exploded = grouping_sql([dim], empty_is_null=False)
    sql = (
        plan.with_post(plan.aggregate_sql(grouped, exploded)).wrap(
            "SELECT * FROM (", ") AS t WHERE "
        )
        + stop
        + f" QUALIFY row_number() OVER ({partition}ORDER BY {order}) <= {int(threshold)}"
        + f" ORDER BY {'__b, ' if plan.bucketed else ''}{order}"
    )
    rows = ex.fetch(sql)
    columns = plan.output_columns()
    first = 2 if plan.bucketed else 1

    def entry(row: tuple[Any, ...]) -> dict[str, Any]:
        item = {dim.name: convert(row[first - 1], dim.type)}
        item.update({name: convert(row[first + i], t) for i, (_, name, t) in enumerate(columns)})
        return item

    if not plan.bucketed:
        timestamp = all_timestamp(ranges)
        return [
            {"timestamp": plan.granularity.format(timestamp), "result": [entry(r) for r in rows]}
        ]
    # Every bucket of the segments' data answers, an empty one with an empty list.
    by_bucket = {
        bucket: [entry(r) for r in group] for bucket, group in groupby(rows, lambda r: r[0])
    }
    buckets = sorted(set(fill_buckets(plan.granularity, ranges)) | set(by_bucket))
    return [
        {"timestamp": plan.granularity.format(b), "result": by_bucket.get(b, [])} for b in buckets
    ]
