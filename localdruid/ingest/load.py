"""Loading: read input, parse timestamps, filter, roll up, then replace time chunks atomically."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb

from localdruid import expressions, sketches, timeutil
from localdruid.errors import InvalidInput, Unsupported
from localdruid.ingest.compact import compaction_plan
from localdruid.ingest.flatten import NESTED_IN_LIST
from localdruid.ingest.reader import (
    CONVERTED_FORMATS,
    DatasourceReader,
    Reader,
    input_files,
    list_column,
)
from localdruid.ingest.spec import CompactionSpec, IngestSpec
from localdruid.jsonspec import Spec
from localdruid.query.columns import MISSING, ColumnRef
from localdruid.query.filters import compile_filter
from localdruid.sql import Sql, quote_ident
from localdruid.storage import PAIR_TYPES, PHYSICAL_TYPES, Column, Datasource, Segment, Store

Progress = Callable[[str, float], None]


@dataclass
class RowStats:
    processed: int = 0
    unparseable: int = 0
    thrown_away: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "processed": self.processed,
            "processedBytes": 0,
            "processedWithError": 0,
            "thrownAway": self.thrown_away,
            "unparseable": self.unparseable,
        }


def parse_long(text_sql: str) -> str:
    """Druid's long coercion of text: integers exactly, decimals truncated toward zero."""
    return (
        f"(CASE WHEN contains({text_sql}, '.') OR contains(lower({text_sql}), 'e') "
        f"THEN CAST(trunc(TRY_CAST({text_sql} AS DOUBLE)) AS BIGINT) "
        f"ELSE TRY_CAST({text_sql} AS BIGINT) END)"
    )


def parse_long_exact(text_sql: str) -> str:
    """A long dimension's coercion: "5.0" is 5, "5.5" and "abc" are null."""
    exact = f"TRY_CAST({text_sql} AS DOUBLE)"
    return (
        f"(CASE WHEN contains({text_sql}, '.') OR contains(lower({text_sql}), 'e') "
        f"THEN (CASE WHEN {exact} = trunc({exact}) THEN CAST({exact} AS BIGINT) END) "
        f"ELSE TRY_CAST({text_sql} AS BIGINT) END)"
    )


def cast_text(text_sql: str, druid_type: str) -> str:
    if druid_type == "STRING":
        return text_sql
    if druid_type == "LONG":
        return parse_long_exact(text_sql)
    return f"TRY_CAST({text_sql} AS {PHYSICAL_TYPES[druid_type]})"


@dataclass(frozen=True)
class MetricPlan:
    name: str
    type: str
    rollup_sql: Sql  # an aggregate over input rows
    row_sql: Sql  # the same for a single input row, when rollup is off
    aggregator: dict[str, Any]


_NUMERIC_METRICS = {
    "longSum": ("LONG", "sum"),
    "longMin": ("LONG", "min"),
    "longMax": ("LONG", "max"),
    "doubleSum": ("DOUBLE", "sum"),
    "doubleMin": ("DOUBLE", "min"),
    "doubleMax": ("DOUBLE", "max"),
    "floatSum": ("FLOAT", "sum"),
    "floatMin": ("FLOAT", "min"),
    "floatMax": ("FLOAT", "max"),
}


# First/last metrics: the type of the value kept, and the aggregate choosing the pair to keep.
FIRST_LAST_METRICS = {
    "stringFirst": ("STRING", "arg_min_null"),
    "stringLast": ("STRING", "arg_max_null"),
    "longFirst": ("LONG", "arg_min_null"),
    "longLast": ("LONG", "arg_max_null"),
    "doubleFirst": ("DOUBLE", "arg_min_null"),
    "doubleLast": ("DOUBLE", "arg_max_null"),
    "floatFirst": ("FLOAT", "arg_min_null"),
    "floatLast": ("FLOAT", "arg_max_null"),
}


