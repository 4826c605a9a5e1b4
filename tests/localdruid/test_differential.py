"""Differential test: random small datasets and random native queries, answered by localdruid
over HTTP and by a reference evaluator written here in plain Python (row by row: no DuckDB, no
SQL). They must agree exactly.

The reference follows Druid's documented semantics with SQL-compatible null handling:
- multi-value string dimensions `m` and `k` (null, [], one value, duplicates, null values),
  stored sorted as the default multiValueHandling SORTED_ARRAY does;
- filters: `selector`, `in`, `bound` (lexicographic and numeric, both ends), `not`, `and`, `or`,
  in three-valued logic (a comparison with a null is unknown, and `not` of unknown is unknown);
  a value filter on a multi-value dimension matches if any value does, an empty row being one
  null value;
- aggregators: `count`, `longSum`/`longMin`/`longMax`, `doubleSum`/`doubleMin`/`doubleMax` ignore
  nulls and are null over no values, `filtered`; `thetaSketch` and rounded `HLLSketchBuild`
  count distinct non-empty strings exactly at this size, `quantilesDoublesSketch` finalizes to
  its N, and `quantilesDoublesSketchToQuantile` picks the value of inclusive rank;
- granularities: `hour`, `day`, and `period` buckets in a time zone, printed with the zone's offset;
- timeseries (with `skipEmptyBuckets`: the filling of empty buckets has its own tests; each row
  counts once), topN by a numeric metric (ties in ascending dimension order, null first; a row
  joins one entry per value, an empty list none), groupBy with `having` and a `limitSpec` whose
  columns order the rows completely (a row joins one group per combination of its values, an
  empty list the null group), or with a `subtotalsSpec` (each subset regrouped in the spec's
  order, the other dimensions null).
"""

from __future__ import annotations

import itertools
import math
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
    "a_theta": {"type": "thetaSketch", "name": "a_theta", "fieldName": "a"},
    "b_hll": {"type": "HLLSketchBuild", "name": "b_hll", "fieldName": "b", "round": True},
    "n_qs": {"type": "quantilesDoublesSketch", "name": "n_qs", "fieldName": "n"},
    "v_qs": {"type": "quantilesDoublesSketch", "name": "v_qs", "fieldName": "v"},
}
MULTI_VALUE = ("m", "k")
# Metrics never null in this data (n always has a value): safe to order topN and limitSpec by.
ORDERABLE = ("rows", "n_sum", "n_max")

# -- data --------------------------------------------------------------------------------------

rows_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "minute": st.integers(0, 2 * 24 * 60 - 1),
            "a": st.sampled_from(["x", "y", "z", None]),
            "b": st.sampled_from(["p", "q", "", None]),
            "n": st.integers(-5, 20),
            "v": st.none() | st.integers(-4, 20).map(lambda k: k / 2),  # exact in binary
            # Multi-value: null, [], one value, duplicates, null values.
            "m": st.none() | st.lists(st.sampled_from(["r", "s", "t", None]), max_size=3),
            "k": st.none() | st.lists(st.sampled_from(["u", "v"]), max_size=2),
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
                "type": st.just("selector"),
                "dimension": st.sampled_from(["m", "k"]),
                "value": st.sampled_from(["r", "s", "u", "w", None]),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("in"),
                "dimension": st.sampled_from(["a", "b", "m", "k"]),
                "values": st.lists(
                    st.sampled_from(["x", "y", "p", "r", "t", "v", "w"]), min_size=1, max_size=3
                ),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("bound"),
                "dimension": st.sampled_from(["a", "m"]),
                "lower": st.sampled_from(["a", "s", "x", "y"]),
                "upper": st.sampled_from(["s", "t", "y", "z", "zz"]),
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


def values_of(row: dict[str, Any], dim: str) -> list[Any]:
    """A row's values in a dimension as Druid stores them: a list sorted (SORTED_ARRAY, the
    default multiValueHandling, nulls first and duplicates kept); an empty or null list is one
    null value."""
    value = row[dim]
    if not isinstance(value, list):
        return [value]
    return sorted(value, key=null_first) or [None]


