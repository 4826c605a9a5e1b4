"""Property-based tests of the query endpoint over real HTTP: random query JSON from Druid's
grammar always gets an answer or a Druid-shaped 4xx/501, never a 500, and the server keeps
serving."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from tests import strategies as s
from tests.localdruid.conftest import timeseries
from tests.localdruid.harness import LocalDruid

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

QUERY_TYPES = (
    "timeseries",
    "topN",
    "groupBy",
    "timeBoundary",
    "segmentMetadata",
    "dataSourceMetadata",
    "scan",
    "search",
    "select",
    "unknown",
)
datasources = st.one_of(
    st.sampled_from(s.DATASOURCES),
    st.fixed_dictionaries({"type": st.just("table"), "name": st.sampled_from(s.DATASOURCES)}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(("union", "query", "inline", "join", "lookup", "nope"))},
        optional={"dataSources": st.lists(st.sampled_from(s.DATASOURCES), max_size=2)},
    ),
)
# Optional parts of a query: most of Druid's query types take some of them, none takes all.
PARTS: dict[str, st.SearchStrategy[Any]] = {
    "intervals": st.lists(s.intervals_text, max_size=3) | s.intervals_text,
    "granularity": s.granularities,
    "filter": s.filters,
    "aggregations": s.aggregations,
    "postAggregations": st.lists(s.post_aggregators, max_size=3),
    "dimension": s.dimension_specs,
    "dimensions": st.lists(s.dimension_specs, max_size=3),
    "metric": s.metric_specs,
    "threshold": s.numbers,
    "having": s.having_specs,
    "limitSpec": s.limit_specs,
    "limit": s.numbers,
    "descending": st.booleans() | s.text,
    "bound": st.sampled_from(("minTime", "maxTime", "middle")),
    "merge": st.booleans(),
    "analysisTypes": st.lists(
        st.sampled_from(("cardinality", "minmax", "size", "interval", "aggregators", "nope")),
        max_size=3,
    ),
    "toInclude": st.fixed_dictionaries(
        {"type": st.sampled_from(("all", "none", "list"))},
        optional={"columns": st.lists(s.columns, max_size=2)},
    ),
    "virtualColumns": st.lists(
        st.fixed_dictionaries(
            {"type": st.just("expression"), "name": s.output_names, "expression": s.text},
            optional={"outputType": st.sampled_from(("LONG", "STRING", "X"))},
        ),
        max_size=2,
    ),
    "context": s.contexts,
}


@st.composite
def queries(draw: st.DrawFn) -> dict[str, Any]:
    query: dict[str, Any] = {
        "queryType": draw(s.maybe(st.sampled_from(QUERY_TYPES))),
        "dataSource": draw(s.maybe(datasources)),
    }
    if draw(st.integers(0, 9)):  # an interval that finds the data, mostly
        query["intervals"] = ["2024-01-01/2024-01-03"]
    for key in draw(st.lists(st.sampled_from(sorted(PARTS)), max_size=6, unique=True)):
        query[key] = draw(s.maybe(PARTS[key]))
    if draw(st.booleans()):
        query["aggregations"] = [{"type": "longSum", "name": "added", "fieldName": "added"}]
    for key in draw(st.lists(st.sampled_from(sorted(query)), max_size=1)):
        del query[key]
    return query


TOPN = {
    **timeseries("edits"),
    "queryType": "topN",
    "dimension": "channel",
    "metric": "added",
    "threshold": 2,
}
GROUPBY = {**timeseries("edits"), "queryType": "groupBy", "dimensions": ["channel", "page"]}
BASES = (
    timeseries("edits"),
    TOPN,
    GROUPBY,
    {"queryType": "timeBoundary", "dataSource": "edits"},
    {"queryType": "segmentMetadata", "dataSource": "edits", "intervals": ["1000/3000"]},
)


@st.composite
def near_valid_queries(draw: st.DrawFn) -> dict[str, Any]:
    """A query Druid answers, with a part or two swapped for a random one from the grammar."""
    query = json.loads(json.dumps(draw(st.sampled_from(BASES))))
    for key in draw(st.lists(st.sampled_from(sorted(PARTS)), max_size=2, unique=True)):
        query[key] = draw(PARTS[key])
    return query


def assert_druid_answer(response: requests.Response, query: Any) -> None:
    code = response.status_code
    context = query.get("context") if isinstance(query, dict) else None
    timeout = isinstance(context, dict) and "timeout" in context
    assert code == 200 or 400 <= code < 500 or code == 501 or (code == 504 and timeout), (
        code,
        response.text[:500],
    )
    body = response.json()
    if code == 200:
        assert isinstance(body, list), body
        return
    assert set(body) == {"error", "errorMessage", "errorClass", "host"}, body
    assert all(isinstance(body[key], str) and body[key] for key in ("error", "errorClass")), body
    assert isinstance(body["errorMessage"], str), body


QUERIES = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@QUERIES
@given(query=st.one_of(near_valid_queries(), near_valid_queries(), queries()))
@example(query=timeseries("edits", granularity={"type": "period", "period": "PT0S"}))
@example(query={"queryType": "topN", "dataSource": "edits", "threshold": 10**30})
@example(query={**timeseries("edits"), "context": {"timeout": 10**400}})
@example(query={**timeseries("edits"), "context": {"timeout": 1e300}})
@example(
    query={**GROUPBY, "having": {"type": "greaterThan", "aggregation": "rows", "value": 10**400}}
)
@example(query={"queryType": "groupBy", "dataSource": "edits", "intervals": []})
# Were 500s: a number too large for a double in a range or equals filter (Java reads infinity).
@example(
    query={
        **timeseries("edits"),
        "filter": {
            "type": "range",
            "column": "added",
            "matchValueType": "DOUBLE",
            "lower": 10**400,
        },
    }
)
@example(
    query={
        **timeseries("edits"),
        "filter": {
            "type": "equals",
            "column": "added",
            "matchValueType": "DOUBLE",
            "matchValue": -(10**400),
        },
    }
)
def test_random_queries_get_an_answer_or_a_druid_error(
    druid: LocalDruid, edits: str, query: dict[str, Any]
) -> None:
    body = json.dumps(query, allow_nan=True)
    response = requests.post(
        f"{druid.url}/druid/v2/",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    event(f"status {response.status_code}")
    assert_druid_answer(response, query)


@settings(max_examples=60, deadline=None)
@given(body=st.one_of(s.junk(finite=False), queries().flatmap(s.mangled)))
@example(body=float("nan"))
@example(body={**timeseries("edits"), "threshold": float("nan"), "x": float("-inf")})
def test_any_json_body_gets_an_answer_or_a_druid_error(druid: LocalDruid, body: Any) -> None:
    response = requests.post(
        f"{druid.url}/druid/v2/",
        data=json.dumps(body, allow_nan=True),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert_druid_answer(response, body)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"queryType": "topN", "threshold": ' + b"9" * 5000 + b"}",
    ],
    ids=["empty", "truncated", "not-utf8", "deep-array", "long-number"],
)
def test_unreadable_bodies_are_druid_400s(druid: LocalDruid, body: bytes) -> None:
    response = requests.post(f"{druid.url}/druid/v2/", data=body, timeout=60)
    assert response.status_code == 400, response.text[:500]
    assert_druid_answer(response, None)


@pytest.mark.parametrize("depth", [100, 450, 490, 900, 5000])
def test_deeply_nested_filters_are_answered_or_400(
    druid: LocalDruid, edits: str, depth: int
) -> None:
    query = json.dumps(timeseries(edits, filter="HERE"))
    deep = '{"type": "not", "field": ' * depth + '{"type": "true"}' + "}" * depth
    response = requests.post(
        f"{druid.url}/druid/v2/", data=query.replace('"HERE"', deep), timeout=60
    )
    # Python recurses less deeply than Java: localdruid refuses what it cannot plan as 501.
    assert response.status_code in (200, 400, 501), response.text[:500]
    assert_druid_answer(response, None)


def test_the_server_still_serves_after_the_random_queries(druid: LocalDruid, edits: str) -> None:
    assert requests.get(f"{druid.url}/status/health", timeout=10).json() is True
    assert druid.query(timeseries(edits)) == [
        {"timestamp": "2024-01-01T00:10:00.000Z", "result": {"rows": 6, "edits": 7, "added": 146}}
    ]