def plan_metric(
    value: Any, text: Callable[[str], str], path: str, stored: Mapping[str, str] | None = None
) -> MetricPlan:
    """How one metricsSpec aggregator is computed from input columns (given as text SQL).
    `stored` gives the types of input columns holding a datasource's stored complex values
    (hyperUnique hashes, first/last pairs), which are not text."""
    spec = Spec(value, path)
    kind = spec.type()
    name = spec.str("name")
    stored = stored or {}
    if kind in FIRST_LAST_METRICS:
        return _first_last_metric(spec, kind, name, text, stored)
    if kind in _SKETCH_METRICS:
        return _sketch_metric(spec, kind, name, text, stored)
    if spec.has("fieldName") and spec.str("fieldName") in stored and kind != "hyperUnique":
        raise Unsupported(
            f"{path}: metric type [{kind}] over the stored sketch column "
            f"[{spec.str('fieldName')}] is not supported by localdruid"
        )
    if kind == "count":
        return MetricPlan(
            name, "LONG", Sql("count(*)"), Sql("CAST(1 AS BIGINT)"), {"type": "count", "name": name}
        )
    if kind in _NUMERIC_METRICS:
        druid_type, fn = _NUMERIC_METRICS[kind]
        source = text(spec.str("fieldName"))
        # A metric reads its input as a number: "5.5" into a long is 5, not null as for dimensions.
        field = parse_long(source) if druid_type == "LONG" else cast_text(source, druid_type)
        physical = PHYSICAL_TYPES[druid_type]
        agg = {"type": kind, "name": name, "fieldName": spec.str("fieldName")}
        return MetricPlan(
            name, druid_type, Sql(f"CAST({fn}({field}) AS {physical})"), Sql(field), agg
        )
    if kind == "hyperUnique":
        field = text(spec.str("fieldName"))
        agg = {"type": "hyperUnique", "name": name, "fieldName": spec.str("fieldName")}
        if stored.get(spec.str("fieldName")) not in (None, "COMPLEX<hyperUnique>"):
            raise Unsupported(
                f"{path}: hyperUnique over the stored column [{spec.str('fieldName')}] is not "
                "supported by localdruid"
            )
        if spec.str("fieldName") in stored:
            # Druid's hyperUnique folds a column that already holds sketches into one sketch.
            return MetricPlan(
                name,
                "COMPLEX<hyperUnique>",
                Sql(f"list_distinct(flatten(list({field})))"),
                Sql(f"COALESCE({field}, []::UBIGINT[])"),
                agg,
            )
        return MetricPlan(
            name,
            "COMPLEX<hyperUnique>",
            Sql(f"list_distinct(list(hash({field})) FILTER (WHERE {field} IS NOT NULL))"),
            Sql(f"(CASE WHEN {field} IS NULL THEN []::UBIGINT[] ELSE [hash({field})] END)"),
            agg,
        )
    if kind == "filtered":
        inner = plan_metric(
            {**spec.require("aggregator"), "name": name}, text, spec.at("aggregator"), stored
        )

        def resolve(column: str) -> ColumnRef:
            return ColumnRef(text(column), "STRING")

        condition = compile_filter(spec.require("filter"), resolve, spec.at("filter"))
        empty = "0" if inner.aggregator["type"] == "count" else "NULL"
        return MetricPlan(
            name,
            inner.type,
            inner.rollup_sql + Sql(" FILTER (WHERE ") + condition + ")",
            Sql("(CASE WHEN ") + condition + " THEN " + inner.row_sql + f" ELSE {empty} END)",
            {
                "type": "filtered",
                "name": name,
                "filter": spec.raw("filter"),
                "aggregator": inner.aggregator,
            },
        )
    raise Unsupported(f"{path}: metric type [{kind}] is not supported at ingestion by localdruid")


# Sketch metrics: the column type they store, and the stored type they merge.
_SKETCH_METRICS = {
    "thetaSketch": sketches.THETA,
    "HLLSketchBuild": sketches.HLL,
    "HLLSketchMerge": sketches.HLL,
    "quantilesDoublesSketch": sketches.QUANTILES,
}


def _sketch_metric(
    spec: Spec, kind: str, name: str, text: Callable[[str], str], stored: Mapping[str, str]
) -> MetricPlan:
    """A sketch metric stores its state per row (see localdruid/sketches.py): built from the
    input values, or merged from a stored sketch column of the same kind (reindexing)."""
    druid_type = _SKETCH_METRICS[kind]
    field = spec.str("fieldName")
    source = text(field)
    agg: dict[str, Any] = {"type": kind, "name": name, "fieldName": field}
    held = stored.get(field)
    if held is not None and held != druid_type:
        raise InvalidInput(
            f"{spec.path}: metric type [{kind}] cannot read the stored column [{field}] of type "
            f"[{held}]"
        )
    if kind == "quantilesDoublesSketch":
        agg["k"] = spec.int("k", 128)
        if held is not None:
            return MetricPlan(
                name, druid_type, Sql(sketches.quantiles_merge(source)), Sql(source), agg
            )
        value = cast_text(source, "DOUBLE")
        return MetricPlan(
            name,
            druid_type,
            Sql(sketches.quantiles_build(value)),
            Sql(sketches.quantiles_row(value)),
            agg,
        )
    if kind == "thetaSketch":
        if spec.bool("isInputThetaSketch"):
            raise Unsupported(
                f"{spec.path}: thetaSketch over serialized input sketches (isInputThetaSketch) "
                "is not supported by localdruid"
            )
        size = sketches.theta_size(spec.raw("size"), spec.at("size"))
        agg["size"] = size
    else:
        size = sketches.hll_size(spec.raw("lgK"), spec.at("lgK"))
        agg["lgK"] = size.bit_length() - 1
        agg["tgtHllType"] = spec.str("tgtHllType", "HLL_4")
        if (kind == "HLLSketchMerge") != (held is not None):
            raise InvalidInput(
                f"{spec.path}: HLLSketchMerge reads stored HLL sketches and HLLSketchBuild raw "
                f"values; [{field}] holds {'HLL sketches' if held else 'raw values'}"
            )
    if held is not None:
        return MetricPlan(
            name, druid_type, Sql(sketches.distinct_merge(source, size)), Sql(source), agg
        )
    # DataSketches skips empty strings as it skips nulls.
    value = f"NULLIF({source}, '')"
    return MetricPlan(
        name,
        druid_type,
        Sql(sketches.distinct_build(value, size)),
        Sql(sketches.distinct_row(value)),
        agg,
    )