def truth(flt: dict[str, Any], row: dict[str, Any]) -> bool | None:
    """Three-valued: True, False, or None for unknown (a comparison involving a null). A value
    filter on a multi-value dimension is true if any value matches, else unknown if any value
    compares unknown (so `not` leaves such a row out too), else false."""
    kind = flt["type"]
    if kind == "not":
        inner = truth(flt["field"], row)
        return None if inner is None else not inner
    if kind in ("and", "or"):
        values = [truth(f, row) for f in flt["fields"]]
        if kind == "and":
            return False if False in values else (None if None in values else True)
        return True if True in values else (None if None in values else False)
    each = [_leaf_truth(flt, value) for value in values_of(row, flt["dimension"])]
    return True if True in each else (None if None in each else False)


def _leaf_truth(flt: dict[str, Any], value: Any) -> bool | None:
    kind = flt["type"]
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
    if spec["type"] in ("thetaSketch", "HLLSketchBuild"):
        # Exact below the sketches' size; nulls and empty strings are not counted.
        seen = {v for r in rows for v in values_of(r, spec["fieldName"]) if v not in (None, "")}
        return len(seen) if spec["type"] == "HLLSketchBuild" else float(len(seen))
    if spec["type"] == "quantilesDoublesSketch":  # finalized: N, the count of its values
        return len(_sketched(spec, rows))
    values = [r[spec["fieldName"]] for r in rows if r[spec["fieldName"]] is not None]
    if not values:
        return None
    kind, cast = spec["type"], (int if spec["type"].startswith("long") else float)
    if kind.endswith("Sum"):
        return cast(sum(values))
    return cast(min(values) if kind.endswith("Min") else max(values))


def _sketched(spec: dict[str, Any], rows: list[dict[str, Any]]) -> list[float]:
    return sorted(float(r[spec["fieldName"]]) for r in rows if r[spec["fieldName"]] is not None)


def post_aggregate(
    post: dict[str, Any], aggs: list[dict[str, Any]], rows: list[dict[str, Any]]
) -> Any:
    """quantilesDoublesSketchToQuantile: the value of inclusive rank max(ceil(fraction * N), 1),
    1-based, in the sorted values; NaN (written "NaN") over no values."""
    spec = next(a for a in aggs if a["name"] == post["field"]["fieldName"])
    if spec["type"] == "filtered":
        spec, rows = spec["aggregator"], [r for r in rows if matches(spec["filter"], r)]
    sketched = _sketched(spec, rows)
    if not sketched:
        return "NaN"
    return sketched[max(math.ceil(post["fraction"] * len(sketched)), 1) - 1]


