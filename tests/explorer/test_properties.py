"""Property-based tests of the validator and the API's writes: random and hostile definitions
always get field-level messages (or are saved), never a server error, and a rejected one saves
nothing."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from explorer.api.serializers import DEFINITION_FIELDS, SETTINGS_FIELDS
from explorer.definitions import FIELDS, definition_errors, definition_from_druid, druid_json
from explorer.models import ChartType, QueryRun, SavedQuery, Visibility
from explorer.validation import validate_query
from tests import strategies as s
from tests.explorer.conftest import GROUPBY, TIMESERIES, TOPN, api

# Hypothesis describes a retried draw by its strategy, and these strategies are long to describe.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

BASES = {"timeseries": TIMESERIES, "topN": TOPN, "groupBy": GROUPBY}
QUERY_TYPES = (*BASES, "scan", "search", "timeBoundary", "TOPN", "")
# What the API may answer a definition with: field names, or Django's key for the whole object.
API_KEYS = {*SETTINGS_FIELDS, *DEFINITION_FIELDS, NON_FIELD_ERRORS, "non_field_errors", "query"}


@st.composite
def definitions(draw: st.DrawFn, *, finite: bool = True) -> dict[str, Any]:
    """A saved-query definition from Druid's grammar, with junk in some places."""
    kind = draw(s.maybe(st.sampled_from(QUERY_TYPES), finite=finite))
    definition: dict[str, Any] = {
        "query_type": kind,
        "datasource": draw(s.maybe(st.sampled_from(s.DATASOURCES), finite=finite)),
        "interval": draw(s.maybe(s.intervals_text, finite=finite)),
        "granularity": draw(s.maybe(s.granularities, finite=finite)),
        "dimensions": draw(s.maybe(st.lists(s.dimension_specs, max_size=3), finite=finite)),
        "aggregations": draw(s.maybe(s.aggregations, finite=finite)),
        "post_aggregations": draw(s.maybe(st.lists(s.post_aggregators, max_size=2), finite=finite)),
        "filter": draw(st.none() | s.maybe(s.filters, finite=finite)),
        "metric": draw(st.none() | s.metric_specs),
        "threshold": draw(st.none() | s.maybe(s.numbers, finite=finite)),
        "having": draw(st.none() | s.having_specs),
        "limit_spec": draw(st.none() | s.limit_specs),
        "descending": draw(s.maybe(st.booleans(), finite=finite)),
        "context": draw(s.maybe(s.contexts, finite=finite)),
        "extra": draw(st.just({}) | s.junk(finite=finite)),
    }
    for key in draw(st.lists(st.sampled_from(sorted(definition)), max_size=3, unique=True)):
        del definition[key]
    return definition


@st.composite
def near_valid_definitions(draw: st.DrawFn) -> dict[str, Any]:
    """A valid definition with a part or two swapped for a random one from Druid's grammar."""
    definition = copy.deepcopy(draw(st.sampled_from([TIMESERIES, TOPN, GROUPBY])))
    for field in draw(st.lists(st.sampled_from(sorted(PARTS)), max_size=2, unique=True)):
        definition[field] = draw(PARTS[field])
    return definition


PARTS: dict[str, st.SearchStrategy[Any]] = {
    "interval": s.intervals_text,
    "granularity": s.granularities,
    "dimensions": st.lists(s.dimension_specs, min_size=1, max_size=2),
    "filter": s.filters,
    "aggregations": st.lists(s.aggregator, min_size=1, max_size=3),
    "post_aggregations": st.lists(s.post_aggregators, max_size=2),
    "metric": s.metric_specs,
    "threshold": s.numbers,
    "having": s.having_specs,
    "limit_spec": s.limit_specs,
    "context": s.contexts,
    "extra": st.dictionaries(s.text, s.junk(), max_size=2),
}
# Mostly near-valid definitions (they reach the validator's depths and Druid), some wild ones.
any_definitions = st.one_of(near_valid_definitions(), near_valid_definitions(), definitions())


