"""Differential test: random small datasets and random native queries, answered by localdruid
over HTTP and by a reference evaluator written here in plain Python (row by row: no DuckDB, no
SQL). They must agree exactly.

The reference follows Druid's documented semantics with SQL-compatible null handling:
- filters: `selector`, `in`, `bound` (lexicographic and numeric, both ends), `not`, `and`, `or`,
  in three-valued logic (a comparison with a null is unknown, and `not` of unknown is unknown);
- aggregators: `count`, `longSum`/`longMin`/`longMax`, `doubleSum`/`doubleMin`/`doubleMax` ignore
  nulls and are null over no values, `filtered`;
- granularities: `hour`, `day`, and `period` buckets in a time zone, printed with the zone's offset;
- timeseries (with `skipEmptyBuckets`: the filling of empty buckets has its own tests), topN by a
  numeric metric (ties in ascending dimension order, null first), groupBy with `having` and a
  `limitSpec` whose columns order the rows completely.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.localdruid.harness import LocalDruid, inline_task

START = datetime(2024, 1, 1, tzinfo=UTC)
INTERVALS = {
    "2024-01-01T00:00:00.000Z/2024-01-03T00:00:00.000Z": (START, START + timedelta(days=2)),
    "2024-01-01T06:00:00.000Z/2024-01-02T12:00:00.000Z": (
        START + timedelta(hours=6),
        START + timedelta(hours=36),
    ),
}
GRANULARITIES: list[Any] = [
    "hour",
    "day",
    {"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"},
    {"type": "period", "period": "PT6H", "timeZone": "Asia/Kolkata"},
]
AGGREGATORS: dict[str, dict[str, Any]] = {
    "rows": {"type": "count", "name": "rows"},
    "n_sum": {"type": "longSum", "name": "n_sum", "fieldName": "n"},
    "n_min": {"type": "longMin", "name": "n_min", "fieldName": "n"},
    "n_max": {"type": "longMax", "name": "n_max", "fieldName": "n"},
    "v_sum": {"type": "doubleSum", "name": "v_sum", "fieldName": "v"},
    "v_min": {"type": "doubleMin", "name": "v_min", "fieldName": "v"},
    "v_max": {"type": "doubleMax", "name": "v_max", "fieldName": "v"},
}
# Metrics never null in this data (n always has a value): safe to order topN and limitSpec by.
ORDERABLE = ("rows", "n_sum", "n_max")

# -- data --------------------------------------------------------------------------------------

rows_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "minute": st.integers(0, 2 * 24 * 60 - 1),
            "a": st.sampled_from(["x", "y", "z", None]),
            "b": st.sampled_from(["p", "q", None]),
            "n": st.integers(-5, 20),
            "v": st.none() | st.integers(-4, 20).map(lambda k: k / 2),  # exact in binary
        }
    ),
    min_size=1,
    max_size=25,
)


def _row_time(row: dict[str, Any]) -> datetime:
    return START + timedelta(minutes=row["minute"])


# -- filters -----------------------------------------------------------------------------------


def _selector() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.fixed_dictionaries(
            {
                "type": st.just("selector"),
                "dimension": st.just("a"),
                "value": st.sampled_from(["x", "y", "w", None]),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("selector"),
                "dimension": st.just("b"),
                "value": st.sampled_from(["p", "q", None]),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("in"),
                "dimension": st.sampled_from(["a", "b"]),
                "values": st.lists(st.sampled_from(["x", "y", "p", "w"]), min_size=1, max_size=3),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("bound"),
                "dimension": st.just("a"),
                "lower": st.sampled_from(["a", "x", "y"]),
                "upper": st.sampled_from(["y", "z", "zz"]),
                "lowerStrict": st.booleans(),
                "upperStrict": st.booleans(),
                "ordering": st.just("lexicographic"),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("bound"),
                "dimension": st.just("n"),
                "lower": st.integers(-5, 10).map(str),
                "upper": st.integers(0, 25).map(str),
                "lowerStrict": st.booleans(),
                "upperStrict": st.booleans(),
                "ordering": st.just("numeric"),
            }
        ),
    )


filters: st.SearchStrategy[dict[str, Any]] = st.recursive(
    _selector(),
    lambda inner: st.one_of(
        st.fixed_dictionaries({"type": st.just("not"), "field": inner}),
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["and", "or"]),
                "fields": st.lists(inner, min_size=1, max_size=3),
            }
        ),
    ),
    max_leaves=4,
)


def truth(flt: dict[str, Any], row: dict[str, Any]) -> bool | None:
    """Three-valued: True, False, or None for unknown (a comparison involving a null)."""
    kind = flt["type"]
    if kind == "not":
        inner = truth(flt["field"], row)
        return None if inner is None else not inner
    if kind in ("and", "or"):
        values = [truth(f, row) for f in flt["fields"]]
        if kind == "and":
            return False if False in values else (None if None in values else True)
        return True if True in values else (None if None in values else False)
    value = row[flt["dimension"]]
    if kind == "selector":
        if flt["value"] is None:
            return value is None
        return None if value is None else str(value) == flt["value"]
    if kind == "in":
        return None if value is None else str(value) in flt["values"]
    if kind == "bound":
        if value is None:
            return None
        if flt["ordering"] == "numeric":
            key: Any = float(value)
            lower, upper = float(flt["lower"]), float(flt["upper"])
        else:
            key, lower, upper = str(value), flt["lower"], flt["upper"]
        above = key > lower if flt["lowerStrict"] else key >= lower
        below = key < upper if flt["upperStrict"] else key <= upper
        return above and below
    raise AssertionError(kind)


def matches(flt: dict[str, Any] | None, row: dict[str, Any]) -> bool:
    return flt is None or truth(flt, row) is True


# -- aggregation -------------------------------------------------------------------------------


def aggregate(spec: dict[str, Any], rows: list[dict[str, Any]]) -> Any:
    if spec["type"] == "filtered":
        return aggregate(spec["aggregator"], [r for r in rows if matches(spec["filter"], r)])
    if spec["type"] == "count":
        return len(rows)
    values = [r[spec["fieldName"]] for r in rows if r[spec["fieldName"]] is not None]
    if not values:
        return None
    kind, cast = spec["type"], (int if spec["type"].startswith("long") else float)
    if kind.endswith("Sum"):
        return cast(sum(values))
    return cast(min(values) if kind.endswith("Min") else max(values))


def bucket(gran: Any, when: datetime) -> str:
    """The start of the granularity bucket holding `when`, as Druid prints it."""
    if gran == "hour":
        start = when.replace(minute=0)
    elif gran == "day":
        start = when.replace(hour=0, minute=0)
    else:
        local = when.astimezone(ZoneInfo(gran["timeZone"]))
        hours = 24 if gran["period"] == "P1D" else 6
        start = local.replace(hour=local.hour - local.hour % hours, minute=0)
    text = start.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _selected(rows: list[dict[str, Any]], query: dict[str, Any]) -> list[dict[str, Any]]:
    begin, end = INTERVALS[query["intervals"][0]]
    return [
        row for row in rows if begin <= _row_time(row) < end and matches(query.get("filter"), row)
    ]


def _grouped(
    rows: list[dict[str, Any]], gran: Any, keys: list[str]
) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        stamp = "all" if gran == "all" else bucket(gran, _row_time(row))
        groups.setdefault((stamp, *(row[k] for k in keys)), []).append(row)
    return groups


def null_first(value: Any) -> tuple[bool, Any]:
    return (value is not None, value if value is not None else "")


def reference(rows: list[dict[str, Any]], query: dict[str, Any]) -> Any:
    selected = _selected(rows, query)
    aggs = query["aggregations"]
    gran = query["granularity"]
    kind = query["queryType"]
    if kind == "timeseries":
        groups = _grouped(selected, gran, [])
        return [
            {"timestamp": key[0], "result": {a["name"]: aggregate(a, group) for a in aggs}}
            for key, group in sorted(groups.items())
        ]
    if kind == "topN":
        dim, metric = query["dimension"], query["metric"]["metric"]
        by_bucket: dict[str, list[dict[str, Any]]] = {}
        for key, group in _grouped(selected, gran, [dim]).items():
            entry = {dim: key[1], **{a["name"]: aggregate(a, group) for a in aggs}}
            by_bucket.setdefault(key[0], []).append(entry)
        return {
            stamp: sorted(entries, key=lambda e: (-e[metric], null_first(e[dim])))[
                : query["threshold"]
            ]
            for stamp, entries in by_bucket.items()
        }
    # groupBy
    dims = query["dimensions"]
    out = []
    for key, group in sorted(
        _grouped(selected, gran, dims).items(),
        key=lambda item: (item[0][0], *(null_first(v) for v in item[0][1:])),
    ):
        event = {**dict(zip(dims, key[1:], strict=True))}
        event.update({a["name"]: aggregate(a, group) for a in aggs})
        having = query.get("having")
        if having and not (event[having["aggregation"]] > having["value"]):
            continue
        out.append((key[0], event))
    limit_spec = query.get("limitSpec")
    if limit_spec:
        for column in reversed(limit_spec["columns"]):  # stable sorts, last key first
            name, descending = column["dimension"], column["direction"] == "descending"
            out.sort(key=lambda item, n=name: null_first(item[1][n]), reverse=descending)
        # Time first (context sortByDimsFirst is false by default), then the limitSpec's columns.
        out.sort(key=lambda item: item[0])
        out = out[: limit_spec["limit"]]
    return out


# -- queries -----------------------------------------------------------------------------------


@st.composite
def queries(draw: st.DrawFn, datasource: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["timeseries", "topN", "groupBy"]))
    names = draw(
        st.lists(st.sampled_from(sorted(AGGREGATORS)), min_size=1, max_size=4, unique=True)
    )
    aggs = [AGGREGATORS[name] for name in names]
    if draw(st.booleans()):
        inner = dict(draw(st.sampled_from(list(AGGREGATORS.values()))), name="some")
        aggs.append(
            {"type": "filtered", "name": "some", "filter": draw(filters), "aggregator": inner}
        )
    query: dict[str, Any] = {
        "queryType": kind,
        "dataSource": datasource,
        "intervals": [draw(st.sampled_from(sorted(INTERVALS)))],
        "granularity": draw(
            st.sampled_from(GRANULARITIES if kind == "timeseries" else ["all", *GRANULARITIES])
        ),
        "aggregations": aggs,
    }
    if draw(st.booleans()):
        query["filter"] = draw(filters)
    if kind == "timeseries":
        query["context"] = {"skipEmptyBuckets": True}
    elif kind == "topN":
        metric = draw(st.sampled_from(ORDERABLE))
        if metric not in names:
            aggs.append(AGGREGATORS[metric])
        query["dimension"] = draw(st.sampled_from(["a", "b"]))
        query["metric"] = {"type": "numeric", "metric": metric}
        query["threshold"] = draw(st.integers(1, 4))
    else:
        dims = draw(st.sampled_from([["a"], ["b"], ["a", "b"], ["b", "a"]]))
        query["dimensions"] = dims
        if draw(st.booleans()):
            if "rows" not in names:
                aggs.append(AGGREGATORS["rows"])
            query["having"] = {
                "type": "greaterThan",
                "aggregation": "rows",
                "value": draw(st.integers(0, 2)),
            }
        if draw(st.booleans()):
            first = draw(
                st.sampled_from([*dims, *(m for m in ORDERABLE if m in {a["name"] for a in aggs})])
            )
            direction = draw(st.sampled_from(["ascending", "descending"]))
            columns = [{"dimension": first, "direction": direction}]
            # The other dimensions break ties, so that the order is complete.
            columns += [{"dimension": d, "direction": "ascending"} for d in dims if d != first]
            query["limitSpec"] = {
                "type": "default",
                "limit": draw(st.integers(1, 6)),
                "columns": columns,
            }
    return query


def _typed(value: Any) -> Any:
    """Longs stay ints and doubles stay floats: 3 and 3.0 must not pass for each other."""
    return (type(value).__name__, value) if isinstance(value, (int, float)) else value


def _typed_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _typed_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed_all(v) for v in value]
    return _typed(value)


def answered(query: dict[str, Any], result: Any) -> Any:
    """localdruid's answer in the reference's shape."""
    kind, gran = query["queryType"], query["granularity"]
    if kind == "timeseries":
        return result
    if kind == "topN":
        # Buckets without rows answer [] in Druid; the reference has none for them.
        return {
            ("all" if gran == "all" else entry["timestamp"]): entry["result"]
            for entry in result
            if entry["result"]
        }
    return [("all" if gran == "all" else row["timestamp"], row["event"]) for row in result]


_counter = itertools.count()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=rows_strategy, data=st.data())
def test_localdruid_agrees_with_the_reference_evaluator(
    druid: LocalDruid, rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    datasource = f"differential_{next(_counter)}"
    lines = [
        {**{k: v for k, v in row.items() if k != "minute"}, "timestamp": _row_time(row).isoformat()}
        for row in rows
    ]
    druid.ingest(
        inline_task(
            datasource,
            lines,
            dimensions=["a", "b", {"type": "long", "name": "n"}, {"type": "double", "name": "v"}],
            rollup=False,
        )
    )
    for _ in range(4):
        query = data.draw(queries(datasource))
        expected = reference(rows, query)
        got = answered(query, druid.query(query))
        assert _typed_all(got) == _typed_all(expected), query
