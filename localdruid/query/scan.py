"""The scan query: raw rows in batches, each of one segment, as Druid's broker streams them."""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby, islice
from typing import Any

from localdruid import expressions
from localdruid.errors import InvalidInput, Unsupported
from localdruid.jsonspec import Spec
from localdruid.query.aggregators import convert
from localdruid.query.base import (
    Execution,
    parse_intervals,
    query_resolver,
    segments_in,
    time_condition,
)
from localdruid.query.columns import ColumnRef, MultiValueRef, Resolver
from localdruid.query.filters import compile_filter
from localdruid.query.metadata import segment_id
from localdruid.sql import Sql, quote_ident
from localdruid.storage import NUMERIC_TYPES, Datasource, Segment

DEFAULT_BATCH_SIZE = 4096 * 5
INT_MAX, LONG_MAX = 2**31 - 1, 2**63 - 1
ORDERS = ("none", "ascending", "descending")
# Druid 0.17 removed the select query but still parses the name, to answer with this.
SELECT_REMOVED = (
    "The 'select' query has been removed, use 'scan' instead. See "
    "https://druid.apache.org/docs/latest/querying/select-query.html for more details."
)

Row = tuple[Any, ...]  # (__seg, __time, the fetched columns...)


@dataclass(frozen=True)
class SegmentColumns:
    """What one segment's rows answer: each output column's index in the fetched row and type.

    The slot is None for a column the segment lacks: Druid reads it as null and leaves its
    type out of the row signature.
    """

    segment_id: str
    names: list[str]
    slots: list[tuple[int, str] | None]

    def values(self, row: Row) -> list[Any]:
        return [None if s is None else convert(row[s[0]], s[1]) for s in self.slots]

    def signature(self) -> list[dict[str, str]]:
        return [
            {"name": name} if s is None else {"name": name, "type": s[1]}
            for name, s in zip(self.names, self.slots, strict=True)
        ]


def run_select(spec: Spec, ds: Datasource, ex: Execution) -> list[dict[str, Any]]:
    """Druid still knows the select query's name, only to refuse it."""
    raise InvalidInput(SELECT_REMOVED)


def run(spec: Spec, ds: Datasource, ex: Execution) -> list[dict[str, Any]]:
    """Druid 31 removed the legacy mode: it ignores `legacy` (even true), and so does this."""
    compacted = _compacted(spec)
    batch_size = _bounded(spec, "batchSize", INT_MAX) or DEFAULT_BATCH_SIZE
    if batch_size < 0:
        raise InvalidInput("batchSize must be greater than 0")
    offset = _bounded(spec, "offset", LONG_MAX)
    if offset < 0:
        raise InvalidInput("offset must be greater than or equal to 0")
    limit = _bounded(spec, "limit", LONG_MAX) or None  # Druid reads 0 as no limit
    if limit is not None and limit < 0:
        raise InvalidInput("limit must be greater than 0")
    if limit is not None and offset + limit > LONG_MAX:
        raise InvalidInput(
            f"Cannot apply offset[{offset}] and limit[{limit}]: they overflow a long"
        )
    requested = _requested_columns(spec)
    order = _order(spec, requested)
    intervals = parse_intervals(spec)
    resolve = query_resolver(spec, ds)
    where = compile_filter(spec.data.get("filter"), resolve)
    # Druid's broker merges per-segment results in segment id order.
    segments = sorted(segments_in(ds, intervals), key=lambda s: segment_id(ds, s))
    if not segments:
        return []
    virtual = expressions.virtual_names(spec.raw("virtualColumns"))
    fetched, layouts = _layouts(ds, segments, requested, virtual, resolve)
    rank = {seg.id: i for i, seg in enumerate(segments)}
    groups: dict[tuple[str, ...], list[Segment]] = {}
    for seg in segments:
        groups.setdefault(seg.dimensions, []).append(seg)
    cap = None if limit is None else offset + limit
    streams = [
        ex.fetch(_group_sql(ds, group, dims, fetched, order, intervals, where, cap, resolve))
        for dims, group in groups.items()
    ]
    rows = islice(_merge(streams, order, rank), cap)

    batches: list[dict[str, Any]] = []
    starts = [start for start, _ in intervals]
    for position, part in _batches(rows, order, rank, starts, batch_size):
        # The offset drops whole batches and trims the one it ends in, as Druid's broker does.
        kept = part[max(offset - position, 0) :]
        if not kept:
            continue
        layout = layouts[kept[0][0]]
        batches.append(
            {
                # Time-ordered rows come from many segments: Druid names none.
                "segmentId": layout.segment_id if order == "none" else None,
                "columns": layout.names,
                "events": [_event(layouts[r[0]], r, compacted) for r in kept],
                "rowSignature": layout.signature(),
            }
        )
    return batches