# A field of a valid definition, and values of the wrong kind for it: each must be reported on
# that field.
WRONG_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "query_type": s.text.filter(lambda v: v not in BASES) | st.integers() | st.lists(s.text),
    "datasource": st.integers() | st.lists(s.text, min_size=1) | st.just(""),
    "interval": st.sampled_from(("2024-01-03/2024-01-01", "2024-02-30/2024-03-01", "/", "x"))
    | st.integers()
    | st.just(["2024-01-01/2024-01-03"]),
    "granularity": st.sampled_from(("fortnight", "DAYS", "P1D"))
    | st.integers()
    | st.lists(s.text, min_size=1)
    | st.just({"type": "period", "period": "PT0S"}),
    "aggregations": st.integers()
    | st.text(max_size=5)
    | st.just([{"type": "longSumm", "name": "x", "fieldName": "added"}])
    | st.just([{"type": "count"}])
    | st.just([42]),
    "filter": st.integers()
    | st.lists(s.text, min_size=1)
    | st.just({"type": "selektor", "dimension": "channel", "value": "en"})
    | st.just({"type": "and", "fields": "not a list"})
    | st.just({"type": "regex", "dimension": "channel", "pattern": "("}),
    "post_aggregations": st.integers()
    | st.just({"type": "constant"})
    | st.just([{"type": "arithmetic", "name": "p", "fn": "^", "fields": []}]),
    "context": st.integers() | st.lists(s.text, min_size=1) | st.just({"timeout": "soon"}),
    "extra": st.integers() | st.lists(s.text, min_size=1) | st.just({"queryType": "scan"}),
}


def assert_field_messages(errors: Any, allowed: set[str] | None = None) -> None:
    """A dict of non-empty lists of messages, keyed by field (one of `allowed`, if given)."""
    assert isinstance(errors, dict), errors
    for key, messages in errors.items():
        assert isinstance(key, str) and key, (key, errors)
        assert allowed is None or key in allowed, (key, errors)
        assert isinstance(messages, list) and messages, (key, errors)
        assert all(isinstance(m, str) and m.strip() for m in messages), (key, errors)


# --- the validator, called directly ----------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(definition=st.one_of(any_definitions, definitions(finite=False)))
@example(definition={**TIMESERIES, "threshold": math.nan, "granularity": math.inf})
@example(definition={**TOPN, "threshold": 10**400, "dimensions": [{"type": "default"}]})
@example(definition={**GROUPBY, "limit_spec": {"type": "default", "limit": -(2**63) - 1}})
@example(definition={"extra": {"<script>": "'; DROP TABLE explorer_savedquery; --"}})
# Raised TypeError: a non-object `extra` with any other problem.
@example(definition={**TIMESERIES, "granularity": "fortnight", "extra": True})
@example(definition={**GROUPBY, "aggregations": 0, "context": False})
def test_definition_errors_never_raise_and_name_fields(definition: dict[str, Any]) -> None:
    before = copy.deepcopy(definition)
    errors = definition_errors(definition)
    assert_field_messages(errors, {*FIELDS, NON_FIELD_ERRORS})
    assert definition == before or _has_nan(before)  # read only
    if not isinstance(definition.get("query_type"), str) or definition["query_type"] not in BASES:
        assert "query_type" in errors
    for field in ("granularity", "dimensions", "aggregations", "post_aggregations", "context"):
        value = definition.get(field)
        if value is not None and not value and value not in ("", [], {}):
            # Was accepted: druid_json dropped the falsy value before the validator saw it.
            assert field in errors, (field, errors)


def _has_nan(value: Any) -> bool:
    return "NaN" in json.dumps(value, default=str)


@settings(max_examples=150, deadline=None)
@given(query=s.junk(finite=False) | any_definitions.map(druid_json))
@example(query=[])
@example(query={"queryType": "timeseries", "dataSource": {"type": "query"}})
def test_validate_query_and_import_never_raise(query: Any) -> None:
    assert_field_messages(validate_query(query))
    definition, errors = definition_from_druid(query)
    assert isinstance(definition, dict)
    assert_field_messages(errors, {*FIELDS, NON_FIELD_ERRORS})
    if not isinstance(query, dict):
        assert errors