def _first_last_metric(
    spec: Spec, kind: str, name: str, text: Callable[[str], str], stored: Mapping[str, str]
) -> MetricPlan:
    """A first/last metric stores a (time, value) pair per row: the input row's own timestamp
    (not truncated to the query granularity) with its value. Rollup keeps the pair of the
    earliest (latest) time; between equal times the first (last) input row, as Druid's
    aggregators replace only on an earlier (on a later or equal) time. Over a stored pair column
    the stored times are compared."""
    value_type, fn = FIRST_LAST_METRICS[kind]
    if spec.has("timeColumn") and spec.str("timeColumn") != "__time":
        raise Unsupported(f"{spec.path}: a timeColumn other than __time is not supported")
    field = spec.str("fieldName")
    pair_type = PAIR_TYPES[value_type]
    physical = PHYSICAL_TYPES[pair_type]
    limit = spec.int("maxStringBytes", 1024, minimum=1)
    agg: dict[str, Any] = {"type": kind, "name": name, "fieldName": field, "timeColumn": "__time"}
    if value_type == "STRING":
        agg["maxStringBytes"] = limit
    source = text(field)
    if field in stored:
        held = stored[field]
        if held not in PAIR_TYPES.values() or (value_type == "STRING") != (
            held == PAIR_TYPES["STRING"]
        ):
            raise Unsupported(
                f"{spec.path}: metric type [{kind}] over the stored column [{field}] of type "
                f"[{held}] is not supported by localdruid"
            )
        value = f"left(({source}).v, {int(limit)})" if value_type == "STRING" else f"({source}).v"
        pair = (
            f"(CASE WHEN {source} IS NULL THEN NULL ELSE {{'t': ({source}).t, 'v': {value}}} END)"
        )
        key = f"(CASE WHEN {source} IS NULL THEN NULL ELSE {{'t': ({source}).t, 'r': rowid}} END)"
    else:
        if value_type == "STRING":
            value = f"left({source}, {int(limit)})"
        elif value_type == "LONG":
            value = parse_long(source)
        else:
            value = cast_text(source, value_type)
        pair = f"{{'t': __time, 'v': {value}}}"
        key = "{'t': __time, 'r': rowid}"
    return MetricPlan(
        name,
        pair_type,
        Sql(f"CAST({fn}({pair}, {key}) AS {physical})"),
        Sql(f"CAST({pair} AS {physical})"),
        agg,
    )


def _filter_columns(value: Any) -> set[str]:
    """Column names a filter reads, so the reader includes them."""
    names: set[str] = set()
    if isinstance(value, dict):
        for key in ("dimension", "column"):
            if isinstance(value.get(key), str):
                names.add(value[key])
        for child in value.values():
            names |= _filter_columns(child)
    elif isinstance(value, list):
        for child in value:
            names |= _filter_columns(child)
    return names


def _input_types(
    cur: duckdb.DuckDBPyConnection, sources: Sequence[Reader | DatasourceReader], names: set[str]
) -> dict[str, str]:
    """Types of the input columns transforms read: JSON numbers and stored numeric columns are
    numbers, as in Druid's input rows; delimited text stays text. Sources that disagree widen
    LONG to DOUBLE, anything else to STRING."""
    types: dict[str, str] = {}
    for reader in sources:
        for name, kind in reader.columns(cur):
            if name not in names:
                continue
            kind = "DOUBLE" if kind == "FLOAT" else kind
            old = types.setdefault(name, kind)
            if old != kind:
                types[name] = "DOUBLE" if {old, kind} == {"LONG", "DOUBLE"} else "STRING"
    return types


def multi_value_sql(text_sql: str, list_sql: str | None, handling: str) -> str:
    """A multi-value dimension's row: its input list as multiValueHandling orders it (null
    values first, as in Druid's dictionary), a single input value as a one-value list, null as
    null. An empty list stays empty: Druid stores a row without values."""
    single = f"CASE WHEN {text_sql} IS NULL THEN NULL ELSE [{text_sql}] END"
    if list_sql is None:
        return f"({single})"
    if handling == "SORTED_ARRAY":
        values = f"list_sort({list_sql}, 'ASC', 'NULLS FIRST')"
    elif handling == "SORTED_SET":
        nulls = f"list_bool_or(list_transform({list_sql}, lambda v: v IS NULL))"
        values = (
            f"(CASE WHEN {nulls} THEN [NULL]::VARCHAR[] ELSE []::VARCHAR[] END || "
            f"list_sort(list_distinct({list_sql})))"
        )
    else:
        values = list_sql
    return f"(CASE WHEN {list_sql} IS NOT NULL THEN {values} ELSE {single} END)"


def _merged(old: tuple[str, ...], new: list[str]) -> tuple[str, ...]:
    return (*old, *(n for n in new if n not in old))


def _widen(old: str, new: str, name: str) -> str:
    if old == new:
        return old
    if "COMPLEX" in old or "COMPLEX" in new:
        raise InvalidInput(f"Column [{name}] holds {old}; cannot store {new} in it")
    if "STRING" in (old, new):
        return "STRING"
    return "DOUBLE"


