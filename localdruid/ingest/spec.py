"""Ingestion specs: a Druid native batch task (`index`, `index_parallel`, `compact`) read into
typed parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from localdruid import expressions, timeutil
from localdruid.errors import InvalidInput, Unsupported
from localdruid.ingest.flatten import parse_flatten_spec
from localdruid.ingest.reader import COLUMNAR_FORMATS, CONVERTED_FORMATS
from localdruid.jsonspec import Spec
from localdruid.query.columns import MISSING, ColumnRef
from localdruid.query.filters import compile_filter
from localdruid.sql import quote_ident

TASK_TYPES = ("index", "index_parallel", "compact")
FILE_SOURCES = ("local", "inline")  # input sources that read files with the task's inputFormat
DIMENSION_TYPES = {"string": "STRING", "long": "LONG", "float": "FLOAT", "double": "DOUBLE"}


@dataclass(frozen=True)
class DimensionSpec:
    name: str
    type: str  # STRING, LONG, FLOAT, DOUBLE
    # How a string dimension stores a row's list of values: SORTED_ARRAY, SORTED_SET or ARRAY.
    multi_value_handling: str = "SORTED_ARRAY"


@dataclass
class IngestSpec:
    """Everything an ingestion task needs, validated before the task is accepted."""

    task_type: str
    datasource: str
    timestamp_column: str
    timestamp_format: str
    timestamp_missing: str | None
    dimensions: list[DimensionSpec]
    exclusions: list[str]
    discover: bool  # no dimensions listed: every other input column becomes one
    typed_discovery: bool  # useSchemaDiscovery: discovered columns keep their JSON types
    metrics: list[dict[str, Any]]
    segment_granularity: timeutil.Granularity
    query_granularity: timeutil.Granularity
    rollup: bool
    intervals: list[tuple[int, int]] | None
    transform_filter: Any
    transforms: list[tuple[str, str]]  # (name, expression), applied before the filter
    input_source: dict[str, Any]
    input_format: dict[str, Any]
    append: bool
    drop_existing: bool
    raw: dict[str, Any] = field(default_factory=dict)


def _transforms(transform: Spec | None) -> list[tuple[str, str]]:
    """Expression transforms, compiled once now so that a bad one fails the submission
    (syntax: 400, unknown function: 501) instead of the task."""
    if transform is None or not transform.raw("transforms"):
        return []
    out: list[tuple[str, str]] = []
    for i, value in enumerate(transform.list("transforms")):
        item = Spec(value, f"{transform.at('transforms')}[{i}]")
        if item.type() != "expression":
            raise Unsupported(f"transform type [{item.type()}] is not supported by localdruid")
        name, expression = item.str("name"), item.str("expression")
        if name == "__time":
            raise Unsupported("a transform of __time is not supported by localdruid")
        if name in (n for n, _ in out):
            raise InvalidInput(f"Transform [{name}] is defined more than once")
        expressions.compile_expression(expression, lambda _: MISSING)
        out.append((name, expression))
    return out


def _granularity(value: Any, default: str, where: str) -> timeutil.Granularity:
    if isinstance(value, dict) and value.get("type") == "uniform":
        raise Unsupported(f"{where}: uniform granularity specs are not supported")
    try:
        return timeutil.Granularity.parse(default if value is None else value)
    except ValueError as exc:
        raise InvalidInput(f"{where}: {exc}") from None


MULTI_VALUE_HANDLINGS = ("SORTED_ARRAY", "SORTED_SET", "ARRAY")


def _dimensions(spec: Spec) -> list[DimensionSpec]:
    out: list[DimensionSpec] = []
    for i, item in enumerate(spec.list("dimensions", [])):
        where = f"{spec.at('dimensions')}[{i}]"
        if isinstance(item, str):
            out.append(DimensionSpec(item, "STRING"))
            continue
        dim = Spec(item, where)
        kind = str(dim.raw("type", "string"))
        if kind not in DIMENSION_TYPES:
            if kind in ("json", "auto", "spatial"):
                raise Unsupported(f"{where}: dimension type [{kind}] is not supported")
            raise InvalidInput(f"{where}: unknown dimension type [{kind}]")
        handling = str(dim.raw("multiValueHandling") or "SORTED_ARRAY").upper()
        if handling not in MULTI_VALUE_HANDLINGS:
            raise InvalidInput(
                f"{where}.multiValueHandling: unknown value [{dim.raw('multiValueHandling')}], "
                f"expected one of {list(MULTI_VALUE_HANDLINGS)}"
            )
        out.append(DimensionSpec(dim.str("name"), DIMENSION_TYPES[kind], handling))
    names = [d.name for d in out]
    if len(set(names)) != len(names):
        raise InvalidInput(f"{spec.at('dimensions')}: duplicate dimension names")
    return out


def _reads_files(source: Spec) -> bool:
    """Validate an input source (delegates included); True if some part of it reads files, which
    then need the task's inputFormat. The `druid` source has its own fixed format."""
    kind = source.type()
    if kind in FILE_SOURCES:
        return True
    if kind == "druid":
        source.str("dataSource")
        _interval(source, "interval")
        # Druid accepts `dimensions` and `metrics` here only for older specs and ignores them:
        # the columns read follow from the dataSchema (apache/druid#10267).
        for key in ("dimensions", "metrics"):
            if not all(isinstance(x, str) for x in source.list(key, [])):
                raise InvalidInput(f"{source.at(key)} must be a list of column names")
        if source.has("filter"):
            # Checked now so that a bad filter answers 400; compiled again against the columns.
            compile_filter(
                source.raw("filter"),
                lambda name: ColumnRef(quote_ident(name), "STRING"),
                source.at("filter"),
            )
        return False
    if kind == "combining":
        delegates = source.list("delegates")
        if not delegates:
            raise InvalidInput(f"{source.at('delegates')} must not be empty")
        files = [
            _reads_files(Spec(d, f"{source.at('delegates')}[{i}]")) for i, d in enumerate(delegates)
        ]
        return any(files)
    raise Unsupported(f"inputSource type [{kind}] is not supported by localdruid")