@pytest.mark.parametrize("field", sorted(WRONG_VALUES))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_wrong_value_is_reported_on_its_field(field: str, data: st.DataObject) -> None:
    base = data.draw(st.sampled_from(sorted(BASES)))
    assert definition_errors(copy.deepcopy(BASES[base])) == {}
    value = data.draw(WRONG_VALUES[field], label=field)
    errors = definition_errors({**copy.deepcopy(BASES[base]), field: value})
    assert field in errors, errors


@pytest.mark.parametrize("depth", [100, 900, 5000])
def test_a_deeply_nested_filter_is_reported(depth: int) -> None:
    errors = definition_errors({**TIMESERIES, "filter": s.nested_not(depth)})
    # The validator cannot tell which part is too deep: the message is about the whole query.
    assert depth < 900 or errors == {NON_FIELD_ERRORS: ["The query is nested too deeply to check."]}


def test_only_groupby_takes_having_and_limit_spec() -> None:
    errors = definition_errors({**TIMESERIES, "having": GROUPBY["having"], "limit_spec": {}})
    assert set(errors) == {"having", "limit_spec"}


# --- the API ---------------------------------------------------------------------------------

slugs = st.from_regex(r"[a-z][a-z0-9-]{0,30}", fullmatch=True)
valid_settings = st.fixed_dictionaries(
    {"title": st.text(min_size=1, max_size=30).filter(str.strip), "slug": slugs},
    optional={
        "tags": st.lists(slugs, max_size=3),
        "visibility": st.sampled_from(Visibility.values),
        "cache_ttl": st.integers(0, 3600),
        "chart_type": st.sampled_from(ChartType.values),
        "description": s.text,
    },
)
junk_settings = st.fixed_dictionaries(
    {"title": s.maybe(s.text), "slug": s.maybe(slugs | s.text)},
    optional={
        "tags": s.maybe(st.lists(slugs | s.text, max_size=3)),
        "visibility": s.junk(),
        "cache_ttl": s.maybe(s.numbers),
        "refresh_interval": s.maybe(s.numbers),
        "chart_type": s.junk(),
        "shared_groups": s.maybe(st.lists(s.text, max_size=2)),
        "value_format": s.junk(),
    },
)
query_settings = st.one_of(valid_settings, valid_settings, junk_settings)
JSON_ONLY = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def client(db: Any) -> APIClient:
    return api(User.objects.create_user("prop", "prop@example.com", "pw"))


def post(client: APIClient, url: str, body: Any) -> Any:
    # Python's json writes NaN and Infinity, which no JSON parser should take.
    text = body if isinstance(body, str) else json.dumps(body, allow_nan=True)
    cache.clear()  # the results throttle counts in the cache
    return client.post(url, data=text, content_type="application/json")


def assert_names_fields(response: Any) -> None:
    body = response.json()
    assert isinstance(body, dict) and body, body
    if response.status_code == 400:
        errors = body.get("errors", body)
        assert set(errors) <= API_KEYS | {"detail", "error"}, body
        assert any(errors.values()), body


@JSON_ONLY
@given(
    definition=st.one_of(any_definitions, definitions(finite=False)),
    extra_settings=query_settings,
)
@example(definition=dict(TIMESERIES), extra_settings={"title": "ok", "slug": "ok"})
# Was a 500: any invalid field with a non-object `extra` raised a TypeError in the validator.
@example(
    definition={**TIMESERIES, "granularity": "fortnight", "extra": True},
    extra_settings={"title": "t", "slug": "extra-true"},
)
# Was saved: druid_json dropped the falsy wrong-typed value before the validator saw it.
@example(definition={**GROUPBY, "aggregations": 0}, extra_settings={"title": "t", "slug": "zero"})
@example(definition={**TOPN, "threshold": 2**64}, extra_settings={"title": "t", "slug": "huge"})
@example(
    definition=dict(TIMESERIES), extra_settings={"title": "t", "slug": "ttl", "cache_ttl": 2**70}
)
def test_create_answers_201_or_a_4xx_naming_fields(
    client: APIClient, definition: dict[str, Any], extra_settings: dict[str, Any]
) -> None:
    saved_before = SavedQuery.objects.count()
    if isinstance(extra_settings.get("slug"), str):  # a taken slug is a 400 every time
        extra_settings = {**extra_settings, "slug": f"{extra_settings['slug']}-{saved_before}"}
    response = post(client, "/api/queries/", {**extra_settings, **definition})
    event(f"status {response.status_code}")
    assert response.status_code == 201 or 400 <= response.status_code < 500, response.content
    if response.status_code == 201:
        assert SavedQuery.objects.count() == saved_before + 1
        assert definition_errors(_saved_definition(response.json())) == {}
    else:
        assert_names_fields(response)
        assert SavedQuery.objects.count() == saved_before


