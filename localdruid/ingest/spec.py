"""Ingestion specs: a Druid native batch task (`index`, `index_parallel`) read into typed parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from localdruid import timeutil
from localdruid.errors import InvalidInput, Unsupported
from localdruid.jsonspec import Spec

TASK_TYPES = ("index", "index_parallel")
DIMENSION_TYPES = {"string": "STRING", "long": "LONG", "float": "FLOAT", "double": "DOUBLE"}


@dataclass(frozen=True)
class DimensionSpec:
    name: str
    type: str  # STRING, LONG, FLOAT, DOUBLE


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
    input_source: dict[str, Any]
    input_format: dict[str, Any]
    append: bool
    drop_existing: bool
    raw: dict[str, Any] = field(default_factory=dict)


def _granularity(value: Any, default: str, where: str) -> timeutil.Granularity:
    if isinstance(value, dict) and value.get("type") == "uniform":
        raise Unsupported(f"{where}: uniform granularity specs are not supported")
    try:
        return timeutil.Granularity.parse(default if value is None else value)
    except ValueError as exc:
        raise InvalidInput(f"{where}: {exc}") from None


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
        if dim.raw("multiValueHandling") not in (None, "SORTED_ARRAY", "sorted_array"):
            raise Unsupported(f"{where}: multiValueHandling is not supported")
        out.append(DimensionSpec(dim.str("name"), DIMENSION_TYPES[kind]))
    names = [d.name for d in out]
    if len(set(names)) != len(names):
        raise InvalidInput(f"{spec.at('dimensions')}: duplicate dimension names")
    return out


def parse_task(task: Any) -> IngestSpec:
    root = Spec(task, "task")
    task_type = root.type()
    if task_type not in TASK_TYPES:
        if task_type in ("compact", "index_hadoop", "kill", "noop", "index_kafka"):
            raise Unsupported(f"Task type [{task_type}] is not supported by localdruid")
        raise InvalidInput(f"Could not resolve type id '{task_type}' as a subtype of task")
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
    if transform is not None and transform.raw("transforms"):
        raise Unsupported("transformSpec.transforms (expressions) are not supported yet")

    source = io.obj("inputSource")
    input_format = io.raw("inputFormat")
    source_type = source.type()
    if source_type not in ("local", "inline"):
        raise Unsupported(f"inputSource type [{source_type}] is not supported by localdruid")
    if input_format is None:
        raise InvalidInput("Missing required field [inputFormat] in ioConfig")
    format_type = Spec(input_format, "ioConfig.inputFormat").type()
    if format_type not in ("json", "csv", "tsv"):
        raise Unsupported(f"inputFormat type [{format_type}] is not supported by localdruid")
    if Spec(input_format, "ioConfig.inputFormat").raw("flattenSpec"):
        raise Unsupported("json flattenSpec is not supported yet")

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
        input_source=source.data,
        input_format=input_format,
        append=io.bool("appendToExisting"),
        drop_existing=io.bool("dropExisting"),
        raw=task,
    )
