"""Definitions: a saved query's Druid parts as plain data, validated, and mapped to and from
Druid's native JSON."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS

from explorer import intervals
from explorer.validation import validate_query

# Druid query key -> the model field (and API field) that holds it.
DRUID_FIELDS: dict[str, str] = {
    "queryType": "query_type",
    "dataSource": "datasource",
    "intervals": "interval",
    "granularity": "granularity",
    "dimension": "dimensions",
    "dimensions": "dimensions",
    "metric": "metric",
    "threshold": "threshold",
    "filter": "filter",
    "aggregations": "aggregations",
    "postAggregations": "post_aggregations",
    "having": "having",
    "limitSpec": "limit_spec",
    "descending": "descending",
    "context": "context",
}
FIELDS = (
    "query_type", "datasource", "interval", "granularity", "dimensions", "metric", "threshold",
    "filter", "aggregations", "post_aggregations", "having", "limit_spec", "descending",
    "context", "extra",
)  # fmt: skip
_PLACEHOLDER_INTERVAL = "2000-01-01T00:00:00.000Z/2000-01-02T00:00:00.000Z"
# druid_json leaves empty parts out (or puts in the default granularity), so the validator never
# sees a falsy value of the wrong kind there (0, false, {} for a list): the only empty values kept.
_EMPTY_VALUES: dict[str, tuple[Any, str]] = {
    "granularity": ("", "a granularity name or object"),
    "dimensions": ([], "a JSON array"),
    "aggregations": ([], "a JSON array"),
    "post_aggregations": ([], "a JSON array"),
    "context": ({}, "a JSON object"),
}


def definition_of(obj: Any) -> dict[str, Any]:
    """The definition fields of a saved query (or anything with those attributes)."""
    return {name: getattr(obj, name, None) for name in FIELDS}


def druid_json(definition: dict[str, Any], *, interval: str | None = None) -> dict[str, Any]:
    """The native Druid query for a definition; `interval` is the resolved absolute interval."""
    kind = definition.get("query_type")
    query: dict[str, Any] = {
        "queryType": kind,
        "dataSource": definition.get("datasource"),
        "intervals": [interval or _PLACEHOLDER_INTERVAL],
        "granularity": definition.get("granularity") if definition.get("granularity") else "all",
    }
    dims = definition.get("dimensions") or []
    if kind == "topN":
        query["dimension"] = dims[0] if isinstance(dims, list) and len(dims) == 1 else dims
        query["metric"] = definition.get("metric")
        query["threshold"] = definition.get("threshold")
    elif kind == "groupBy":
        query["dimensions"] = dims
    if definition.get("filter") is not None:
        query["filter"] = definition["filter"]
    query["aggregations"] = definition.get("aggregations") or []
    if definition.get("post_aggregations"):
        query["postAggregations"] = definition["post_aggregations"]
    if kind == "groupBy":
        for field, key in (("having", "having"), ("limit_spec", "limitSpec")):
            if definition.get(field) is not None:
                query[key] = definition[field]
    if kind == "timeseries" and definition.get("descending"):
        query["descending"] = True
    if definition.get("context"):
        query["context"] = definition["context"]
    extra = definition.get("extra") or {}
    if isinstance(extra, dict):
        query.update({k: v for k, v in extra.items() if k not in query})
    return query


def definition_errors(definition: dict[str, Any]) -> dict[str, list[str]]:
    """Every problem with a definition, keyed by model field (NON_FIELD_ERRORS for the rest)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    problem = intervals.interval_error(definition.get("interval"))
    if problem:
        add("interval", problem)
    kind = definition.get("query_type")
    dims = definition.get("dimensions")
    if kind == "topN" and not (isinstance(dims, list) and len(dims) == 1):
        add("dimensions", "A topN query groups on exactly one dimension.")
    if kind != "groupBy":
        for field in ("having", "limit_spec"):
            if definition.get(field) is not None:
                add(field, "Only groupBy queries take this.")
    for field, (empty, kind) in _EMPTY_VALUES.items():
        value = definition.get(field)
        if value is not None and not value and (type(value), value) != (type(empty), empty):
            add(field, f"Must be {kind}.")
    extra = definition.get("extra")
    extras = extra if isinstance(extra, dict) else {}
    if extra is not None and not isinstance(extra, dict):
        add("extra", "Must be a JSON object.")
    elif extras:
        clashes = sorted(set(extras) & set(DRUID_FIELDS))
        if clashes:
            add("extra", f"Set {', '.join(clashes)} in their own fields, not here.")
    for path, messages in validate_query(druid_json(definition), check_intervals=False).items():
        key = path.split(".")[0].split("[")[0]
        field = DRUID_FIELDS.get(key, "extra" if key in extras else NON_FIELD_ERRORS)
        for message in messages:
            add(field, message if path == key else f"{path}: {message}")
    return errors


def definition_from_druid(query: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A definition from a raw native Druid query (an import), with its problems if any."""
    if not isinstance(query, dict):
        return {}, {NON_FIELD_ERRORS: ["A Druid query must be a JSON object."]}
    problems: dict[str, list[str]] = {}
    raw_intervals = query.get("intervals")
    if isinstance(raw_intervals, str):
        raw_intervals = [raw_intervals]
    if not isinstance(raw_intervals, list) or len(raw_intervals) != 1:
        problems["interval"] = ["A saved query has exactly one interval."]
        interval = ""
    else:
        interval = str(raw_intervals[0])
    datasource = query.get("dataSource")
    if isinstance(datasource, dict) and datasource.get("type") == "table":
        datasource = datasource.get("name")
    if not isinstance(datasource, str):
        problems["datasource"] = ["Only table datasources (a name) can be saved."]
    kind = query.get("queryType")
    dimension = query.get("dimension")
    definition: dict[str, Any] = {
        "query_type": kind,
        "datasource": datasource if isinstance(datasource, str) else "",
        "interval": interval,
        "granularity": query.get("granularity", "all"),
        "dimensions": [dimension]
        if kind == "topN" and dimension is not None
        else query.get("dimensions", []),
        "metric": query.get("metric"),
        "threshold": query.get("threshold"),
        "filter": query.get("filter"),
        "aggregations": query.get("aggregations", []),
        "post_aggregations": query.get("postAggregations", []),
        "having": query.get("having"),
        "limit_spec": query.get("limitSpec"),
        "descending": bool(query.get("descending", False)),
        "context": query.get("context", {}),
        "extra": {k: v for k, v in query.items() if k not in DRUID_FIELDS},
    }
    errors = definition_errors(definition) if not problems else {}
    for field, messages in problems.items():
        errors.setdefault(field, []).extend(messages)
    return definition, errors