def _saved_definition(body: dict[str, Any]) -> dict[str, Any]:
    return {name: body[name] for name in FIELDS}


@pytest.mark.parametrize("depth", [100, 300, 450, 490, 600, 2000])
def test_deeply_nested_definitions_are_saved_or_400(client: APIClient, depth: int) -> None:
    body = json.dumps({"title": "Deep", "slug": "deep", **TIMESERIES, "filter": "HERE"})
    deep = '{"type": "not", "field": ' * depth + '{"type": "true"}' + "}" * depth
    response = post(client, "/api/queries/", body.replace('"HERE"', deep))
    assert response.status_code in (201, 400), response.content[:300]
    assert SavedQuery.objects.count() == (response.status_code == 201)


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"query_type": "timeseries", "filter": '
        + '{"type": "not", "field": ' * 5000
        + "1"
        + "}" * 5001,
        '{"threshold": ' + "9" * 5000 + "}",
        '{"title": "x", "slug": "x", "aggregations": NaN}',
        "\ud800",
        "",
        "null",
    ],
    ids=["deep-array", "deep-filter", "long-number", "nan", "surrogate", "empty", "null"],
)
def test_unparseable_bodies_are_400(client: APIClient, body: str) -> None:
    for url in ("/api/queries/", "/api/queries/preview/", "/api/queries/import/"):
        response = client.post(url, data=body.encode("utf-8", "surrogatepass"),
                               content_type="application/json")  # fmt: skip
        assert response.status_code == 400, (url, response.content[:300])
        assert_names_fields(response)
    assert SavedQuery.objects.count() == 0


@JSON_ONLY
@given(
    body=st.one_of(
        any_definitions,
        definitions(finite=False),
        any_definitions.map(lambda d: {"query": druid_json(d, interval=d.get("interval"))}),
        st.fixed_dictionaries({"query": s.junk(finite=False)}),
    )
)
@example(body=dict(TIMESERIES))
@example(body={"query": druid_json(TOPN, interval="2024-01-01/2024-01-03")})
@example(body={"query_type": "groupBy", "datasource": "edits", "interval": "P7D/now"})
def test_preview_answers_200_or_a_4xx_naming_fields(client: APIClient, body: Any) -> None:
    saved_before, runs_before = SavedQuery.objects.count(), QueryRun.objects.count()
    response = post(client, "/api/queries/preview/", body)
    code = response.status_code
    event(f"status {code}")
    # A definition the validator passes but Druid refuses is Druid's error, passed through.
    assert code == 200 or 400 <= code < 500 or code == 502, response.content
    assert SavedQuery.objects.count() == saved_before
    if code == 200:
        assert {"columns", "rows", "meta"} <= set(response.json())
    elif code == 502:
        assert response.json()["error"] == "druid_rejected"
    else:
        assert_names_fields(response)
        assert QueryRun.objects.count() == runs_before


@pytest.mark.parametrize("field", ["granularity", "aggregations", "context", "extra"])
def test_a_form_null_is_refused_not_saved(client: APIClient, field: str) -> None:
    # Was a 500 (found by schemathesis): DRF read the form's "null" as JSON after its null check,
    # and the NOT NULL column refused it on save.
    form = {"title": "Form", "slug": "form", **TIMESERIES}
    assert post(client, "/api/queries/", form).status_code == 201
    created = client.post(
        "/api/queries/", {**form, "slug": "f2", field: "null"}, format="multipart"
    )
    changed = client.patch("/api/queries/form/", {field: "null"}, format="multipart")
    for response in (created, changed):
        assert response.status_code == 400, response.content
        assert field in response.json()
    assert SavedQuery.objects.count() == 1
