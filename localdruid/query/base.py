"""What every native query shares: datasource, intervals, filter, aggregation SQL, execution."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import duckdb

from localdruid import expressions, timeutil
from localdruid.errors import (
    DruidError,
    InvalidInput,
    QueryCancelled,
    QueryTimeout,
    ResourceLimitExceeded,
    Unsupported,
)
from localdruid.jsonspec import Spec, text_of
from localdruid.query.aggregators import (
    Aggregate,
    PostAggregate,
    compile_aggregators,
    compile_post_aggregators,
)
from localdruid.query.columns import Resolver, datasource_resolver
from localdruid.query.filters import compile_filter
from localdruid.sql import Sql, quote_ident
from localdruid.storage import PHYSICAL_TYPES, Column, Datasource, Segment

DEFAULT_TIMEOUT_MS = 300_000
SQL_TYPES = {"LONG": "BIGINT", "DOUBLE": "DOUBLE", "FLOAT": "FLOAT", "STRING": "VARCHAR"}
TIMEOUT_MESSAGE = (
    "Query did not complete within configured timeout period. "
    "You can increase query timeout or tune the performance of query."
)
# The most buckets a timeseries or topN may fill; Druid would try to build them all.
MAX_BUCKETS = 2_000_000


# The temporary view a union query reads and the table an inline datasource fills; both live
# in the query's read transaction only.
UNION_VIEW = "__localdruid_union"
INLINE_TABLE = "__localdruid_inline"
# Query types whose answer over inline rows localdruid knows to be Druid's.
INLINE_QUERY_TYPES = ("timeseries", "topN", "groupBy", "search")


def _table_name(value: Any, path: str) -> str:
    if isinstance(value, str):
        return value
    source = Spec(value, path)
    kind = source.type()
    if kind == "table":
        return source.str("name")
    if kind in ("union", "query", "inline", "lookup", "join", "unnest", "globalTable", "frame"):
        raise Unsupported(f"dataSource type [{kind}] is not supported by localdruid at {path}")
    raise InvalidInput(f"Could not resolve type id '{kind}' as a subtype of dataSource")


def table_names(spec: Spec) -> list[str]:
    """The tables a query reads: one, or each member of a union datasource in order."""
    value = spec.require("dataSource")
    if isinstance(value, dict) and value.get("type") == "union":
        members = Spec(value, spec.at("dataSource")).list("dataSources", [])
        if not members:
            raise InvalidInput("'dataSources' must be non-null and non-empty for 'union'")
        return [
            _table_name(m, f"{spec.at('dataSource')}.dataSources[{i}]")
            for i, m in enumerate(members)
        ]
    return [_table_name(value, spec.at("dataSource"))]


@dataclass(frozen=True)
class UnionDatasource(Datasource):
    """Several tables read as one: their segments, renumbered, and the union of their columns."""

    owners: dict[int, str] = field(default_factory=dict)  # segment id -> member table

    def segment_datasource(self, seg: Segment) -> str:
        return self.owners.get(seg.id, self.name)


def resolve_datasource(
    spec: Spec, catalog: dict[str, Datasource], cursor: duckdb.DuckDBPyConnection
) -> Datasource:
    """The datasource a query reads. A name without segments answers as Druid does (mostly
    no rows) without touching a table; so does a union member that does not exist."""
    value = spec.require("dataSource")
    if isinstance(value, dict) and value.get("type") == "inline":
        return _inline(Spec(value, spec.at("dataSource")), spec.data.get("queryType"), cursor)
    names = table_names(spec)
    found = [catalog[n] for n in names if n in catalog and catalog[n].segments]
    if len(found) > 1:
        return _union(found, cursor)
    if found:
        return found[0]
    return catalog.get(names[0]) or Datasource(name=names[0], table="")


def _union(members: list[Datasource], cursor: duckdb.DuckDBPyConnection) -> UnionDatasource:
    """Druid runs a union query on each table and merges the results, which for every query
    type equals running it once over all their segments: so the tables become one view
    (UNION ALL, a column a table lacks read as null) with segment ids made distinct."""
    columns: dict[str, Column] = {}
    for member in members:
        for col in member.columns.values():
            known = columns.get(col.name)
            if known is None:
                columns[col.name] = replace(col, physical=f"u{len(columns) + 1}")
            elif known.type != col.type or known.multi_value != col.multi_value:
                raise Unsupported(
                    f"union datasource: column [{col.name}] is {_kind(known)} in one table and "
                    f"{_kind(col)} in another, which localdruid does not merge"
                )
    selects, segments, owners, offset = [], [], {}, 0
    for member in members:
        parts = ["__time", f"__seg + {offset} AS __seg"]
        for col in columns.values():
            own = member.columns.get(col.name)
            value = quote_ident(own.physical) if own else f"CAST(NULL AS {col.physical_type})"
            parts.append(f"{value} AS {quote_ident(col.physical)}")
        selects.append(f"SELECT {', '.join(parts)} FROM {quote_ident(member.table)}")
        for seg in member.segments:
            segments.append(replace(seg, id=seg.id + offset))
            owners[seg.id + offset] = member.name
        offset += max([member.next_id, *(s.id + 1 for s in member.segments)])
    cursor.execute(f"CREATE TEMP VIEW {quote_ident(UNION_VIEW)} AS " + " UNION ALL ".join(selects))
    return UnionDatasource(
        name=members[0].name,
        table=UNION_VIEW,
        columns=columns,
        segments=tuple(segments),
        next_id=offset,
        updated=max(m.updated for m in members),
        owners=owners,
    )


def _kind(column: Column) -> str:
    return f"multi-value {column.type}" if column.multi_value else column.type


@dataclass(frozen=True)
class InlineDatasource(Datasource):
    """Rows given in the query: one segment over all time, without bitmap indexes, as Druid's
    row-based segment for an inline datasource."""

    rowid_is_order: ClassVar[bool] = True


def eternal_table(
    cursor: duckdb.DuckDBPyConnection,
    table: str,
    columns: dict[str, Column],
    rows: list[list[Any]],
) -> Segment:
    """A temporary table of `rows` ([__time, __seg, each column's value in order]) and the one
    segment over all time it is read as: Druid reads inline rows and inlined subquery results so.
    The rows go in as one list per column (unnested back into rows, in order), far faster than
    a row at a time."""
    defs = "".join(
        f", {quote_ident(c.physical)} {PHYSICAL_TYPES[c.type]}" for c in columns.values()
    )
    cursor.execute(f"CREATE TEMP TABLE {quote_ident(table)} (__time BIGINT, __seg INTEGER{defs})")
    if rows:
        types = ["BIGINT", "INTEGER", *(PHYSICAL_TYPES[c.type] for c in columns.values())]
        lists = [list(column) for column in zip(*rows, strict=True)]
        select = ", ".join(f"unnest(?::{t}[])" for t in types)
        cursor.execute(f"INSERT INTO {quote_ident(table)} SELECT {select}", lists)
    return Segment(
        id=1,
        start=timeutil.MIN_MS,
        end=timeutil.MAX_MS,
        version="dummy_version",
        partition=0,
        min_time=timeutil.MIN_MS,
        max_time=timeutil.MAX_MS - 1,
        num_rows=len(rows),
        dimensions=tuple(columns),
        metrics=(),
    )


def _inline(source: Spec, query_type: Any, cursor: duckdb.DuckDBPyConnection) -> InlineDatasource:
    if query_type not in INLINE_QUERY_TYPES:
        raise Unsupported(f"{query_type} over an inline dataSource is not supported by localdruid")
    names = source.list("columnNames")
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise InvalidInput("dataSource.columnNames must be distinct strings")
    if source.data.get("columnTypes") is None:
        raise Unsupported("an inline dataSource without columnTypes is not supported by localdruid")
    types = [str(t).upper() for t in source.list("columnTypes")]
    if len(types) != len(names):
        raise InvalidInput("dataSource.columnTypes must have one type per column name")
    for name, kind in zip(names, types, strict=True):
        if kind not in ("STRING", "LONG", "DOUBLE", "FLOAT") or (
            name == "__time" and kind != "LONG"
        ):
            raise Unsupported(
                f"inline column [{name}] of type [{kind}] is not supported by localdruid"
            )
    rows = source.list("rows")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(names):
            raise InvalidInput(f"dataSource.rows[{i}] must be an array of {len(names)} values")
    columns = {
        name: Column(name, f"c{i + 1}", kind, "dimension")
        for i, (name, kind) in enumerate(zip(names, types, strict=True))
        if name != "__time"
    }
    at = names.index("__time") if "__time" in names else None
    values = []
    for i, row in enumerate(rows):
        # Druid's inline rows read __time from that column, or 0 when there is none.
        stamp = 0 if at is None else _inline_value(row[at], "LONG")
        if stamp is None:
            raise InvalidInput(f"dataSource.rows[{i}]: __time must be a number")
        cells = dict(zip(names, row, strict=True))
        values.append([stamp, 1, *(_inline_value(cells[c.name], c.type) for c in columns.values())])
    eternity = eternal_table(cursor, INLINE_TABLE, columns, values)
    return InlineDatasource(
        name="inline", table=INLINE_TABLE, columns=columns, segments=(eternity,)
    )


def _inline_value(value: Any, kind: str) -> Any:
    """A JSON value read as Druid reads a typed inline column (unparseable numbers are null)."""
    if isinstance(value, (dict, list)):
        raise Unsupported(
            "inline values that are arrays or objects are not supported by localdruid"
        )
    if value is None or kind == "STRING":
        return text_of(value)
    if isinstance(value, bool):
        return None
    number = value
    if isinstance(value, str):
        try:
            number = int(value.strip()) if kind == "LONG" else float(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return None
    if not isinstance(number, (int, float)):
        return None
    if kind != "LONG":
        try:
            return float(number)
        except OverflowError:  # a huge JSON integer: Java's doubleValue is infinite
            return math.inf if number > 0 else -math.inf
    if isinstance(number, float):
        # Java's (long) cast of a double: truncated, clamped to the long range.
        return max(-LONG_MAX - 1, min(LONG_MAX, int(number))) if math.isfinite(number) else None
    if not -LONG_MAX - 1 <= number <= LONG_MAX:
        raise InvalidInput(f"inline value [{number}] is out of range for a long")
    return number


def parse_intervals(spec: Spec, *, required: bool = True) -> list[tuple[int, int]]:
    value = spec.data.get("intervals")
    if value is None:
        if required:
            raise InvalidInput(f"Missing required field [intervals] in {spec.describe()}")
        return [(timeutil.MIN_MS, timeutil.MAX_MS)]
    try:
        intervals = timeutil.parse_intervals(value)
    except ValueError as exc:
        raise InvalidInput(f"intervals: {exc}") from None
    return sorted(intervals)


def parse_granularity(value: Any, where: str = "granularity") -> timeutil.Granularity:
    try:
        return timeutil.Granularity.parse("all" if value is None else value)
    except ValueError as exc:
        raise InvalidInput(f"{where}: {exc}") from None


def time_condition(intervals: list[tuple[int, int]]) -> Sql:
    col = quote_ident("__time")
    parts = [f"({col} >= {int(s)} AND {col} < {int(e)})" for s, e in intervals]
    return Sql("(" + " OR ".join(parts) + ")") if parts else Sql("FALSE")


def segments_in(ds: Datasource, intervals: list[tuple[int, int]]) -> list[Segment]:
    return [s for s in ds.segments if any(s.overlaps(a, b) for a, b in intervals)]


def data_ranges(
    ds: Datasource, intervals: list[tuple[int, int]], gran: timeutil.Granularity
) -> list[tuple[int, int]]:
    """Each query interval clipped to each overlapping segment's data, as Druid's cursors see it:
    [max(start, minTime), min(end, bucketEnd(maxTime)))."""
    ranges = []
    for start, end in intervals:
        for seg in segments_in(ds, [(start, end)]):
            low = max(start, seg.min_time)
            high = min(end, gran.bucket_end(seg.max_time))
            if low < high:
                ranges.append((low, high))
    return ranges


def row_span(ds: Datasource, intervals: list[tuple[int, int]]) -> tuple[int, int] | None:
    """Bounds every row a query reads lies within: its intervals clipped to the segments' data."""
    spans = [
        (max(start, seg.min_time), min(end, seg.max_time + 1))
        for start, end in intervals
        for seg in segments_in(ds, [(start, end)])
    ]
    spans = [(low, high) for low, high in spans if low < high]
    if not spans:
        return None
    return min(low for low, _ in spans), max(high for _, high in spans)


def fill_buckets(gran: timeutil.Granularity, ranges: list[tuple[int, int]]) -> list[int]:
    """Bucket starts of every bucket the ranges touch (never for granularity all)."""
    starts: set[int] = set()
    for low, high in ranges:
        for start in gran.iterate(low, high):
            starts.add(start)
            if len(starts) > MAX_BUCKETS:
                raise ResourceLimitExceeded(
                    f"The query would fill more than {MAX_BUCKETS} time buckets; "
                    "use a coarser granularity or a shorter interval"
                )
    return sorted(starts)


def query_resolver(spec: Spec, ds: Datasource | None) -> Resolver:
    """The datasource's columns with the query's virtual columns (expressions) over them."""
    return expressions.virtual_resolver(spec.raw("virtualColumns"), datasource_resolver(ds))


@dataclass
class AggregatePlan:
    """The parts of a timeseries, topN or groupBy query that become one grouped SQL statement."""

    ds: Datasource
    resolve: Resolver
    intervals: list[tuple[int, int]]
    granularity: timeutil.Granularity
    where: Sql
    aggregates: list[Aggregate]
    post: list[PostAggregate] = field(default_factory=list)

    @property
    def bucketed(self) -> bool:
        return self.granularity.kind != "all"

    def aggregate_aliases(self) -> dict[str, str]:
        return {a.name: f"a{i}" for i, a in enumerate(self.aggregates)}

    def aggregate_sql(
        self, dimensions: list[tuple[str, str]], exploded: list[str] | None = None
    ) -> Sql:
        """SELECT bucket (__b), dimensions (d0...) and aggregates (a0...), grouped. Each list
        in `exploded` (multi-value dimensions) is unnested into column __mv0... of the rows
        the filter kept, one row per value: Druid filters rows, then explodes them."""
        columns: list[Sql | str] = []
        if self.bucketed:
            bucket = self.granularity.sql_bucket(
                quote_ident("__time"), within=row_span(self.ds, self.intervals)
            )
            columns.append(f"{bucket} AS __b")
        columns.extend(f"{sql} AS {alias}" for alias, sql in dimensions)
        columns.extend(a.sql + f" AS a{i}" for i, a in enumerate(self.aggregates))
        if not columns:
            columns.append("count(*) AS __rows")
        rows = self.rows_sql()
        for k, values in enumerate(exploded or []):
            # Nested, not side by side: two multi-value dimensions group their cross product.
            rows = rows.wrap(f" FROM (SELECT *, unnest({values}) AS __mv{k}", f") AS __x{k}")
        sql = Sql("SELECT ") + Sql.join(", ", columns) + rows
        if self.bucketed or dimensions:
            sql = sql + " GROUP BY ALL"
        return sql

    def rows_sql(self) -> Sql:
        """FROM and WHERE of the rows the query aggregates."""
        return (
            Sql(f" FROM {quote_ident(self.ds.table)} WHERE ")
            + time_condition(self.intervals)
            + " AND "
            + self.where
        )

    def with_post(self, sql: Sql) -> Sql:
        """Add the post-aggregates (p0...) as columns over an aggregate statement, and turn
        sketch states into their results (post-aggregates read both)."""
        finals = [f"{a.final(f'a{i}')} AS a{i}" for i, a in enumerate(self.aggregates) if a.final]
        if not self.post and not finals:
            return sql
        select = "SELECT *" + (f" REPLACE ({', '.join(finals)})" if finals else "")
        post = "".join(f", {p.sql} AS p{i}" for i, p in enumerate(self.post))
        return sql.wrap(select + post + " FROM (", ") AS agg")

    def output_columns(self) -> list[tuple[str, str, str]]:
        """(alias, name, type) of each aggregate and post-aggregate, in output order."""
        out = [(f"a{i}", a.name, a.type) for i, a in enumerate(self.aggregates)]
        out += [(f"p{i}", p.name, p.type) for i, p in enumerate(self.post)]
        return out

    def name_aliases(self) -> dict[str, str]:
        return {name: alias for alias, name, _ in self.output_columns()}

    def empty_aggregates_sql(self) -> Sql:
        """Aggregates over no rows (count 0, sums null), computed without reading any table."""
        values = ", ".join(
            f"CAST({a.empty} AS {a.state or SQL_TYPES.get(a.type, 'DOUBLE')}) AS a{i}"
            for i, a in enumerate(self.aggregates)
        )
        return Sql(f"SELECT {values or '0 AS __rows'}")

    def empty_row_sql(self) -> Sql:
        return self.with_post(self.empty_aggregates_sql())


def aggregate_plan(spec: Spec, ds: Datasource) -> AggregatePlan:
    resolve = query_resolver(spec, ds)
    plan = AggregatePlan(
        ds=ds,
        resolve=resolve,
        intervals=parse_intervals(spec),
        granularity=parse_granularity(spec.data.get("granularity")),
        where=compile_filter(spec.data.get("filter"), resolve),
        aggregates=compile_aggregators(spec.data.get("aggregations"), resolve),
    )
    plan.post = compile_post_aggregators(
        spec.data.get("postAggregations"), plan.aggregates, plan.aggregate_aliases()
    )
    return plan


# -- execution ----------------------------------------------------------------------------------


class QueryRegistry:
    """Running queries by id, so that DELETE /druid/v2/{id} and timeouts can interrupt them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, list[Execution]] = {}

    def add(self, execution: Execution) -> None:
        with self._lock:
            self._running.setdefault(execution.query_id, []).append(execution)

    def remove(self, execution: Execution) -> None:
        with self._lock:
            runs = self._running.get(execution.query_id, [])
            if execution in runs:
                runs.remove(execution)
            if not runs:
                self._running.pop(execution.query_id, None)

    def cancel(self, query_id: str) -> bool:
        with self._lock:
            runs = list(self._running.get(query_id, []))
        for run in runs:
            run.interrupt("cancelled")
        return bool(runs)


@dataclass(eq=False)
class Execution:
    """One query's run: its cursor, deadline and the reason it was interrupted, if any."""

    query_id: str
    cursor: duckdb.DuckDBPyConnection
    timeout_ms: int
    started: float = field(default_factory=time.monotonic)
    reason: str | None = None

    def interrupt(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
            self.cursor.interrupt()

    def remaining_ms(self) -> float:
        if self.timeout_ms <= 0:
            return float("inf")
        return self.timeout_ms - (time.monotonic() - self.started) * 1000

    def check(self) -> None:
        if self.reason == "cancelled":
            raise QueryCancelled("Task was cancelled.")
        if self.reason == "timeout" or self.remaining_ms() <= 0:
            raise QueryTimeout(TIMEOUT_MESSAGE)

    def fetch(self, sql: Sql) -> list[tuple[Any, ...]]:
        """Run one statement under the query's deadline; engine errors become Druid errors."""
        self.check()
        remaining = self.remaining_ms()
        timer = None
        if remaining != float("inf"):
            timer = threading.Timer(max(remaining, 0) / 1000, self.interrupt, args=("timeout",))
            timer.daemon = True
            timer.start()
        try:
            rows = self.cursor.execute(sql.text, sql.params).fetchall()
            if self.reason is not None:  # interrupted just before DuckDB started
                self.check()
            return rows
        except duckdb.InterruptException:
            self.check()
            raise QueryCancelled(f"Query [{self.query_id}] was interrupted") from None
        except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
            if str(exc).startswith("Invalid Input Error: Division by zero"):
                # Only an expression's long / or % divides integers: Druid's query fails there.
                raise DruidError("/ by zero", error_class="java.lang.ArithmeticException") from None
            raise InvalidInput(_engine_message(exc)) from None
        except duckdb.OutOfMemoryException as exc:
            raise DruidError(f"Query [{self.query_id}] ran out of memory: {exc}") from None
        finally:
            if timer is not None:
                timer.cancel()


def _engine_message(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.replace("Invalid Input Error: ", "").replace("Conversion Error: ", "")


LONG_MAX = 2**63 - 1


def context_timeout(spec: Spec) -> int:
    context = spec.raw("context", {})
    if not isinstance(context, dict):
        raise InvalidInput("context must be a JSON object")
    value = context.get("timeout")
    if value is None:
        return DEFAULT_TIMEOUT_MS
    try:
        timeout = int(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"context.timeout must be a number, got [{value}]") from None
    if timeout > LONG_MAX:  # Druid reads it as a Java long
        raise InvalidInput(f"context.timeout [{value}] is out of range for a long")
    return max(timeout, 0)


def context_flag(spec: Spec, key: str, default: bool = False) -> bool:
    context = spec.raw("context", {})
    value = context.get(key) if isinstance(context, dict) else None
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)