class Loader:
    """One ingestion task's run against the store."""

    def __init__(
        self,
        store: Store,
        spec: IngestSpec | CompactionSpec,
        version: str,
        progress: Progress,
        stream: str | None = None,
        tag: str | None = None,
        allowed_dirs: Sequence[Path] = (),
        before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
        ignore_druid_timestamp_spec: bool = False,
    ) -> None:
        self.allowed_dirs = allowed_dirs  # where a local input source may read
        # Druid's druid.indexer.task.ignoreTimestampSpecForDruidInputSource: rows read from a
        # datasource keep their __time whatever the timestampSpec says (Druid 0.19 and earlier).
        self.ignore_druid_timestamp_spec = ignore_druid_timestamp_spec
        self.before_commit = before_commit  # more writes for the same transaction
        self.stream = stream  # pushes of a stream extend one segment per time chunk
        self.tag = tag  # an input field naming each row's batch, for counts per batch
        self.batch_stats: dict[str, RowStats] = {}
        self.store = store
        self.task = spec
        self.spec: IngestSpec
        if isinstance(spec, IngestSpec):
            self.spec = spec
        self.version = version
        self.progress = progress
        self.suffix = uuid.uuid4().hex[:12]
        # Multi-value string dimensions of this load, each with its input's list column (None
        # when this load's input holds no lists for it).
        self.multi_values: dict[str, str | None] = {}
        self.stats = RowStats()
        self.scratch: list[Path] = []

    def run(self) -> RowStats:
        with self.store.writer() as cur:
            if isinstance(self.task, CompactionSpec):
                # Planned under the write lock: no push can change the segments read meanwhile.
                self.spec = compaction_plan(self.store.datasource(self.task.datasource), self.task)
            try:
                self._run(cur)
            finally:
                for table in (f"stg_{self.suffix}", f"raw_{self.suffix}"):
                    with contextlib.suppress(duckdb.Error):
                        cur.execute(f"DROP TABLE IF EXISTS temp.{table}")
                for path in self.scratch:
                    path.unlink(missing_ok=True)
        return self.stats

    def _watch(self, cur: duckdb.DuckDBPyConnection, phase: str, low: float, high: float) -> Any:
        """Report DuckDB's own progress on the running statement, scaled into [low, high]."""
        done = threading.Event()

        def poll() -> None:
            while not done.wait(0.25):
                with contextlib.suppress(duckdb.Error):
                    pct = cur.query_progress()
                    if pct >= 0:
                        self.progress(phase, low + (high - low) * min(pct, 100) / 100)

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        return done

    def _execute(
        self, cur: duckdb.DuckDBPyConnection, sql: Sql, phase: str, low: float, high: float
    ) -> list[tuple[Any, ...]]:
        if self.stream is not None:  # a push is short and nobody watches its progress
            return cur.execute(sql.text, sql.params).fetchall()
        self.progress(phase, low)
        done = self._watch(cur, phase, low, high)
        try:
            return cur.execute(sql.text, sql.params).fetchall()
        finally:
            done.set()
            self.progress(phase, high)

    def _run(self, cur: duckdb.DuckDBPyConnection) -> None:
        spec = self.spec
        for setting in (
            "enable_progress_bar=true",
            "enable_progress_bar_print=false",
            "progress_bar_time=0",
        ):
            cur.execute(f"SET {setting}")
        self.scratch = []  # a stream's loader runs again for each push
        sources = self._sources(spec.input_source)
        self.progress("reading", 0.0)
        if not sources:
            return

        metric_names = {str(m.get("name")) for m in spec.metrics}
        metric_fields = {str(m.get("fieldName")) for m in spec.metrics if m.get("fieldName")}
        if spec.discover:
            skip = {spec.timestamp_column, *spec.exclusions, *metric_names, *metric_fields}
            skip |= {self.tag} if self.tag else set()
            found: dict[str, str] = {}
            for reader in sources:
                # A stored sketch would be a dimension of the sketch's text in Druid, which
                # localdruid cannot write: discovery leaves sketches out.
                sketches_read = reader.complex if isinstance(reader, DatasourceReader) else {}
                for name, druid_type in reader.columns(cur):
                    if name not in sketches_read:
                        found.setdefault(name, druid_type)
            discovered = [(n, t) for n, t in found.items() if n not in skip]
            dims = [(n, t if spec.typed_discovery else "STRING") for n, t in discovered]
        else:
            dims = [(d.name, d.type) for d in spec.dimensions]
        own_time = [s for s in sources if self._keeps_time(s)]
        transform_reads = {
            name
            for _, expression in spec.transforms
            for name in expressions.identifiers(expressions.parse(expression))
        } - {"__time"}
        input_types = _input_types(cur, sources, transform_reads) if spec.transforms else {}
        wanted: list[str] = []
        for name in [
            spec.timestamp_column,
            *(["__time"] if own_time else []),
            *(n for n, _ in dims),
            *sorted(metric_fields),
            *sorted(_filter_columns(spec.transform_filter) - {"__time"}),
            *sorted(transform_reads),
            *([self.tag] if self.tag else []),
        ]:
            if name not in wanted:
                wanted.append(name)
        index = {name: f"i{k}" for k, name in enumerate(wanted)}
        stored = {
            name: kind
            for reader in sources
            if isinstance(reader, DatasourceReader)
            for name, kind in reader.complex.items()
            if name in wanted
        }
        if stored and len(sources) > 1:
            raise Unsupported(
                f"reading the stored sketch column [{min(stored)}] together with other input "
                "sources is not supported by localdruid"
            )
        if stored.keys() & {n for n, _ in dims}:
            raise Unsupported(
                f"the stored sketch column [{min(stored.keys() & {n for n, _ in dims})}] cannot be "
                "read as a dimension by localdruid; list the dimensions or exclude it"
            )

        # 1. Read every input row, with its parsed timestamp, into a scratch table.
        select = ", ".join(f"{quote_ident(name)} AS {index[name]}" for name in wanted)
        reads: list[Sql] = []
        stamps: list[str] = []
        for reader in sources:
            column, fmt = spec.timestamp_column, spec.timestamp_format
            if reader in own_time:
                column, fmt = "__time", "millis"
            ts_sql = timeutil.timestamp_sql(index[column], fmt)
            if self.stream is not None and fmt.lower() in ("iso", "auto"):
                # The full ISO parser's SQL costs DuckDB tens of milliseconds to bind, more than
                # a whole small push; when every timestamp has the canonical form, a short one
                # serves.
                fast = timeutil.canonical_iso_sql(index[column])
                probe = (
                    Sql(f"SELECT count(*) FROM (SELECT {select} FROM (")
                    + reader.relation(wanted)
                    + f") AS src) AS r WHERE {index[column]} IS NOT NULL AND {fast} IS NULL"
                )
                if cur.execute(probe.text, probe.params).fetchall()[0][0] == 0:
                    ts_sql = fast
            if spec.timestamp_missing is not None:
                missing = timeutil.parse_timestamp(spec.timestamp_missing, spec.timestamp_format)
                if missing is None:
                    raise InvalidInput(
                        "timestampSpec.missingValue cannot be parsed with its format"
                    )
                ts_sql = f"COALESCE({ts_sql}, {int(missing)})"
            stamps.append(ts_sql)
            reads.append(
                Sql(f"SELECT {ts_sql} AS __time, * FROM (SELECT {select} FROM (")
                + reader.relation(wanted)
                + ") AS src) AS r"
            )
        raw = f"raw_{self.suffix}"
        self._execute(
            cur,
            Sql(f"CREATE TEMP TABLE {raw} AS ") + Sql.join(" UNION ALL ", reads),
            "reading",
            0.0,
            0.6,
        )
        self._read_lists(cur, raw, sources, stamps, wanted, index, dims)
        elsewhere = metric_fields | transform_reads | _filter_columns(spec.transform_filter)
        if elsewhere & self.multi_values.keys():
            raise Unsupported(
                f"the multi-value input column [{min(elsewhere & self.multi_values.keys())}] read "
                "by a metric, transform or filter is not supported at ingestion by localdruid"
            )

        # 2. Decide which rows are kept: a timestamp, inside the intervals, passing the filter.
        def read(column: str) -> ColumnRef:
            """An input column as transforms see it: typed as the input carries it."""
            if column == "__time":
                return ColumnRef("__time", "LONG")
            if column not in index:
                return MISSING
            kind = input_types.get(column, "STRING")
            if kind in ("LONG", "DOUBLE"):
                return ColumnRef(cast_text(index[column], kind), kind)
            return ColumnRef(index[column], kind)

        # Transforms read the input row only (never each other) and may shadow its columns;
        # the filter, dimensions and metrics then read the transformed row, as in Druid.
        transformed = {
            name: expressions.compile_expression(expression, read)
            for name, expression in spec.transforms
        }

        def resolve(column: str) -> ColumnRef:
            if column in transformed:
                return transformed[column]
            if column == "__time":
                return ColumnRef("__time", "LONG")
            return ColumnRef(index.get(column, "CAST(NULL AS VARCHAR)"), "STRING")

        def text(column: str) -> str:
            return resolve(column).as_text

        keep = Sql("__time IS NOT NULL AND __time > ") + str(timeutil.MIN_MS)
        if spec.intervals:
            keep = (
                keep
                + " AND ("
                + " OR ".join(
                    f"(__time >= {int(s)} AND __time < {int(e)})" for s, e in spec.intervals
                )
                + ")"
            )
        keep = (
            keep + " AND " + compile_filter(spec.transform_filter, resolve, "transformSpec.filter")
        )
        batch = index[self.tag] if self.tag else "NULL"
        counted = (
            Sql(f"SELECT {batch}, count(*), count(__time), count(*) FILTER (WHERE ")
            + keep
            + f") FROM {raw} GROUP BY 1"
        )
        for name, total, stamped, kept in cur.execute(counted.text, counted.params).fetchall():
            stats = RowStats(kept, total - stamped, stamped - kept)
            self.batch_stats[str(name)] = stats
            self.stats = RowStats(
                self.stats.processed + stats.processed,
                self.stats.unparseable + stats.unparseable,
                self.stats.thrown_away + stats.thrown_away,
            )

        # 3. Roll up at the query granularity, tagging each row with its segment's time chunk.
        metrics = [
            plan_metric(m, text, f"dataSchema.metricsSpec[{i}]", stored)
            for i, m in enumerate(spec.metrics)
        ]
        qgran, sgran = spec.query_granularity, spec.segment_granularity
        time_sql = qgran.sql_bucket("__time") if qgran.kind not in ("none", "all") else "__time"
        if qgran.kind == "all":
            raise InvalidInput("granularitySpec.queryGranularity cannot be all")
        parts: list[Sql | str] = [f"{time_sql} AS __time"]
        parts += [f"{self._dimension_sql(n, t, text)} AS d{k}" for k, (n, t) in enumerate(dims)]
        for k, m in enumerate(metrics):
            parts.append((m.rollup_sql if spec.rollup else m.row_sql) + f" AS m{k}")
        rows = (
            Sql(f"SELECT *, {sgran.sql_bucket('__time')} AS __chunk FROM (SELECT ")
            + Sql.join(", ", parts)
            + f" FROM {raw} WHERE "
            + keep
        )
        if spec.rollup:
            stg = f"stg_{self.suffix}"
            rows = rows + " GROUP BY ALL) AS rolled"
            self._execute(cur, rows.wrap(f"CREATE TEMP TABLE {stg} AS ", ""), "rollup", 0.6, 0.85)
            cur.execute(f"DROP TABLE temp.{raw}")
            source = Sql(stg)
        else:
            # Without rollup the rows need no grouping: reading them straight from the scratch
            # table saves writing them all once more.
            source = (rows + ") AS rows").wrap("(", ")")
        chunk_stats = (
            Sql("SELECT __chunk, min(__time), max(__time), count(*) FROM ")
            + source
            + " AS s GROUP BY 1 ORDER BY 1"
        )
        chunks = cur.execute(chunk_stats.text, chunk_stats.params).fetchall()
        self._publish(cur, source, dims, metrics, chunks)

    def _read_lists(
        self,
        cur: duckdb.DuckDBPyConnection,
        raw: str,
        sources: Sequence[Reader | DatasourceReader],
        stamps: list[str],
        wanted: list[str],
        index: dict[str, str],
        dims: list[tuple[str, str]],
    ) -> None:
        """Find the string dimensions whose input holds lists (self.multi_values): Druid stores
        them as multi-value columns, as it keeps those already stored so. Text that may be a
        list (an array's JSON text, a stored list, a value holding the listDelimiter) is rare:
        only then is the input read once more, with the lists told apart from such text."""
        existing = self.store.datasource(self.spec.datasource)
        known = {c.name for c in existing.columns.values() if c.multi_value} if existing else set()
        shadowed = {name for name, _ in self.spec.transforms}
        for name, druid_type in dims:
            if name in known and druid_type != "STRING":
                raise Unsupported(
                    f"storing {druid_type} values in the multi-value column [{name}] is not "
                    "supported by localdruid"
                )
        strings = [n for n, t in dims if t == "STRING" and n in index and n not in shadowed]
        self.multi_values = {n: None for n in strings if n in known}
        if self.spec.typed_discovery:
            # Schema discovery makes ARRAY columns of lists in Druid, not multi-value ones;
            # localdruid keeps their JSON text, as it does for nested objects.
            return
        delimiters = sorted(
            {r.list_delimiter for r in sources if isinstance(r, Reader) and r.list_delimiter}
        )
        if not strings:
            return
        tests = [
            Sql.any(
                # Starts with "[": a range test, several times faster than starts_with.
                [Sql(f"({index[n]} >= '[' AND {index[n]} < '\\')")]
                + [Sql(f"contains({index[n]}, ?)", [d]) for d in delimiters]
            ).wrap("bool_or(", ")")
            for n in strings
        ]
        probe = Sql("SELECT ") + Sql.join(", ", tests) + f" FROM {raw}"
        hits = cur.execute(probe.text, probe.params).fetchall()[0]
        listed = [n for n, hit in zip(strings, hits, strict=True) if hit]
        lists = {n: f"l{k}" for k, n in enumerate(listed)}
        if not lists:
            return
        select = ", ".join(
            [f"{quote_ident(n)} AS {index[n]}" for n in wanted]
            + [f"{quote_ident(list_column(n))} AS {alias}" for n, alias in lists.items()]
        )
        reads = [
            Sql(f"SELECT {stamp} AS __time, * FROM (SELECT {select} FROM (")
            + reader.relation(wanted, list(lists))
            + ") AS src) AS r"
            for reader, stamp in zip(sources, stamps, strict=True)
        ]
        cur.execute(f"DROP TABLE temp.{raw}")
        try:
            self._execute(
                cur,
                Sql(f"CREATE TEMP TABLE {raw} AS ") + Sql.join(" UNION ALL ", reads),
                "reading",
                0.3,
                0.6,
            )
        except duckdb.InvalidInputException as exc:
            if NESTED_IN_LIST not in str(exc):
                raise
            raise Unsupported(
                "a list holding objects or arrays in a string dimension is not supported by "
                f"localdruid (one of {sorted(lists)})"
            ) from None
        found = ", ".join(f"bool_or({alias} IS NOT NULL)" for alias in lists.values())
        seen = cur.execute(f"SELECT {found} FROM {raw}").fetchall()[0]
        for (name, alias), holds in zip(lists.items(), seen, strict=True):
            if holds or name in known:
                self.multi_values[name] = alias

    def _dimension_sql(self, name: str, druid_type: str, text: Callable[[str], str]) -> str:
        """A dimension's stored value: a multi-value one's as a list (see multi_value_sql)."""
        if name not in self.multi_values:
            return cast_text(text(name), druid_type)
        handling = next(
            (d.multi_value_handling for d in self.spec.dimensions if d.name == name),
            "SORTED_ARRAY",
        )
        return multi_value_sql(text(name), self.multi_values[name], handling)

    def _sources(self, source: dict[str, Any]) -> list[Reader | DatasourceReader]:
        """The readers of an input source, a combining source's delegates in order; file sources
        without data (no files, only empty files) read nothing and are left out."""
        kind = source.get("type")
        if kind == "combining":
            return [r for d in source.get("delegates") or [] for r in self._sources(d)]
        if kind == "druid":
            return [DatasourceReader(source, self.store.datasource(str(source["dataSource"])))]
        files = input_files(source, self.store.data_dir / "tmp", self.allowed_dirs)
        if kind == "inline":
            self.scratch.extend(files)  # written for this load only
        discoverable = None
        if self.spec.input_format.get("type") in CONVERTED_FORMATS:
            files, discoverable = self._as_parquet(files)
        reader = Reader(
            self.spec.input_format,
            files,
            nested=self.spec.typed_discovery,
            discoverable=discoverable,
        )
        return [reader] if files else []

    def _as_parquet(self, files: list[Path]) -> tuple[list[Path], set[str]]:
        """ORC or Avro files rewritten as scratch Parquet files, with the root fields Druid's
        discovery takes from any of them."""
        from localdruid.ingest.conversion import file_to_parquet  # see parse_index_task

        copies: list[Path] = []
        discoverable: set[str] = set()
        for path in files:
            copy = self.store.data_dir / "tmp" / f"{path.stem}-{uuid.uuid4().hex}.parquet"
            copy.parent.mkdir(parents=True, exist_ok=True)
            self.scratch.append(copy)  # before it is written, so a failed write is removed too
            discoverable |= file_to_parquet(self.spec.input_format, path, copy)
            copies.append(copy)
        return copies, discoverable

    def _keeps_time(self, source: Reader | DatasourceReader) -> bool:
        """Whether a source's rows take their timestamp from `__time`, whatever the spec says."""
        return isinstance(source, DatasourceReader) and self.ignore_druid_timestamp_spec

    def _publish(
        self,
        cur: duckdb.DuckDBPyConnection,
        source: Sql,
        dims: list[tuple[str, str]],
        metrics: list[MetricPlan],
        chunks: list[tuple[int, int, int, int]],
    ) -> None:
        """Replace or append the new segments in one transaction, with the catalog."""
        spec = self.spec
        sgran = spec.segment_granularity
        existing = self.store.datasource(spec.datasource)
        ds = existing or self.store.new_datasource(spec.datasource)
        columns = dict(ds.columns)
        changes: list[str] = []
        table = quote_ident(ds.table)
        wanted: list[tuple[str, str, str, dict[str, Any] | None]]
        wanted = [(n, t, "dimension", None) for n, t in dims]
        wanted += [(m.name, m.type, "metric", m.aggregator) for m in metrics]
        for name, druid_type, role, aggregator in wanted:
            old = columns.get(name)
            if old is None:
                physical = f"c{len(columns) + 1}"
                while any(c.physical == physical for c in columns.values()):
                    physical = f"c{int(physical[1:]) + 1}"
                multi = name in self.multi_values
                columns[name] = Column(name, physical, druid_type, role, aggregator, multi)
                if existing is not None:
                    changes.append(
                        f"ALTER TABLE {table} ADD COLUMN {quote_ident(physical)} "
                        f"{columns[name].physical_type}"
                    )
                continue
            if name in self.multi_values and not old.multi_value:
                # Lists arrive in a column of single values: each value becomes a one-value
                # list, as Druid reads it anyway (a sketch column refuses, as for any widening).
                _widen(old.type, druid_type, name)
                changes.append(
                    f"ALTER TABLE {table} ALTER COLUMN {quote_ident(old.physical)} TYPE "
                    f"VARCHAR[] USING CASE WHEN {quote_ident(old.physical)} IS NULL THEN NULL "
                    f"ELSE [CAST({quote_ident(old.physical)} AS VARCHAR)] END"
                )
                columns[name] = replace(old, type="STRING", role=role, multi_value=True)
                continue
            widened = _widen(old.type, druid_type, name)
            if widened != old.type:
                changes.append(
                    f"ALTER TABLE {table} ALTER COLUMN {quote_ident(old.physical)} "
                    f"TYPE {PHYSICAL_TYPES[widened]}"
                )
            columns[name] = replace(old, type=widened, role=role, aggregator=aggregator)

        replaced: list[tuple[int, int]] = []
        if not spec.append:
            replaced = [(start, sgran.bucket_end(start)) for start, *_ in chunks]
            if spec.drop_existing and spec.intervals:
                for low, high in spec.intervals:
                    replaced.extend((b, sgran.bucket_end(b)) for b in sgran.iterate(low, high))

        next_id = ds.next_id
        new_segments: list[Segment] = []
        extended: set[int] = set()
        for start, low, high, count in chunks:
            live = self._stream_segment(ds, start, sgran.bucket_end(start))
            if live is not None:
                extended.add(live.id)
                new_segments.append(
                    replace(
                        live,
                        min_time=min(live.min_time, low),
                        max_time=max(live.max_time, high),
                        num_rows=live.num_rows + count,
                        dimensions=_merged(live.dimensions, [n for n, _ in dims]),
                        metrics=_merged(live.metrics, [m.name for m in metrics]),
                    )
                )
                continue
            version, partition = self.version, 0
            if spec.append:
                same = [
                    s for s in ds.segments if s.start == start and s.end == sgran.bucket_end(start)
                ]
                if same:
                    version = same[0].version
                    partition = max(s.partition for s in same) + 1
            new_segments.append(
                Segment(
                    id=next_id,
                    start=start,
                    end=sgran.bucket_end(start),
                    version=version,
                    partition=partition,
                    min_time=low,
                    max_time=high,
                    num_rows=count,
                    dimensions=tuple(n for n, _ in dims),
                    metrics=tuple(m.name for m in metrics),
                    query_granularity=spec.query_granularity.to_json(),
                    rollup=spec.rollup,
                    stream=self.stream,
                )
            )
            next_id += 1

        self.progress("publishing", 0.85)
        cur.execute("BEGIN TRANSACTION")
        try:
            if existing is None:
                defs = ", ".join(
                    f"{quote_ident(c.physical)} {c.physical_type}" for c in columns.values()
                )
                cur.execute(
                    f"CREATE TABLE {table} (__time BIGINT NOT NULL, __seg INTEGER NOT NULL"
                    f"{', ' + defs if defs else ''})"
                )
            for change in changes:
                cur.execute(change)
            touched = self._delete(cur, table, ds, replaced)
            target = ", ".join(
                ["__time", "__seg"]
                + [quote_ident(columns[n].physical) for n, _ in dims]
                + [quote_ident(columns[m.name].physical) for m in metrics]
            )
            values = ", ".join(
                ["s.__time", "m.sid"]
                + [f"s.d{k}" for k in range(len(dims))]
                + [f"s.m{k}" for k in range(len(metrics))]
            )
            insert = (
                Sql(f"INSERT INTO {table} ({target}) SELECT {values} FROM ")
                + source
                + Sql(
                    " AS s JOIN (SELECT unnest(?::BIGINT[]) AS ch, unnest(?::INTEGER[]) AS sid)"
                    " AS m ON s.__chunk = m.ch ORDER BY s.__time",
                    [[s.start for s in new_segments], [s.id for s in new_segments]],
                )
            )
            cur.execute(insert.text, insert.params)
            kept = [s for s in self._restat(cur, table, touched) if s.id not in extended]
            segments = tuple(
                sorted(kept + new_segments, key=lambda s: (s.start, s.version, s.partition))
            )
            updated = replace(
                ds,
                columns=columns,
                segments=segments,
                next_id=next_id,
                updated=int(time.time() * 1000),
            )
            if self.before_commit is not None:
                self.before_commit(cur)
            self.store.commit(cur, updated)
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            raise
        self.progress("done", 1.0)

    def _stream_segment(self, ds: Datasource, start: int, end: int) -> Segment | None:
        if self.stream is None:
            return None
        mine = (s for s in ds.segments if s.stream == self.stream)
        return next((s for s in mine if (s.start, s.end) == (start, end)), None)

    def _delete(
        self,
        cur: duckdb.DuckDBPyConnection,
        table: str,
        ds: Datasource,
        replaced: list[tuple[int, int]],
    ) -> tuple[list[Segment], list[Segment]]:
        """Delete rows of older segments in the replaced chunks; return (untouched, touched)."""
        if not replaced:
            return list(ds.segments), []
        condition = " OR ".join(f"(__time >= {int(s)} AND __time < {int(e)})" for s, e in replaced)
        cur.execute(f"DELETE FROM {table} WHERE {condition}")
        touched = [s for s in ds.segments if any(s.overlaps(a, b) for a, b in replaced)]
        untouched = [s for s in ds.segments if s not in touched]
        return untouched, touched

    def _restat(
        self,
        cur: duckdb.DuckDBPyConnection,
        table: str,
        split: tuple[list[Segment], list[Segment]],
    ) -> list[Segment]:
        """Older segments that kept some rows, with their statistics recomputed."""
        untouched, touched = split
        if not touched:
            return untouched
        ids = ", ".join(str(int(s.id)) for s in touched)
        stats = {
            sid: (low, high, count)
            for sid, low, high, count in cur.execute(
                f"SELECT __seg, min(__time), max(__time), count(*) FROM {table} "
                f"WHERE __seg IN ({ids}) GROUP BY 1"
            ).fetchall()
        }
        survivors = [
            replace(s, min_time=stats[s.id][0], max_time=stats[s.id][1], num_rows=stats[s.id][2])
            for s in touched
            if s.id in stats
        ]
        return untouched + survivors