def _bounded(spec: Spec, key: str, largest: int) -> int:
    """An integer field that Druid reads as a Java int or long, so larger values are errors."""
    value = int(spec.int(key, 0))
    if not -largest - 1 <= value <= largest:
        raise InvalidInput(f"{key}: [{value}] is out of range")
    return value


def _compacted(spec: Spec) -> bool:
    value = spec.raw("resultFormat", "list")
    if value == "valueVector":
        raise Unsupported("Scan resultFormat [valueVector] is not supported")
    if value not in ("list", "compactedList"):
        raise InvalidInput(f"Scan query result format [{value}] is not supported.")
    return bool(value == "compactedList")


def _requested_columns(spec: Spec) -> list[str] | None:
    """The `columns` asked for; None (all of each segment's columns) when absent or empty."""
    columns = spec.list("columns", [])
    if not all(isinstance(c, str) for c in columns):
        raise InvalidInput("columns must be an array of strings")
    types = spec.raw("columnTypes")
    if types is not None and (not isinstance(types, list) or len(types) != len(columns)):
        count = len(types) if isinstance(types, list) else 0
        raise InvalidInput(
            f"Inconsistent number of columns[{len(columns)}] and columnTypes[{count}] specified!"
        )
    return columns or None


def _order(spec: Spec, requested: list[str] | None) -> str:
    """`order`, reconciled with `orderBy` as ScanQuery does; only __time can order the rows."""
    order = _order_value(spec.data.get("order"), "order")
    order_by = spec.data.get("orderBy")
    if order_by is None:
        if order != "none" and requested is not None and "__time" not in requested:
            raise InvalidInput(
                "The __time column must be selected if the results are time-ordered."
            )
        return order
    if not isinstance(order_by, list):
        raise InvalidInput("orderBy must be an array")
    columns = []
    for i, item in enumerate(order_by):
        entry = Spec(item, f"orderBy[{i}]")
        name = entry.str("columnName")
        direction = _order_value(entry.require("order"), f"orderBy[{i}].order")
        if direction == "none":
            raise InvalidInput(f"Order required for column [{name}]")
        if requested is not None and name not in requested:
            raise InvalidInput(f"Column [{name}] from 'orderBy' must also appear in 'columns'.")
        columns.append((name, direction))
    time_order = columns[0][1] if len(columns) == 1 and columns[0][0] == "__time" else "none"
    if order != "none" and order != time_order:
        raise InvalidInput("Cannot provide 'order' incompatible with 'orderBy'")
    if columns and time_order == "none":
        raise Unsupported(
            f"Scan orderBy {[name for name, _ in columns]} is not supported by localdruid; "
            "only ordering by __time alone is"
        )
    return time_order


def _order_value(value: Any, where: str) -> str:
    if value is None:
        return "none"
    # Jackson reads the enum upper-cased, so any letter case names it.
    if not isinstance(value, str) or value.lower() not in ORDERS:
        raise InvalidInput(f"{where}: unknown order [{value}]; use ascending, descending or none")
    return value.lower()


def _layouts(
    ds: Datasource,
    segments: list[Segment],
    requested: list[str] | None,
    virtual: list[str],
    resolve: Resolver,
) -> tuple[list[str], dict[int, SegmentColumns]]:
    """The columns to fetch (stored or virtual), and how each segment's rows map onto its
    output columns."""
    fetched: list[str] = []
    layouts: dict[int, SegmentColumns] = {}
    for seg in segments:
        present = {"__time", *seg.dimensions, *seg.metrics}
        # Without `columns`, Druid answers __time, the virtual columns, then the segment's
        # dimensions and metrics.
        names = requested or list(
            dict.fromkeys(["__time", *virtual, *seg.dimensions, *seg.metrics])
        )
        slots: list[tuple[int, str] | None] = []
        for name in names:
            column = ds.columns.get(name)
            if name in virtual:
                if name not in fetched:
                    fetched.append(name)
                slots.append((2 + fetched.index(name), resolve(name).type))
            elif name == "__time":
                slots.append((1, "LONG"))
            elif name not in present or column is None:
                slots.append(None)
            else:
                if column.type not in ("STRING", *NUMERIC_TYPES):
                    raise Unsupported(
                        f"Scanning column [{name}] of type [{column.type}] is not supported "
                        "by localdruid; leave it out of the scan's columns"
                    )
                if name not in fetched:
                    fetched.append(name)
                slots.append((2 + fetched.index(name), column.type))
        layouts[seg.id] = SegmentColumns(segment_id(ds, seg), names, slots)
    return fetched, layouts


