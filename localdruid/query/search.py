"""The search query: dimension values matching a search spec, with their row counts."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from localdruid import expressions, timeutil
from localdruid.errors import InvalidInput, Unsupported
from localdruid.jsonspec import Spec
from localdruid.query import orderings
from localdruid.query.base import (
    Execution,
    InlineDatasource,
    parse_granularity,
    parse_intervals,
    query_resolver,
    segments_in,
    time_condition,
)
from localdruid.query.columns import ELEMENT, MultiValueRef, Resolver
from localdruid.query.dimensions import check_default_spec
from localdruid.query.filters import compile_filter, search_predicate
from localdruid.sql import Sql, quote_ident
from localdruid.storage import Datasource, Segment

DEFAULT_LIMIT = 1000
# druid.query.search.maxSearchLimit: each segment stops collecting values past it.
MAX_SEARCH_LIMIT = 1000
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

SortKey = Callable[[str | None], tuple[Any, ...]]
Hit = tuple[str, str | None, int]  # (dimension output name, value, count)


@dataclass(frozen=True)
class SearchDimension:
    column: str
    output: str


def _sort_key(ordering: str) -> SortKey:
    """Druid's StringComparator as a Python key: equal keys are values it finds equal, and
    null sorts first."""

    def key(value: str | None) -> tuple[Any, ...]:
        if value is None:
            return (0,)
        if ordering == "strlen":
            return (1, len(value.encode("utf-16-le")) // 2, value)
        if ordering == "alphanumeric":
            chunks = re.findall(r"[0-9]+|[^0-9]+", value)
            return (1, tuple(_alphanumeric_chunk(c) for c in chunks))
        if ordering == "numeric":
            # Values that are not numbers sort before numbers, as text among themselves.
            if _NUMBER.fullmatch(value):
                return (2, Decimal(value))
            return (1, value)
        return (1, value)

    return key


def _alphanumeric_chunk(chunk: str) -> tuple[Any, ...]:
    """As orderings.alphanumeric_key: digit runs compare as numbers and before text; more
    leading zeros sort later."""
    if chunk[0] in "0123456789":
        digits = chunk.lstrip("0")
        return (0, len(digits), digits, len(chunk))
    return (1, chunk, "", 0)


def _search_dimensions(spec: Spec) -> list[SearchDimension] | None:
    """The searchDimensions, or None for every dimension of each segment."""
    values = spec.list("searchDimensions", [])
    if not values:
        return None
    dims = []
    for i, value in enumerate(values):
        if isinstance(value, str):
            dims.append(SearchDimension(value, value))
            continue
        item = Spec(value, f"searchDimensions[{i}]")
        check_default_spec(item)
        column = item.str("dimension")
        dims.append(SearchDimension(column, item.str("outputName", None) or column))
    return dims


def _ordering(spec: Spec) -> str:
    sort = spec.opt_obj("sort")
    ordering = "lexicographic" if sort is None else sort.raw("type", "lexicographic")
    if isinstance(ordering, dict):
        ordering = Spec(ordering, "sort.type").type()
    return orderings.normalize(ordering, "sort.type")


def _uses_indexes(spec: Spec, resolve: Resolver) -> bool:
    """Whether Druid's default (useIndexes) strategy answers from bitmap indexes: only when the
    filter reads string columns alone; otherwise a cursor collects values in row order."""
    context = spec.raw("context", {})
    if isinstance(context, dict) and context.get("searchStrategy") not in (None, "useIndexes"):
        return False
    columns: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("dimension", "column"):
                if isinstance(node.get(key), str):
                    columns.append(node[key])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(spec.data.get("filter"))
    return all(resolve(c).type == "STRING" for c in columns)


def _present(seg: Segment, column: str) -> bool:
    return column == "__time" or column in seg.dimensions or column in seg.metrics


def run(spec: Spec, ds: Datasource, ex: Execution) -> list[dict[str, Any]]:
    resolve = query_resolver(spec, ds)
    intervals = parse_intervals(spec)
    gran = parse_granularity(spec.data.get("granularity"))
    where = compile_filter(spec.data.get("filter"), resolve)
    query = spec.opt_obj("query")
    ordering = _ordering(spec)
    limit = spec.int("limit", 0)
    if limit < 0:
        raise InvalidInput(f"limit must be at least 0, got {limit}")
    limit = limit or DEFAULT_LIMIT
    explicit = _search_dimensions(spec)
    virtual = set(expressions.virtual_names(spec.raw("virtualColumns")))
    if explicit and any(d.column in virtual for d in explicit):
        raise Unsupported(
            "Searching a virtual column is not supported by localdruid; "
            "virtual columns may be used in the search's filter"
        )
    segments = segments_in(ds, intervals)
    if not segments:
        return []
    per_segment = {
        seg.id: [
            d
            for d in (explicit or [SearchDimension(n, n) for n in seg.dimensions])
            if _present(seg, d.column)
        ]
        for seg in segments
    }
    dims = list(dict.fromkeys(d for searched in per_segment.values() for d in searched))
    counts = _counts(ds, ex, dims, query, resolve, where, intervals, segments)
    position = {dim: i for i, dim in enumerate(dims)}
    key = _sort_key(ordering)
    dictionary = _sort_key("lexicographic")
    indexed = _uses_indexes(spec, resolve)
    results: dict[int, list[Hit]] = {}
    for seg in segments:
        searched = per_segment[seg.id]
        rows = [
            (dim.output, value, count)
            for dim in searched
            for value, count in sorted(
                counts.get((seg.id, position[dim]), []), key=lambda vc: dictionary(vc[0])
            )
        ]
        numeric = any(resolve(d.column).type != "STRING" for d in searched)
        # Realtime and inline (row-based) segments have no bitmap indexes either.
        exact = indexed and not numeric and seg.stream is None
        exact = exact and not isinstance(ds, InlineDatasource)
        results[seg.id] = _segment_hits(rows, min(limit, MAX_SEARCH_LIMIT), key, exact=exact)
    return _merge(segments, results, gran, limit, key)


def _value_sql(resolve: Resolver, column: str) -> str:
    col = resolve(column)
    if col.type == "STRING":
        return col.sql
    if col.type == "LONG":
        return f"CAST({col.sql} AS VARCHAR)"  # String.valueOf(long)
    raise Unsupported(
        f"search over the {col.type} column [{column}] is not supported by localdruid"
    )


def _counts(
    ds: Datasource,
    ex: Execution,
    dims: list[SearchDimension],
    query: Spec | None,
    resolve: Resolver,
    where: Sql,
    intervals: list[tuple[int, int]],
    segments: list[Segment],
) -> dict[tuple[int, int], list[tuple[str | None, int]]]:
    """Rows per (segment, searched dimension, matching value) within the intervals and filter."""
    if not dims:
        return {}
    ids = ", ".join(str(int(s.id)) for s in segments)
    parts = []
    for i, dim in enumerate(dims):
        column = resolve(dim.column)
        multi = isinstance(column, MultiValueRef)
        value = "__mv" if multi else _value_sql(resolve, dim.column)
        accept = Sql("TRUE") if query is None else search_predicate(value, query)
        if query is not None and query.type() != "all":
            accept = accept.wrap(f"{value} IS NOT NULL AND (", ")")
        rows = (
            Sql(f"FROM {quote_ident(ds.table)} WHERE __seg IN ({ids}) AND ")
            + time_condition(intervals)
            + " AND "
            + where
        )
        if isinstance(column, MultiValueRef):
            rows = rows.wrap(
                f"FROM (SELECT *, unnest({_distinct_values(column)}) AS __mv ",
                ") AS __x WHERE TRUE",
            )
        parts.append(
            Sql(f"SELECT __seg, {i} AS k, {value} AS v, count(*) AS n ")
            + rows
            + " AND ("
            + accept
            + ") GROUP BY ALL"
        )
    out: dict[tuple[int, int], list[tuple[str | None, int]]] = {}
    for seg_id, k, value, count in ex.fetch(Sql.join(" UNION ALL ", parts)):
        out.setdefault((seg_id, k), []).append((value, count))
    return out


def _distinct_values(column: MultiValueRef) -> str:
    """A multi-value row's distinct values (null included): Druid counts the rows of each
    value's bitmap, where a row repeating a value counts once."""
    values = column.row_values(empty_is_null=True)
    nulls = f"len(list_filter({values}, lambda {ELEMENT}: {ELEMENT} IS NULL)) > 0"
    return (
        f"(list_distinct({values}) || "
        f"CASE WHEN {nulls} THEN [NULL]::VARCHAR[] ELSE []::VARCHAR[] END)"
    )