def combine_sql(aggregator: dict[str, Any] | None, column: str, physical: str) -> str | None:
    """SQL merging stored values of a rolled-up metric, or None if it cannot be merged."""
    kind = (aggregator or {}).get("type")
    if kind == "filtered":
        return combine_sql(aggregator.get("aggregator"), column, physical)  # type: ignore[union-attr]
    if kind == "count":
        return f"CAST(sum({column}) AS {physical})"
    if kind == "hyperUnique":
        return f"list_distinct(flatten(list({column})))"
    if kind in _NUMERIC_METRICS:
        return f"CAST({_NUMERIC_METRICS[kind][1]}({column}) AS {physical})"
    if kind in _SKETCH_METRICS:
        if kind == "quantilesDoublesSketch":
            return sketches.quantiles_merge(column)
        params = aggregator or {}
        size = params.get("size") or (1 << params.get("lgK", sketches.HLL_DEFAULT_LG_K))
        return sketches.distinct_merge(column, int(size))
    if kind in FIRST_LAST_METRICS:
        # The table's rowid orders rows of equal times as they were pushed.
        key = f"(CASE WHEN {column} IS NULL THEN NULL ELSE {{'t': ({column}).t, 'r': rowid}} END)"
        return f"{FIRST_LAST_METRICS[kind][1]}({column}, {key})"
    return None