def _group_sql(
    ds: Datasource,
    group: list[Segment],
    dims: tuple[str, ...],
    fetched: list[str],
    order: str,
    intervals: list[tuple[int, int]],
    where: Sql,
    cap: int | None,
    resolve: Resolver,
) -> Sql:
    """Rows of segments sharing one dimension order, in the order Druid's cursors read them:
    __time, then the dimensions (a segment is sorted by them), nulls first. Rows equal on all
    of those keep ingestion order in Druid, which is not stored: the fetched columns order
    them, so that equal output is all that can tie."""
    physical = [_fetched_sql(resolve(n)) for n in fetched]
    select = ", ".join(["__seg", quote_ident("__time"), *physical])
    keys = [quote_ident(ds.columns[d].physical) for d in dims if d in ds.columns]
    keys += [p for p in physical if p not in keys]
    time, seg_rank = quote_ident("__time"), "list_position(?::INTEGER[], __seg)"
    if order == "none":
        sort = [seg_rank, time] + [f"{k} ASC NULLS FIRST" for k in keys]
    elif order == "ascending":
        sort = [time, seg_rank] + [f"{k} ASC NULLS FIRST" for k in keys]
    else:
        sort = [f"{time} DESC", f"{seg_rank} DESC"] + [f"{k} DESC NULLS LAST" for k in keys]
    ids = ", ".join(str(int(s.id)) for s in group)
    sql = (
        Sql(f"SELECT {select} FROM {quote_ident(ds.table)} WHERE __seg IN ({ids}) AND ")
        + time_condition(intervals)
        + " AND "
        + where
        + Sql(f" ORDER BY {', '.join(sort)}", [[s.id for s in group]])
    )
    return sql if cap is None else sql + f" LIMIT {int(cap)}"


def _fetched_sql(column: ColumnRef) -> str:
    """A multi-value column is fetched as its list; `convert` shapes each row as Druid does."""
    return column.values if isinstance(column, MultiValueRef) else column.sql


def _merge(streams: list[list[Row]], order: str, rank: dict[int, int]) -> Iterable[Row]:
    """One stream out of each dimension-order group's sorted rows (usually there is one)."""
    if len(streams) == 1:
        return streams[0]
    if order == "none":
        return heapq.merge(*streams, key=lambda r: rank[r[0]])
    return heapq.merge(*streams, key=lambda r: (r[1], rank[r[0]]), reverse=order == "descending")


def _batches(
    rows: Iterable[Row], order: str, rank: dict[int, int], starts: list[int], batch_size: int
) -> Iterator[tuple[int, list[Row]]]:
    """Rows cut into Druid's batches, each with the stream position of its first row.

    Unordered, a batch holds at most batch_size rows of one segment within one query interval
    (Druid runs a cursor per segment and interval); time-ordered, it holds batch_size rows.
    """
    position = 0
    if order == "none":

        def cursor(row: Row) -> tuple[int, int]:
            return rank[row[0]], bisect.bisect_right(starts, row[1])

        for _, same in groupby(rows, cursor):
            run = list(same)
            for i in range(0, len(run), batch_size):
                yield position + i, run[i : i + batch_size]
            position += len(run)
        return
    part: list[Row] = []
    for row in rows:
        part.append(row)
        if len(part) == batch_size:
            yield position, part
            position += len(part)
            part = []
    if part:
        yield position, part


def _event(layout: SegmentColumns, row: Row, compacted: bool) -> Any:
    values = layout.values(row)
    return values if compacted else dict(zip(layout.names, values, strict=True))
