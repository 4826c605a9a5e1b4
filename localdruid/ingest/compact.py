"""Compaction: a compact task planned as the index task Druid runs for it, re-reading the
datasource's own segments through the `druid` input source."""

from __future__ import annotations

import json
from typing import Any

from localdruid import timeutil
from localdruid.errors import InvalidInput, Unsupported
from localdruid.ingest.spec import CompactionSpec, DimensionSpec, IngestSpec
from localdruid.storage import Column, Datasource, Segment

# Segment granularities a compaction keeping the original granularity may find; finest last, so
# a chunk is matched by its own granularity before any coarser one that happens to align.
_SEGMENT_GRANULARITIES = [
    timeutil.Granularity.parse(name)
    for name in (
        "all",
        "year",
        "quarter",
        "month",
        "week",
        "day",
        "eight_hour",
        "six_hour",
        "hour",
        "thirty_minute",
        "fifteen_minute",
        "ten_minute",
        "five_minute",
        "minute",
        "second",
    )
]
# Metrics whose stored values merge with the same aggregator over the metric column itself.
_SELF_COMBINING = (
    "longSum",
    "longMin",
    "longMax",
    "doubleSum",
    "doubleMin",
    "doubleMax",
    "floatSum",
    "floatMin",
    "floatMax",
    "hyperUnique",
    "thetaSketch",
    "HLLSketchMerge",
    "quantilesDoublesSketch",
    "stringFirst",
    "stringLast",
    "longFirst",
    "longLast",
    "doubleFirst",
    "doubleLast",
    "floatFirst",
    "floatLast",
)


def compaction_plan(ds: Datasource | None, task: CompactionSpec) -> IngestSpec:
    """The ingestion a compact task amounts to, from the segments it reads: by default their
    dimensions, their metrics' combining aggregators (count becomes longSum), their segment and
    query granularities and their rollup, as Druid's CompactionTask derives them."""
    start, end = task.interval
    touched = [s for s in (ds.segments if ds else ()) if s.overlaps(start, end)]
    if ds is None or not touched:
        raise InvalidInput(
            "No segments found for compaction. Please check that datasource name and interval "
            "are correct."
        )
    if any(s.stream is not None for s in touched):
        raise Unsupported(
            "compacting realtime segments (a stream's, not yet handed off) is not supported"
        )
    if task.segment_granularity is None:
        # Druid rewrites whole segments, keeping each one's time chunk.
        segment = _segment_granularity(touched)
        read = sorted({(s.start, s.end) for s in touched})
    else:
        segment = task.segment_granularity
        widened = (segment.bucket_start(start), segment.bucket_end(end - 1))
        if widened != (start, end) and not task.allow_non_aligned:
            raise InvalidInput(
                f"Interval[{timeutil.format_interval(start, end)}] to compact is not aligned "
                f"with segmentGranularity[{json.dumps(segment.to_json())}]"
            )
        read = [(start, end)]
    if task.drop_existing and (read[0][0] < start or read[-1][1] > end):
        raise Unsupported(
            "dropExisting with an interval that does not cover whole segment time chunks is not "
            "supported by localdruid"
        )
    low, high = read[0][0], read[-1][1]
    return IngestSpec(
        task_type="compact",
        datasource=task.datasource,
        timestamp_column="__time",
        timestamp_format="millis",
        timestamp_missing=None,
        dimensions=task.dimensions or _dimensions(ds, touched, task.exclusions),
        exclusions=[],
        discover=False,
        typed_discovery=False,
        metrics=task.metrics if task.metrics is not None else _metrics(ds, touched),
        segment_granularity=segment,
        query_granularity=task.query_granularity or _query_granularity(touched),
        rollup=task.rollup if task.rollup is not None else all(s.rollup for s in touched),
        intervals=read,
        transform_filter=task.transform_filter,
        transforms=[],
        input_source={
            "type": "druid",
            "dataSource": task.datasource,
            "interval": timeutil.format_interval(low, high),
        },
        input_format={},
        append=False,
        drop_existing=task.drop_existing,
        raw=task.raw,
    )


def _segment_granularity(segments: list[Segment]) -> timeutil.Granularity:
    for granularity in reversed(_SEGMENT_GRANULARITIES):
        starts = (granularity.bucket_start(s.start) for s in segments)
        ends = (granularity.bucket_end(s.start) for s in segments)
        if all(a == s.start and b == s.end for a, b, s in zip(starts, ends, segments, strict=True)):
            return granularity
    raise Unsupported(
        "these segments have different (or non-standard) segment granularities; set "
        "granularitySpec.segmentGranularity to compact them"
    )


def _query_granularity(segments: list[Segment]) -> timeutil.Granularity:
    """The finest query granularity of the segments, as Druid keeps when compacting."""
    found = [timeutil.Granularity.parse(s.query_granularity or "none") for s in segments]
    at = segments[0].start

    def width(granularity: timeutil.Granularity) -> int:
        return granularity.bucket_end(at) - granularity.bucket_start(at)

    return min(found, key=width)


def _dimensions(ds: Datasource, segments: list[Segment], exclusions: list[str]) -> list[Any]:
    """Every dimension of the segments, those of newer segments first, with stored types."""
    names: list[str] = []
    for segment in sorted(segments, key=lambda s: s.version, reverse=True):
        names.extend(n for n in segment.dimensions if n not in names and n not in exclusions)
    return [DimensionSpec(n, ds.columns[n].type) for n in names]


def _metrics(ds: Datasource, segments: list[Segment]) -> list[dict[str, Any]]:
    names = {m for s in segments for m in s.metrics}
    return [_combining(c) for c in ds.columns.values() if c.role == "metric" and c.name in names]


def _combining(column: Column) -> dict[str, Any]:
    """The aggregator merging a metric's stored values (Druid's getCombiningFactory)."""
    aggregator = column.aggregator or {}
    kind = aggregator.get("type")
    if kind == "filtered":
        aggregator = aggregator.get("aggregator") or {}
        kind = aggregator.get("type")
    if kind == "count":
        kind = "longSum"
    if kind == "HLLSketchBuild":
        kind = "HLLSketchMerge"
    if kind not in _SELF_COMBINING:
        raise Unsupported(
            f"compaction cannot merge metric [{column.name}] of type [{kind}] in localdruid; "
            "give a metricsSpec"
        )
    combining = {"type": kind, "name": column.name, "fieldName": column.name}
    for key in ("maxStringBytes", "size", "lgK", "tgtHllType", "k"):
        if key in aggregator:
            combining[key] = aggregator[key]
    return combining