def compact_segment(store: Store, datasource: str, segment_id: int, *, seal: bool) -> int | None:
    """Roll a realtime segment's rows up again, as Druid does at handoff: rows of different pushes
    with the same time and dimensions become one. `seal` ends the segment's life as realtime.
    Returns the segment's row count afterwards, or None if it no longer exists."""
    with store.writer() as cur:
        ds = store.datasource(datasource)
        segment = next((s for s in ds.segments if s.id == segment_id), None) if ds else None
        if ds is None or segment is None:
            return None
        table = quote_ident(ds.table)
        columns = list(ds.columns.values())
        merged = [
            combine_sql(c.aggregator, quote_ident(c.physical), PHYSICAL_TYPES[c.type])
            for c in columns
            if c.role == "metric"
        ]
        rows = segment.num_rows
        cur.execute("BEGIN TRANSACTION")
        try:
            if segment.rollup and None not in merged:
                keys = ["__time", "__seg"] + [
                    quote_ident(c.physical) for c in columns if c.role == "dimension"
                ]
                metrics = [quote_ident(c.physical) for c in columns if c.role == "metric"]
                scratch = f"cmp_{uuid.uuid4().hex[:12]}"
                cur.execute(
                    f"CREATE TEMP TABLE {scratch} AS SELECT {', '.join(keys)}"
                    f"{''.join(f', {m} AS {c}' for m, c in zip(merged, metrics, strict=True))} "
                    f"FROM {table} WHERE __seg = ? GROUP BY ALL",
                    [segment_id],
                )
                cur.execute(f"DELETE FROM {table} WHERE __seg = ?", [segment_id])
                names = ", ".join(keys + metrics)
                cur.execute(
                    f"INSERT INTO {table} ({names}) SELECT {names} FROM {scratch} ORDER BY __time"
                )
                cur.execute(f"DROP TABLE temp.{scratch}")
                # count(*) without GROUP BY always answers exactly one row.
                rows = cur.execute(
                    f"SELECT count(*) FROM {table} WHERE __seg = ?", [segment_id]
                ).fetchall()[0][0]
            done = replace(segment, num_rows=rows, stream=None if seal else segment.stream)
            segments = tuple(done if s.id == segment_id else s for s in ds.segments)
            store.commit(cur, replace(ds, segments=segments))
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            raise
        return int(rows)