def _interval(spec: Spec, key: str) -> tuple[int, int]:
    try:
        start, end = timeutil.parse_interval(spec.str(key))
    except ValueError as exc:
        raise InvalidInput(f"{spec.at(key)}: {exc}") from None
    if start >= end:
        raise InvalidInput(f"{spec.at(key)}: the interval [{spec.str(key)}] is empty")
    return start, end


def parse_task(task: Any) -> IngestSpec | CompactionSpec:
    """Any task the overlord accepts."""
    root = Spec(task, "task")
    task_type = root.type()
    if task_type not in TASK_TYPES:
        if task_type in ("index_hadoop", "kill", "noop", "index_kafka"):
            raise Unsupported(f"Task type [{task_type}] is not supported by localdruid")
        raise InvalidInput(f"Could not resolve type id '{task_type}' as a subtype of task")
    if task_type == "compact":
        return _compaction(root, task)
    return parse_index_task(task)


def parse_index_task(task: Any) -> IngestSpec:
    """An `index` or `index_parallel` task."""
    root = Spec(task, "task")
    task_type = root.type()
    if task_type not in ("index", "index_parallel"):
        raise InvalidInput(f"Task type [{task_type}] is not an index task")
    body = root.obj("spec")
    schema = body.obj("dataSchema")
    if schema.has("parser"):
        raise Unsupported(
            "dataSchema.parser (the legacy parser) is not supported; "
            "use timestampSpec, dimensionsSpec and ioConfig.inputFormat"
        )
    io = body.obj("ioConfig")
    if io.has("firehose"):
        raise Unsupported("ioConfig.firehose is not supported; use inputSource")
    datasource = schema.str("dataSource")
    if not datasource.strip():
        raise InvalidInput("dataSchema.dataSource must not be empty")

    ts = schema.opt_obj("timestampSpec") or Spec({}, "dataSchema.timestampSpec")
    ts_format = ts.str("format", "auto")
    try:
        timeutil.timestamp_sql("x", ts_format)
    except ValueError as exc:
        raise InvalidInput(f"{ts.at('format')}: {exc}") from None
    missing = ts.raw("missingValue")

    dims = schema.opt_obj("dimensionsSpec") or Spec({}, "dataSchema.dimensionsSpec")
    dimensions = _dimensions(dims)
    exclusions = [str(x) for x in dims.list("dimensionExclusions", [])]
    if dims.raw("spatialDimensions"):
        raise Unsupported("spatialDimensions are not supported")

    metrics = schema.list("metricsSpec", [])
    for i, metric in enumerate(metrics):
        Spec(metric, f"dataSchema.metricsSpec[{i}]").str("name")

    gran = schema.opt_obj("granularitySpec") or Spec({}, "dataSchema.granularitySpec")
    intervals = None
    if gran.raw("intervals"):
        try:
            intervals = timeutil.parse_intervals(gran.raw("intervals"))
        except ValueError as exc:
            raise InvalidInput(f"{gran.at('intervals')}: {exc}") from None

    transform = schema.opt_obj("transformSpec")
    transforms = _transforms(transform)

    source = io.obj("inputSource")
    input_format = io.raw("inputFormat")
    if _reads_files(source):
        if input_format is None:
            raise InvalidInput("Missing required field [inputFormat] in ioConfig")
        fmt = Spec(input_format, "ioConfig.inputFormat")
        format_type = fmt.type()
        if format_type not in ("json", "csv", "tsv", *COLUMNAR_FORMATS):
            raise Unsupported(f"inputFormat type [{format_type}] is not supported by localdruid")
        if format_type in ("json", *COLUMNAR_FORMATS):
            parse_flatten_spec(fmt.raw("flattenSpec"), fmt.at("flattenSpec"), format_type)
        if format_type == "parquet":
            fmt.bool("binaryAsString")
        if format_type in CONVERTED_FORMATS:
            # Imported here: pyarrow costs half a second and 50 MB at import; only ORC and Avro
            # tasks pay it.
            from localdruid.ingest.conversion import check_input_format

            check_input_format(fmt)

    return IngestSpec(
        task_type=task_type,
        datasource=datasource,
        timestamp_column=ts.str("column", "timestamp"),
        timestamp_format=ts_format,
        timestamp_missing=None if missing is None else str(missing),
        dimensions=dimensions,
        exclusions=exclusions,
        discover=not dimensions,
        typed_discovery=dims.bool("useSchemaDiscovery"),
        metrics=metrics,
        segment_granularity=_granularity(
            gran.raw("segmentGranularity"), "day", "granularitySpec.segmentGranularity"
        ),
        query_granularity=_granularity(
            gran.raw("queryGranularity"), "none", "granularitySpec.queryGranularity"
        ),
        rollup=gran.bool("rollup", True),
        intervals=intervals,
        transform_filter=None if transform is None else transform.raw("filter"),
        transforms=transforms,
        input_source=source.data,
        input_format=input_format or {},
        append=io.bool("appendToExisting"),
        drop_existing=io.bool("dropExisting"),
        raw=task,
    )