def _segment_hits(rows: list[Hit], limit: int, key: SortKey, *, exact: bool) -> list[Hit]:
    """One segment's answer, as Druid's index-only plan builds it: values in dimension order,
    each dimension's in dictionary order, collected until `limit` distinct hits (values the
    sort finds equal count as one), then sorted and cut to `limit`."""
    found: dict[tuple[Any, ...], list[Any]] = {}
    for output, value, count in rows:
        slot = (key(value), output)
        if slot in found:
            found[slot][2] += count
        else:
            found[slot] = [output, value, count]
        if len(found) >= limit:
            if not exact:
                # A cursor stops at the limit midway through the rows: partial counts.
                raise Unsupported(
                    "search queries whose limit cuts a segment's values on numeric columns, "
                    "with a filter on non-string columns, on realtime or inline data or with a "
                    "searchStrategy are not supported by localdruid"
                )
            break
    return [(o, v, c) for _, (o, v, c) in sorted(found.items(), key=lambda item: item[0])]


def _merge(
    segments: list[Segment],
    results: dict[int, list[Hit]],
    gran: timeutil.Granularity,
    limit: int,
    key: SortKey,
) -> list[dict[str, Any]]:
    """The broker's merge: segment results in the same bucket of their start combine (counts of
    equal hits add up; granularity all keeps `limit`); a lone segment keeps its own start."""
    buckets: dict[int, list[Segment]] = {}
    for seg in segments:
        bucket = timeutil.MIN_MS if gran.kind == "all" else gran.bucket_start(seg.start)
        buckets.setdefault(bucket, []).append(seg)
    out = []
    for bucket in sorted(buckets):
        group = buckets[bucket]
        if len(group) == 1:
            stamp = timeutil.format_instant(group[0].start)
            hits = results[group[0].id]
        else:
            if gran.kind == "all":
                stamp = timeutil.format_instant(min(s.start for s in group))
            else:
                stamp = gran.format(bucket)
            totals: dict[tuple[str, str | None], int] = {}
            for seg in group:
                for output, value, count in results[seg.id]:
                    totals[(output, value)] = totals.get((output, value), 0) + count
            hits = sorted(
                ((o, v, c) for (o, v), c in totals.items()), key=lambda h: (key(h[1]), h[0])
            )
            if gran.kind == "all":
                hits = hits[:limit]
        out.append(
            {
                "timestamp": stamp,
                "result": [{"dimension": o, "value": v, "count": c} for o, v, c in hits],
            }
        )
    return out