def _results(query: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The aggregators and post-aggregators over a group's rows."""
    aggs = query["aggregations"]
    out = {a["name"]: aggregate(a, rows) for a in aggs}
    out.update(
        {p["name"]: post_aggregate(p, aggs, rows) for p in query.get("postAggregations", [])}
    )
    return out


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
    rows: list[dict[str, Any]], gran: Any, keys: list[str], *, skip_empty: bool = False
) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """Rows by time bucket and their values in `keys`: a row joins one group per combination
    of its values (the cross product of its multi-value dimensions, duplicates counting
    twice). topN's engine leaves out rows with an empty list (`skip_empty`); groupBy's groups
    them as null."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        if skip_empty and any(row[k] == [] for k in keys):
            continue
        stamp = "all" if gran == "all" else bucket(gran, _row_time(row))
        for combination in itertools.product(*(values_of(row, k) for k in keys)):
            groups.setdefault((stamp, *combination), []).append(row)
    return groups


def null_first(value: Any) -> tuple[bool, Any]:
    return (value is not None, value if value is not None else "")


def reference(rows: list[dict[str, Any]], query: dict[str, Any]) -> Any:
    selected = _selected(rows, query)
    gran = query["granularity"]
    kind = query["queryType"]
    if kind == "timeseries":
        groups = _grouped(selected, gran, [])
        return [
            {"timestamp": key[0], "result": _results(query, group)}
            for key, group in sorted(groups.items())
        ]
    if kind == "topN":
        dim, metric = query["dimension"], query["metric"]["metric"]
        by_bucket: dict[str, list[dict[str, Any]]] = {}
        for key, group in _grouped(selected, gran, [dim], skip_empty=True).items():
            entry = {dim: key[1], **_results(query, group)}
            by_bucket.setdefault(key[0], []).append(entry)
        return {
            stamp: sorted(entries, key=lambda e: (-e[metric], null_first(e[dim])))[
                : query["threshold"]
            ]
            for stamp, entries in by_bucket.items()
        }
    dims = query["dimensions"]
    if "subtotalsSpec" in query:
        # Each subset regrouped in the spec's order, the other dimensions null.
        return [
            event
            for subset in query["subtotalsSpec"]
            for event in _group_by(selected, query, [d if d in subset else None for d in dims])
        ]
    return _group_by(selected, query, dims)


def _group_by(
    rows: list[dict[str, Any]], query: dict[str, Any], keys: list[str | None]
) -> list[tuple[str, dict[str, Any]]]:
    """groupBy's rows over `keys`, the query's dimensions in order (None for one a subtotal
    leaves out), sorted by time bucket then by the dimensions, nulls first."""
    dims, gran = query["dimensions"], query["granularity"]
    grouped = _grouped(rows, gran, [k for k in keys if k is not None])
    out = []
    for key, group in grouped.items():
        found = iter(key[1:])
        event = {
            d: (next(found) if k is not None else None) for d, k in zip(dims, keys, strict=True)
        }
        event.update(_results(query, group))
        having = query.get("having")
        if having and not (event[having["aggregation"]] > having["value"]):
            continue
        out.append((key[0], event))
    out.sort(key=lambda item: (item[0], *(null_first(item[1][d]) for d in dims)))
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
    quantiles = [a["name"] for a in aggs if a["type"] == "quantilesDoublesSketch"]
    quantiles += [
        a["name"]
        for a in aggs
        if a["type"] == "filtered" and a["aggregator"]["type"] == "quantilesDoublesSketch"
    ]
    if draw(st.booleans()):
        if not quantiles:
            quantiles.append(draw(st.sampled_from(["n_qs", "v_qs"])))
            aggs.append(AGGREGATORS[quantiles[0]])
        query["postAggregations"] = [
            {
                "type": "quantilesDoublesSketchToQuantile",
                "name": "quantile",
                "field": {"type": "fieldAccess", "fieldName": draw(st.sampled_from(quantiles))},
                "fraction": draw(st.sampled_from([0, 0.25, 0.5, 0.9, 1])),
            }
        ]
    if draw(st.booleans()):
        query["filter"] = draw(filters)
    if kind == "timeseries":
        query["context"] = {"skipEmptyBuckets": True}
    elif kind == "topN":
        metric = draw(st.sampled_from(ORDERABLE))
        if metric not in names:
            aggs.append(AGGREGATORS[metric])
        query["dimension"] = draw(st.sampled_from(["a", "b", *MULTI_VALUE]))
        query["metric"] = {"type": "numeric", "metric": metric}
        query["threshold"] = draw(st.integers(1, 4))
    else:
        if draw(st.booleans()):
            # subtotalsSpec answers 501 with having, a limitSpec or multi-value dimensions.
            dims = draw(st.permutations(["a", "b"]))
            query["dimensions"] = dims
            subset = st.lists(st.sampled_from(dims), max_size=len(dims), unique=True)
            query["subtotalsSpec"] = draw(st.lists(subset, min_size=1, max_size=3))
            return query
        dims = draw(
            st.lists(st.sampled_from(["a", "b", *MULTI_VALUE]), min_size=1, max_size=3, unique=True)
        )
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
            dimensions=[
                "a",
                "b",
                {"type": "long", "name": "n"},
                {"type": "double", "name": "v"},
                "m",
                "k",
            ],
            rollup=False,
        )
    )
    for _ in range(4):
        query = data.draw(queries(datasource))
        expected = reference(rows, query)
        got = answered(query, druid.query(query))
        assert _typed_all(got) == _typed_all(expected), query
