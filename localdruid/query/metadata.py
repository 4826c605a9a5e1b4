"""Metadata queries: timeBoundary, segmentMetadata and dataSourceMetadata."""

from __future__ import annotations

from typing import Any

from localdruid import timeutil
from localdruid.errors import InvalidInput
from localdruid.jsonspec import Spec
from localdruid.query.base import (
    Execution,
    parse_intervals,
    segments_in,
    time_condition,
)
from localdruid.query.columns import datasource_resolver
from localdruid.query.filters import compile_filter
from localdruid.sql import Sql, quote_ident
from localdruid.storage import Datasource, Segment


def run_time_boundary(spec: Spec, ds: Datasource, ex: Execution) -> list[dict[str, Any]]:
    bound = spec.raw("bound")
    if isinstance(bound, str):
        bound = {"mintime": "minTime", "maxtime": "maxTime"}.get(bound.lower(), bound)
    if bound not in (None, "minTime", "maxTime"):
        raise InvalidInput(f"bound: must be minTime or maxTime, got [{bound}]")
    intervals = parse_intervals(spec, required=False)
    where = compile_filter(spec.data.get("filter"), datasource_resolver(ds))
    if not segments_in(ds, intervals):
        return []
    sql = (
        Sql(f"SELECT min(__time), max(__time) FROM {quote_ident(ds.table)} WHERE ")
        + time_condition(intervals)
        + " AND "
        + where
    )
    low, high = ex.fetch(sql)[0]
    if low is None:
        return []
    result: dict[str, Any] = {}
    if bound in (None, "minTime"):
        result["minTime"] = timeutil.format_instant(low)
    if bound in (None, "maxTime"):
        result["maxTime"] = timeutil.format_instant(high)
    timestamp = high if bound == "maxTime" else low
    return [{"timestamp": timeutil.format_instant(timestamp), "result": result}]


def run_datasource_metadata(spec: Spec, ds: Datasource, ex: Execution) -> list[dict[str, Any]]:
    if not ds.segments:
        return []
    newest = max(s.max_time for s in ds.segments)
    stamp = timeutil.format_instant(newest)
    return [{"timestamp": stamp, "result": {"maxIngestedEventTime": stamp}}]


_DEFAULT_ANALYSES = ["cardinality", "interval", "minmax"]
WEEK_MS = 7 * 86_400_000
_KNOWN_ANALYSES = {
    "cardinality",
    "interval",
    "minmax",
    "size",
    "aggregators",
    "timestampSpec",
    "queryGranularity",
    "rollup",
}


def segment_id(ds: Datasource, seg: Segment) -> str:
    interval = timeutil.format_interval(seg.start, seg.end).replace("/", "_")
    suffix = f"_{seg.partition}" if seg.partition else ""
    return f"{ds.segment_datasource(seg)}_{interval}_{seg.version}{suffix}"


def run_segment_metadata(spec: Spec, ds: Datasource, ex: Execution) -> list[dict[str, Any]]:
    default = spec.data.get("intervals") is None
    intervals = parse_intervals(spec, required=False)
    analyses = spec.raw("analysisTypes", _DEFAULT_ANALYSES)
    if not isinstance(analyses, list) or not all(isinstance(a, str) for a in analyses):
        raise InvalidInput("analysisTypes must be an array of strings")
    unknown = [a for a in analyses if a not in _KNOWN_ANALYSES]
    if unknown:
        raise InvalidInput(f"analysisTypes: unknown analysis types {unknown}")
    merge = spec.bool("merge")
    segments = _default_window(ds) if default else segments_in(ds, intervals)
    if not segments:
        return []
    groups = [segments] if merge else [[s] for s in segments]
    return [_analyze(ds, group, analyses, merge, ex) for group in groups]


def _default_window(ds: Datasource) -> list[Segment]:
    """Druid's broker default: the week before the end of the newest segment, per table (a
    union runs once per member table)."""
    ends: dict[str, int] = {}
    for seg in ds.segments:
        owner = ds.segment_datasource(seg)
        ends[owner] = max(ends.get(owner, seg.end), seg.end)
    windows = {owner: (end - WEEK_MS, end) for owner, end in ends.items()}
    return [seg for seg in ds.segments if seg.overlaps(*windows[ds.segment_datasource(seg)])]