@dataclass
class CompactionSpec:
    """A compact task: which data to rewrite and what to change; the rest (dimensions, metrics,
    granularities, rollup) is taken from the datasource's segments when the task runs."""

    datasource: str
    interval: tuple[int, int]
    allow_non_aligned: bool
    drop_existing: bool
    segment_granularity: timeutil.Granularity | None
    query_granularity: timeutil.Granularity | None
    rollup: bool | None
    dimensions: list[DimensionSpec] | None  # None: the dimensions of the segments read
    exclusions: list[str]
    metrics: list[dict[str, Any]] | None  # None: the combining form of the segments' metrics
    transform_filter: Any
    task_type: str = "compact"
    raw: dict[str, Any] = field(default_factory=dict)


def _compaction(root: Spec, task: dict[str, Any]) -> CompactionSpec:
    datasource = root.str("dataSource")
    if not datasource.strip():
        raise InvalidInput("dataSource must not be empty")
    if root.has("segments"):
        raise Unsupported("compact task field [segments] is not supported by localdruid")
    io = root.opt_obj("ioConfig")
    if io is not None:
        # As in Druid, ioConfig wins over the deprecated top-level interval.
        input_spec = io.obj("inputSpec")
        if input_spec.type() != "interval":
            raise Unsupported(
                f"compact inputSpec type [{input_spec.type()}] is not supported by localdruid; "
                "use type interval"
            )
        interval = _interval(input_spec, "interval")
    elif root.has("interval"):
        interval = _interval(root, "interval")
    else:
        raise InvalidInput("Missing required field [ioConfig] in task (type [compact])")

    gran = root.opt_obj("granularitySpec") or Spec({}, "granularitySpec")
    segment = None
    if gran.has("segmentGranularity"):
        segment = _granularity(gran.raw("segmentGranularity"), "", gran.at("segmentGranularity"))
    if root.has("segmentGranularity"):
        legacy = _granularity(root.raw("segmentGranularity"), "", "segmentGranularity")
        if segment is not None and segment.to_json() != legacy.to_json():
            raise InvalidInput(
                "segmentGranularity and granularitySpec.segmentGranularity differ; set only one"
            )
        segment = legacy
    if segment is not None and segment.kind == "none":
        raise InvalidInput("granularitySpec.segmentGranularity cannot be none")
    query = None
    if gran.has("queryGranularity"):
        query = _granularity(gran.raw("queryGranularity"), "", gran.at("queryGranularity"))
        if query.kind == "all":
            raise InvalidInput("granularitySpec.queryGranularity cannot be all")

    # `dimensions` is the deprecated name of dimensionsSpec, still read by Druid.
    dims = root.opt_obj("dimensionsSpec") or root.opt_obj("dimensions")
    dims = dims or Spec({}, "dimensionsSpec")
    if dims.raw("spatialDimensions"):
        raise Unsupported("spatialDimensions are not supported")
    dimensions = _dimensions(dims) or None
    metrics = root.raw("metricsSpec")
    if metrics is not None:
        metrics = root.list("metricsSpec")
        for i, metric in enumerate(metrics):
            Spec(metric, f"metricsSpec[{i}]").str("name")
    transform = root.opt_obj("transformSpec")
    if transform is not None and transform.raw("transforms"):
        raise Unsupported("transformSpec.transforms (expressions) are not supported yet")
    if root.raw("projections"):
        raise Unsupported("projections are not supported by localdruid")
    rollup = gran.raw("rollup")
    return CompactionSpec(
        datasource=datasource,
        interval=interval,
        allow_non_aligned=io is not None and io.bool("allowNonAlignedInterval"),
        drop_existing=io is not None and io.bool("dropExisting"),
        segment_granularity=segment,
        query_granularity=query,
        rollup=None if rollup is None else gran.bool("rollup"),
        dimensions=dimensions,
        exclusions=[str(x) for x in dims.list("dimensionExclusions", [])],
        metrics=metrics,
        transform_filter=None if transform is None else transform.raw("filter"),
        raw=task,
    )
