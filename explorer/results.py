"""Results: Druid's per-type result shapes normalized to one tidy {columns, rows} table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from explorer.errors import DruidRejected

_LONG_AGGREGATORS = {
    "count",
    "longSum",
    "longMin",
    "longMax",
    "longFirst",
    "longLast",
    "longAny",
    "quantilesDoublesSketch",
}
_STRING_AGGREGATORS = {"stringFirst", "stringLast", "stringAny"}
_OUTPUT_TYPES = {"STRING": "string", "LONG": "long", "FLOAT": "double", "DOUBLE": "double"}


def aggregator_type(agg: dict[str, Any]) -> str:
    kind = agg.get("type")
    if kind == "filtered" and isinstance(agg.get("aggregator"), dict):
        return aggregator_type(agg["aggregator"])
    if kind in _LONG_AGGREGATORS or (kind in ("hyperUnique", "cardinality") and agg.get("round")):
        return "long"
    if kind in _STRING_AGGREGATORS:
        return "string"
    return "double"


def aggregator_name(agg: dict[str, Any]) -> str:
    if agg.get("name"):
        return str(agg["name"])
    inner = agg.get("aggregator")
    return str(inner.get("name")) if isinstance(inner, dict) else ""


def _post_type(post: dict[str, Any], known: dict[str, str]) -> str:
    kind = post.get("type")
    if kind in ("fieldAccess", "finalizingFieldAccess"):
        return known.get(str(post.get("fieldName")), "double")
    if kind == "constant":
        return "long" if isinstance(post.get("value"), int) else "double"
    if kind in ("longGreatest", "longLeast"):
        return "long"
    return "double"


def dimension_column(spec: Any) -> tuple[str, str]:
    if isinstance(spec, str):
        return spec, "string"
    if isinstance(spec, dict):
        name = spec.get("outputName") or spec.get("dimension")
        if not name and isinstance(spec.get("delegate"), dict):
            return dimension_column(spec["delegate"])
        return str(name), _OUTPUT_TYPES.get(str(spec.get("outputType", "STRING")).upper(), "string")
    return str(spec), "string"


def columns_of(query: dict[str, Any]) -> list[dict[str, str]]:
    """The columns a query's result has, in a fixed order: time, dimensions, metrics."""
    columns = [{"name": "timestamp", "type": "time"}]
    kind = query.get("queryType")
    if kind == "topN":
        name, type_ = dimension_column(query.get("dimension"))
        columns.append({"name": name, "type": type_})
    elif kind == "groupBy":
        for spec in query.get("dimensions") or []:
            name, type_ = dimension_column(spec)
            columns.append({"name": name, "type": type_})
    known: dict[str, str] = {}
    for agg in query.get("aggregations") or []:
        known[aggregator_name(agg)] = aggregator_type(agg)
        columns.append({"name": aggregator_name(agg), "type": known[aggregator_name(agg)]})
    for post in query.get("postAggregations") or []:
        known[str(post.get("name"))] = _post_type(post, known)
        columns.append({"name": str(post.get("name")), "type": known[str(post.get("name"))]})
    return columns


def _timeseries(raw: list[Any]) -> list[tuple[Any, dict[str, Any]]]:
    return [(item.get("timestamp"), item.get("result") or {}) for item in raw]


def _topn(raw: list[Any]) -> list[tuple[Any, dict[str, Any]]]:
    return [(item.get("timestamp"), row) for item in raw for row in item.get("result") or []]


def _groupby(raw: list[Any]) -> list[tuple[Any, dict[str, Any]]]:
    return [(item.get("timestamp"), item.get("event") or {}) for item in raw]


_SHAPES: dict[str, Callable[[list[Any]], list[tuple[Any, dict[str, Any]]]]] = {
    "timeseries": _timeseries,
    "topN": _topn,
    "groupBy": _groupby,
}


def normalize(query: dict[str, Any], raw: list[Any]) -> dict[str, Any]:
    """{columns: [{name, type}], rows: [[...], ...]} for a timeseries, topN or groupBy result."""
    columns = columns_of(query)
    names = [c["name"] for c in columns[1:]]
    shape = _SHAPES[query["queryType"]]
    try:
        rows = [
            [timestamp, *(values.get(name) for name in names)]
            for timestamp, values in shape([item for item in raw if isinstance(item, dict)])
        ]
    except (AttributeError, TypeError):  # a 200 answer that is not a result of this type
        raise DruidRejected(
            f"Druid's answer does not have the shape of a {query['queryType']} result"
        ) from None
    return {"columns": columns, "rows": rows}