def _analyze(
    ds: Datasource, segments: list[Segment], analyses: list[str], merged: bool, ex: Execution
) -> dict[str, Any]:
    ids = [s.id for s in segments]
    names = ["__time"] + [
        c.name
        for c in ds.columns.values()
        if any(c.name in s.dimensions or c.name in s.metrics for s in segments)
    ]
    stats = _column_stats(ds, names, ids, analyses, ex)
    columns: dict[str, Any] = {}
    for name in names:
        col = ds.columns.get(name)
        druid_type = "LONG" if name == "__time" else col.type if col else "STRING"
        is_string = druid_type == "STRING"
        cardinality, low, high, has_nulls, multiple = stats[name]
        columns[name] = {
            "typeSignature": druid_type,
            "type": druid_type.removeprefix("COMPLEX<").removesuffix(">"),
            "hasMultipleValues": bool(multiple),
            "hasNulls": bool(has_nulls),
            "size": 0,
            "cardinality": cardinality if is_string and "cardinality" in analyses else None,
            "minValue": low if is_string and "minmax" in analyses else None,
            "maxValue": high if is_string and "minmax" in analyses else None,
            "errorMessage": None,
        }
    first = segments[0]
    result: dict[str, Any] = {
        "id": "merged" if merged else segment_id(ds, first),
        "intervals": (
            [timeutil.format_interval(min(s.start for s in segments), max(s.end for s in segments))]
            if "interval" in analyses
            else None
        ),
        "columns": columns,
        "size": 0,
        "numRows": sum(s.num_rows for s in segments),
        "aggregators": _aggregators(ds, segments) if "aggregators" in analyses else None,
        "timestampSpec": None,
        "queryGranularity": first.query_granularity if "queryGranularity" in analyses else None,
        "rollup": first.rollup if "rollup" in analyses else None,
    }
    return result


def _aggregators(ds: Datasource, segments: list[Segment]) -> dict[str, Any]:
    metrics = {m for s in segments for m in s.metrics}
    return {
        c.name: c.aggregator
        for c in ds.columns.values()
        if c.name in metrics and c.aggregator is not None
    }


def _column_stats(
    ds: Datasource, names: list[str], ids: list[int], analyses: list[str], ex: Execution
) -> dict[str, tuple[Any, Any, Any, Any, Any]]:
    """Per column: cardinality, min, max, whether it has nulls, whether it has multiple
    values (only a multi-value column's rows can; then computed after the others)."""
    parts = []
    multiple = []
    for name in names:
        col = ds.columns.get(name)
        physical = quote_ident("__time" if name == "__time" else col.physical if col else name)
        if col is not None and col.multi_value:
            # Druid's dictionary of a multi-value column: its values, null if any row is null
            # or empty (or holds a null).
            values = f"flatten(list({physical}))"
            nulls = (
                f"bool_or({physical} IS NULL OR len({physical}) = 0 OR "
                f"list_bool_or(list_transform({physical}, lambda v: v IS NULL)))"
            )
            parts.append(
                f"len(list_distinct({values})) + {nulls}::INT, "
                f"list_min({values}), list_max({values}), {nulls}"
            )
            multiple.append((name, f"bool_or(len({physical}) > 1)"))
        elif col is not None and col.type == "STRING":
            parts.append(
                f"count(DISTINCT {physical}) + (count(*) > count({physical}))::INT, "
                f"min({physical}), max({physical}), bool_or({physical} IS NULL)"
            )
        else:
            parts.append(f"NULL, NULL, NULL, bool_or({physical} IS NULL)")
    parts += [sql for _, sql in multiple]
    sql = Sql(
        f"SELECT {', '.join(parts)} FROM {quote_ident(ds.table)} "
        f"WHERE __seg IN ({', '.join(str(int(i)) for i in ids)})"
    )
    row = ex.fetch(sql)[0]
    several = dict(zip([name for name, _ in multiple], row[4 * len(names) :], strict=True))
    return {
        name: (*row[4 * i : 4 * i + 4], several.get(name, False)) for i, name in enumerate(names)
    }
