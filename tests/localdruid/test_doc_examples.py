"""Every native query example in Druid's query documentation, run over HTTP against small data
with the datasource and column names the examples use.

The examples are in `druid_doc_examples.json`, copied by hand from `docs/querying/*.md` in the
apache/druid GitHub repository at the commits in DOC_COMMITS (one per file: the stored version
read). Fragments (a filter, an aggregator, a granularity...) are wrapped in a minimal query, as
each entry's `note` says. `expect` is `ok` (200 and a result of the query type's shape, and the
`result` worked out by hand or printed in the doc where there is one), `unsupported` (501 naming
the feature in `why`) or `invalid` (400: the doc's JSON itself is wrong, or Druid removed the
feature, as `why` explains). A sample of SQL examples (the SQL tabs of datasource.md, the SQL of
lookups.md and multi-value-dimensions.md) goes to the `endpoint` /druid/v2/sql: the ones
localdruid's SQL plans run (`result` printed in the doc or worked out by hand), the rest 501.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.localdruid.harness import LocalDruid, inline_task

DOC_COMMITS = {
    "aggregations.md": "c7b53e51ac6f2fec75cf578971dc2bd0d2312247",
    "datasource.md": "9001837a1fb1027baea72ffc1eaa50f2b3aaa032",
    "datasourcemetadataquery.md": "8da314cf36b48c78fb7be697d4a8852c32734332",
    "dimensionspecs.md": "97f6660ffb4b5ba878ba5375af1f4c2ecd07b0ee",
    "filters.md": "dbe3b9220cfcea7d2c5248a1f8bd0938c6f84a74",
    "geo.md": "dbe3b9220cfcea7d2c5248a1f8bd0938c6f84a74",
    "granularities.md": "98c6623db55f55959e19c6ff6025a06fea11ab42",
    "groupbyquery.md": "34a783f437a05631a4e90a4b2d9a6e3a571c255b",
    "having.md": "8da314cf36b48c78fb7be697d4a8852c32734332",
    "hll-old.md": "4ee0868a10229155244a3dafdaf7d2c45680daf1",
    "limitspec.md": "42590ae64b4293ebc5a2c0cfbb4c03630d1e5c25",
    "lookups.md": "f88ebad66b87a87af94e55de4a9338523d2b54b7",
    "multi-value-dimensions.md": "603eba0a5172e2858494da9ad1a9dfd2fda1992c",
    "post-aggregations.md": "07ead45b41aa565263b6265cee2fc52f5a2fd9f0",
    "scan-query.md": "295ce67c806ab7c666107e58f99e113d0ca4f70d",
    "searchquery.md": "f88ebad66b87a87af94e55de4a9338523d2b54b7",
    "searchqueryspec.md": "849cab1fab202c23f7086e67825b25e7c81eef2a",
    "segmentmetadataquery.md": "8da314cf36b48c78fb7be697d4a8852c32734332",
    "select-query.md": "0db673c122ec3f364587491e74aa09df587a462e",
    "sorting-orders.md": "53d462a3f17fe16c881896b3150fb0071cb4f847",
    "timeboundaryquery.md": "ac846cd98145a46cc3ec4f3d75affbd6911be7e1",
    "timeseriesquery.md": "02c5a3d13e39f74da7a9defd447811ddb71d11a7",
    "topnmetricspec.md": "24a8ad0afa2023e4756659c2d629f59d35ef6601",
    "topnquery.md": "17a327cc4d4cfeeaf8251e0763d0a4373cc99378",
    "virtual-columns.md": "5e2f80b7bfc060578b1bd646a6b1bd77c84c4d07",
}
EXAMPLES: list[dict[str, Any]] = json.loads(
    Path(__file__).with_name("druid_doc_examples.json").read_text()
)

# What the 501 message must name for each reason an example is unsupported.
FEATURE_WORDS = {
    "SQL": "SQL",
    "subtotalsSpec": "subtotalsSpec",
    "grouping aggregator": "[grouping]",
    "scan over an inline dataSource": "inline",
    "locale other than English": "locale",
    "lookup datasource": "lookup",
    "join datasource": "join",
    "unnest datasource": "unnest",
    "first/last timeColumn other than __time": "timeColumn",
    "any aggregator": "Any]",
    "expression aggregator": "[expression]",
    "javascript aggregator": "[javascript]",
    "javascript post-aggregator": "javascript",
    "javascript filter": "[javascript]",
    "javascript extraction function": "[javascript]",
    "cardinality over a dimension spec": "dimension",
    "ARRAY matchValueType": "ARRAY",
    "arrayContainsElement filter": "arrayContainsElement",
    "extraction filter (deprecated)": "[extraction]",
    "spatial filter": "spatial",
    "registered lookup": "ookup",
    "time parsing extraction function": "[time]",
    "version ordering": "version",
}

# -- data ------------------------------------------------------------------------------------------

LONG, DOUBLE, FLOAT = "long", "double", "float"


def _dims(strings: list[str], **typed: str) -> list[Any]:
    return [*strings, *({"type": kind, "name": name} for name, kind in typed.items())]


SAMPLE_DATASOURCE: list[dict[str, Any]] = [
    {"timestamp": "2012-01-01T01:00:00Z", "sample_dimension1": "sample_value1",
     "sample_dimension2": "sample_value2", "sample_dimension3": "x", "sample_fieldName1": 10,
     "sample_fieldName2": 2.5, "country": "US", "device": "phone", "carrier": "AT&T",
     "make": "Apple", "user_count": 150, "data_transfer": 3.5},
    {"timestamp": "2012-01-01T05:00:00Z", "sample_dimension1": "sample_value1",
     "sample_dimension2": "other", "sample_dimension3": "sample_value3", "sample_fieldName1": 5,
     "sample_fieldName2": 1.5, "country": "US", "device": "tablet", "carrier": "AT&T",
     "make": "Samsung", "user_count": 40, "data_transfer": 1.0},
    {"timestamp": "2012-01-02T03:00:00Z", "sample_dimension1": "sample_value1",
     "sample_dimension2": "sample_value2", "sample_fieldName1": 7, "sample_fieldName2": 0.5,
     "country": "FR", "device": "phone", "carrier": "AT&T", "make": "Apple", "user_count": 120,
     "data_transfer": 2.0},
    {"timestamp": "2012-01-02T04:00:00Z", "sample_dimension1": "other", "sample_fieldName1": 100,
     "sample_fieldName2": 9.0, "country": "FR", "device": "phone", "carrier": "Orange",
     "make": "Apple", "user_count": 500, "data_transfer": 4.0},
    {"timestamp": "2013-01-01T02:00:00Z", "dim1": "Ke$ha", "dim2": "Ke$haForPresident",
     "sample_fieldName1": 1},
    {"timestamp": "2013-01-02T02:00:00Z", "dim1": "SomethingThatContainsKe",
     "dim2": "SomethingElseThatContainsKe"},
    {"timestamp": "2013-01-02T03:00:00Z", "dim1": "Fragment1 and FRAGMENT2",
     "dim2": "has some_value and some_pattern"},
]  # fmt: skip
SAMPLE_DIMS = _dims(
    ["sample_dimension1", "sample_dimension2", "sample_dimension3", "country", "device",
     "carrier", "make", "dim1", "dim2"],
    sample_fieldName1=LONG, sample_fieldName2=DOUBLE, user_count=LONG, data_transfer=DOUBLE,
)  # fmt: skip

SAMPLE_DATA = [
    {"timestamp": "2013-08-31T01:00:00Z", "sample_dim": "a", "count": 3, "some_metric": 30.0},
    {"timestamp": "2013-09-01T01:00:00Z", "sample_dim": "b", "count": 5, "some_metric": 10.0},
    {"timestamp": "2013-09-01T03:00:00Z", "sample_dim": "d", "count": 2, "some_metric": 1.0},
    {"timestamp": "2013-09-02T01:00:00Z", "sample_dim": "a", "count": 1, "some_metric": 2.0},
]
for _row in SAMPLE_DATA:
    _row.update(dim1="some_value", dim2="some_other_val")
SAMPLE_DATA.append(
    {"timestamp": "2013-09-02T02:00:00Z", "sample_dim": "c", "dim1": "other", "count": 100}
)

TPCH_YEAR: list[dict[str, Any]] = [
    {"timestamp": "1995-03-01T00:00:00Z", "l_orderkey": key, "L_QUANTITY_longSum": qty,
     "L_TAX_doubleSum": 0.5, "L_DISCOUNT_doubleSum": 0.25, "L_EXTENDEDPRICE_doubleSum": 100.0}
    for key, qty in (("103136", 10), ("1648672", 7), ("5", 50))
]  # fmt: skip

WIKIPEDIA: list[dict[str, Any]] = [
    {"timestamp": f"2013-01-01T0{hour}:00:00Z", "page": page, "language": lang, "user": user,
     "added": added, "deleted": 0, "delta": added}
    for hour, page, lang, user, added in (
        (0, "11._korpus_(NOVJ)", "sl", "EmausBot", 39),
        (1, "112_U.S._580", "en", "MZMcBride", 70),
        (2, "113_U.S._243", "en", "MZMcBride", 77),
        (3, "113_U.S._73", "en", "MZMcBride", 70),
    )
]  # fmt: skip

# The rows of granularities.md, whose results the doc shows.
MY_DATASOURCE: list[dict[str, Any]] = [
    {"timestamp": "2013-08-31T01:02:33Z", "page": "AAA", "language": "en"},
    {"timestamp": "2013-09-01T01:02:33Z", "page": "BBB", "language": "en"},
    {"timestamp": "2013-09-02T23:32:45Z", "page": "CCC", "language": "en"},
    {"timestamp": "2013-09-03T03:32:45Z", "page": "DDD", "language": "en"},
]

# The rows of multi-value-dimensions.md.
MVD_EXAMPLE: list[dict[str, Any]] = [
    {"timestamp": "2011-01-12T00:00:00.000Z", "label": "row1", "tags": ["t1", "t2", "t3"]},
    {"timestamp": "2011-01-13T00:00:00.000Z", "label": "row2", "tags": ["t3", "t4", "t5"]},
    {"timestamp": "2011-01-14T00:00:00.000Z", "label": "row3", "tags": ["t5", "t6", "t7"]},
    {"timestamp": "2011-01-14T00:00:00.000Z", "label": "row4", "tags": []},
]

# The rows of the multi-value examples in filters.md.
MV_FRAGMENTS: list[dict[str, Any]] = [
    {"timestamp": "2020-01-01T00:00:00Z", "someMultiValueColumn": ["a", "b", "c"]},
    {"timestamp": "2020-01-01T01:00:00Z", "someMultiValueColumn": ["a", "c"]},
]
# Columns for the wrapped fragments: every name the filter, aggregator and dimension examples use.
FRAGMENTS: list[dict[str, Any]] = [
    {"timestamp": "2020-01-01T00:00:00Z", "someColumn": "hello", "otherColumn": 1234,
     "someNumericColumn": 1.23, "someLongColumn": 1, "outlaw": "Good", "age": 18, "name": "foo",
     "last_name": "Doe", "product": "product_1", "product_type": 42, "is_deleted": 0,
     "myFloatColumn": 10.1, "aLong": 3, "aDouble": 1.5, "aFloat": 0.25, "aString": "apple",
     "longTime": 100, "column_a": 1, "country_of_origin": "FR", "country_of_residence": "US",
     "first_name": "Ann", "total": 10.0, "part": 2.5, "delta": -4, "dimensionName": "key",
     "day_name": "Monday", "dateString": "2020-01-15", "path": "/druid/prod/historical",
     "user": "u1"},
    {"timestamp": "2020-01-01T12:00:00Z", "someColumn": "a", "otherColumn": 1,
     "anotherColumn": "x", "someNumericColumn": 2.0, "someLongColumn": 5, "outlaw": "Bad",
     "age": 25, "name": "goo", "last_name": "Smith", "product": "product_2 foo",
     "product_type": 42, "is_deleted": 1, "myFloatColumn": 15.5, "aLong": 7, "aDouble": -2.0,
     "aFloat": 1.5, "aString": "banana", "longTime": 50, "column_a": 2,
     "country_of_origin": "US", "country_of_residence": "US", "first_name": "Bob",
     "total": 20.0, "part": 5.0, "delta": 6, "dimensionName": "other", "day_name": "Tuesday",
     "user": "u2"},
    {"timestamp": "2020-01-02T06:00:00Z", "someColumn": "7", "someLongColumn": 7,
     "otherColumn": 99, "outlaw": "Ugly", "age": 31, "name": "hoo", "last_name": "Dupont",
     "product": "product_3", "product_type": 7, "is_deleted": 0, "myFloatColumn": 20.9,
     "aLong": -1, "aDouble": 4.0, "aFloat": 2.5, "aString": "cherry", "longTime": 200,
     "column_a": 3, "country_of_origin": "DE", "country_of_residence": "FR",
     "first_name": "Ann", "total": 5.0, "part": 1.0, "delta": 2, "dimensionName": "key",
     "day_name": "Wednesday", "user": "u1"},
    {"timestamp": "2020-01-03T06:00:00Z", "someColumn": "50.1", "outlaw": "Neutral", "age": 40,
     "name": "zoo", "product": "foo bar"},
    {"timestamp": "2020-01-03T07:00:00Z", "name": "10"},
]  # fmt: skip
FRAGMENT_DIMS = _dims(
    ["someColumn", "anotherColumn", "outlaw", "name", "last_name", "product",
     "aString", "country_of_origin", "country_of_residence", "first_name", "dimensionName",
     "day_name", "dateString", "path", "user"],
    otherColumn=LONG, someNumericColumn=DOUBLE, someLongColumn=LONG, age=LONG,
    product_type=LONG, is_deleted=LONG, myFloatColumn=FLOAT, aLong=LONG, aDouble=DOUBLE,
    aFloat=FLOAT, longTime=LONG, column_a=LONG, total=DOUBLE, part=DOUBLE, delta=LONG,
)  # fmt: skip


DATASETS: dict[str, tuple[list[dict[str, Any]], list[Any], list[dict[str, Any]]]] = {
    "sample_datasource": (SAMPLE_DATASOURCE, SAMPLE_DIMS, []),
    "sample_data": (
        SAMPLE_DATA, _dims(["sample_dim", "dim1", "dim2"], count=LONG, some_metric=DOUBLE), []
    ),
    "tpch_year": (
        TPCH_YEAR,
        _dims(["l_orderkey"], L_QUANTITY_longSum=LONG, L_TAX_doubleSum=DOUBLE,
              L_DISCOUNT_doubleSum=DOUBLE, L_EXTENDEDPRICE_doubleSum=DOUBLE),
        [],
    ),
    "wikipedia": (
        WIKIPEDIA, _dims(["page", "language", "user"], added=LONG, deleted=LONG, delta=LONG),
        [{"type": "count", "name": "count"}],
    ),
    "my_dataSource": (MY_DATASOURCE, ["page", "language"], []),
    "test": (MVD_EXAMPLE, ["label", "tags"], []),
    "mvd_example_rollup": (MVD_EXAMPLE, ["label", "tags"], []),  # the SQL examples' name
    "mv_fragments": (MV_FRAGMENTS, ["someMultiValueColumn"], []),
    "page_data": (
        [{"timestamp": "2015-06-01T00:00:00Z", "page": p, "wordCount": n}
         for p, n in (("Druid", 120), ("Duck", 7))],
        _dims(["page"], wordCount=LONG), [],
    ),
    "site_traffic": (
        [{"timestamp": "2020-05-01T00:00:00Z", "page": p} for p in ("a", "a", "b")], ["page"], []
    ),
    "sales": ([{"timestamp": "2020-05-01T00:00:00Z", "store": "s1", "revenue": 5}],
              _dims(["store"], revenue=LONG), []),
    "doc_fragments": (
        FRAGMENTS, FRAGMENT_DIMS,
        [{"type": "count", "name": "count"},
         {"type": "hyperUnique", "name": "uniques", "fieldName": "user"}],
    ),
    **{
        name: ([{"timestamp": "2020-01-01T00:00:00Z", "column1": f"{name}-1", "column2": "b"}],
               ["column1", "column2"], [])
        for name in ("dataSourceName", "table1", "table2", "table3")
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDruid]:
    """A server of its own: the examples' datasource names (wikipedia, test...) are common."""
    data = tmp_path_factory.mktemp("doc-examples") / "data"
    server = LocalDruid(data).start()
    try:
        for name, (rows, dims, metrics) in DATASETS.items():
            server.ingest(inline_task(name, rows, dimensions=dims, metrics=metrics, rollup=False))
        yield server
    finally:
        server.stop()


# -- result shapes ---------------------------------------------------------------------------------


def _output_names(query: dict[str, Any]) -> set[str]:
    """Names of the query's aggregators and post-aggregators, as they key each result row."""
    names = {a["name"] for a in query.get("aggregations", []) if a.get("name")}
    return names | {p["name"] for p in query.get("postAggregations", []) if p.get("name")}


def _dimension_name(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    if "delegate" in spec:
        return _dimension_name(spec["delegate"])
    return str(spec.get("outputName") or spec["dimension"])


def _check_timeseries(query: dict[str, Any], result: list[Any]) -> None:
    for row in result:
        assert set(row) == {"timestamp", "result"}
        assert set(row["result"]) == _output_names(query)


def _check_topn(query: dict[str, Any], result: list[Any]) -> None:
    want = _output_names(query) | {_dimension_name(query["dimension"])}
    for row in result:
        assert set(row) == {"timestamp", "result"}
        assert row["result"] and all(set(item) == want for item in row["result"])


def _check_groupby(query: dict[str, Any], result: list[Any]) -> None:
    want = _output_names(query) | {_dimension_name(d) for d in query["dimensions"]}
    for row in result:
        assert set(row) == {"version", "timestamp", "event"} and row["version"] == "v1"
        assert set(row["event"]) == want


def _check_scan(query: dict[str, Any], result: list[Any]) -> None:
    for batch in result:
        assert {"segmentId", "columns", "events"} <= set(batch)
        row_type = list if query.get("resultFormat") == "compactedList" else dict
        assert batch["events"] and all(isinstance(e, row_type) for e in batch["events"])


def _check_search(query: dict[str, Any], result: list[Any]) -> None:
    for row in result:
        assert set(row) == {"timestamp", "result"}
        assert all(set(hit) == {"dimension", "value", "count"} for hit in row["result"])


def _check_time_boundary(query: dict[str, Any], result: list[Any]) -> None:
    bound = query.get("bound")
    want = {bound} if bound else {"minTime", "maxTime"}
    assert len(result) == 1 and set(result[0]["result"]) == want


def _check_segment_metadata(query: dict[str, Any], result: list[Any]) -> None:
    for row in result:
        assert {"id", "intervals", "columns", "numRows"} <= set(row)


def _check_datasource_metadata(query: dict[str, Any], result: list[Any]) -> None:
    assert len(result) == 1 and set(result[0]["result"]) == {"maxIngestedEventTime"}


def _check_select(query: dict[str, Any], result: list[Any]) -> None:
    assert len(result) == 1 and {"pagingIdentifiers", "events"} <= set(result[0]["result"])
    assert result[0]["result"]["events"]


SHAPES = {
    "timeseries": _check_timeseries,
    "topN": _check_topn,
    "groupBy": _check_groupby,
    "scan": _check_scan,
    "search": _check_search,
    "timeBoundary": _check_time_boundary,
    "segmentMetadata": _check_segment_metadata,
    "dataSourceMetadata": _check_datasource_metadata,
    "select": _check_select,
}


def _comparable(query: dict[str, Any], result: list[Any]) -> list[Any]:
    """The result as the fixture writes it: groupBy rows without their constant version (the
    multi-value doc prints none), compacted scan rows without their batches."""
    if query.get("queryType") == "groupBy":
        return [{"timestamp": row["timestamp"], "event": row["event"]} for row in result]
    if query.get("queryType") == "scan":
        return [event for batch in result for event in batch["events"]]
    return result


def _example_id(example: dict[str, Any]) -> str:
    return f"{Path(example['source']).stem}: {example['section']}"


# -- tests -----------------------------------------------------------------------------------------


def test_fixture_names_its_sources() -> None:
    """Every example comes from a doc file whose commit is recorded, with a known expectation."""
    for example in EXAMPLES:
        assert Path(example["source"]).name in DOC_COMMITS
        assert example["expect"] in ("ok", "unsupported", "invalid")
        assert example["expect"] == "ok" or example["why"]
        if example["expect"] == "unsupported":
            assert example["why"] in FEATURE_WORDS


@pytest.mark.parametrize("example", EXAMPLES, ids=_example_id)
def test_doc_example(docs: LocalDruid, example: dict[str, Any]) -> None:
    query = example["query"]
    resp = docs.post(query, example.get("endpoint", "/druid/v2/"))
    if example["expect"] == "ok":
        assert resp.status_code == 200, resp.text
        result = resp.json()
        assert isinstance(result, list) and result, "the data behind each example gives rows"
        if "queryType" in query:  # SQL answers rows, not a native query type's shape
            SHAPES[query["queryType"]](query, result)
        if "result" in example:
            assert _comparable(query, result) == example["result"]
    elif example["expect"] == "unsupported":
        assert resp.status_code == 501, resp.text
        assert FEATURE_WORDS[example["why"]] in resp.json()["errorMessage"]
    else:
        assert resp.status_code == 400, resp.text


# -- behaviour the examples found missing, worked out by hand -------------------------------------

DAY_2 = 1_325_462_400_000  # 2012-01-02T00:00:00Z


def _usage_by_country(druid: LocalDruid, granularity: str, having: Any) -> list[Any]:
    query = {
        "queryType": "groupBy",
        "dataSource": "sample_datasource",
        "intervals": ["2012-01-01/2012-01-03"],
        "granularity": granularity,
        "dimensions": ["country"],
        "aggregations": [{"type": "longSum", "name": "total_usage", "fieldName": "user_count"}],
        "having": {"type": "filter", "filter": having},
    }
    return [(row["timestamp"], row["event"]) for row in druid.query(query)]


def test_having_filter_reads_the_bucket_timestamp(docs: LocalDruid) -> None:
    """Day 1 has US (150 + 40), day 2 FR (120 + 500); __time is each row's bucket."""
    from_day_2 = {
        "type": "bound",
        "dimension": "__time",
        "lower": str(DAY_2),
        "ordering": "numeric",
    }
    assert _usage_by_country(docs, "day", from_day_2) == [
        ("2012-01-02T00:00:00.000Z", {"country": "FR", "total_usage": 620})
    ]
    before_day_2 = {"type": "not", "field": from_day_2}
    assert _usage_by_country(docs, "day", before_day_2) == [
        ("2012-01-01T00:00:00.000Z", {"country": "US", "total_usage": 190})
    ]


def test_having_filter_reads_the_interval_start_for_granularity_all(docs: LocalDruid) -> None:
    day_1 = {"type": "selector", "dimension": "__time", "value": str(DAY_2 - 86_400_000)}
    assert _usage_by_country(docs, "all", day_1) == [
        ("2012-01-01T00:00:00.000Z", {"country": "FR", "total_usage": 620}),
        ("2012-01-01T00:00:00.000Z", {"country": "US", "total_usage": 190}),
    ]
    day_2 = {"type": "selector", "dimension": "__time", "value": str(DAY_2)}
    assert _usage_by_country(docs, "all", day_2) == []


def _count_query() -> dict[str, Any]:
    return {
        "queryType": "timeseries",
        "dataSource": "doc_fragments",
        "intervals": ["2020-01-01/2020-01-04"],
        "granularity": "all",
        "aggregations": [{"type": "count", "name": "rows"}],
    }


def _rows_where(druid: LocalDruid, flt: dict[str, Any]) -> int:
    return int(druid.query({**_count_query(), "filter": flt})[0]["result"]["rows"])


def test_column_comparison_accepts_the_output_type_a_column_has(docs: LocalDruid) -> None:
    """someColumn "7" equals someLongColumn 7 as text; the last row has neither (null = null)."""
    long_spec = {"type": "default", "dimension": "someLongColumn", "outputType": "LONG"}
    compare = {"type": "columnComparison", "dimensions": ["someColumn", long_spec]}
    assert _rows_where(docs, compare) == 2
    compare["dimensions"] = ["someColumn", "someLongColumn"]
    assert _rows_where(docs, compare) == 2
    compare["dimensions"] = ["someColumn", {**long_spec, "outputType": "DOUBLE"}]
    resp = docs.post({**_count_query(), "filter": compare})
    assert resp.status_code == 501 and "outputType" in resp.json()["errorMessage"]


def _grouped(druid: LocalDruid, dimension: dict[str, Any]) -> list[tuple[Any, int]]:
    query = {**_count_query(), "queryType": "groupBy", "dimensions": [dimension]}
    name = dimension["outputName"]
    return [(row["event"][name], row["event"]["rows"]) for row in druid.query(query)]


def test_lookup_dimension_spec_maps_values_through_its_inline_map(docs: LocalDruid) -> None:
    """dimensionName is key, other, key, and null twice."""
    spec = {
        "type": "lookup",
        "dimension": "dimensionName",
        "outputName": "mapped",
        "lookup": {"type": "map", "map": {"key": "value"}, "isOneToOne": False},
    }
    assert _grouped(docs, {**spec, "replaceMissingValueWith": "missing_value"}) == [
        ("missing_value", 3),
        ("value", 2),
    ]
    assert _grouped(docs, {**spec, "retainMissingValue": True}) == [
        (None, 2),
        ("other", 1),
        ("value", 2),
    ]
    assert _grouped(docs, spec) == [(None, 3), ("value", 2)]
    registered = {"type": "lookup", "dimension": "dimensionName", "outputName": "m", "name": "x"}
    resp = docs.post({**_count_query(), "queryType": "groupBy", "dimensions": [registered]})
    assert resp.status_code == 501 and "registered lookups" in resp.json()["errorMessage"]


def test_float_columns_match_values_read_as_floats(docs: LocalDruid) -> None:
    """myFloatColumn holds 10.1f, 15.5f and 20.9f: as doubles 10.1f and 20.9f are not 10.1 and
    20.9, but Druid reads the filter's value as a float, so they match."""
    column = "myFloatColumn"
    assert _rows_where(docs, {"type": "selector", "dimension": column, "value": "10.1"}) == 1
    assert _rows_where(docs, {"type": "in", "dimension": column, "values": ["10.1", "20.9"]}) == 2
    equals = {"type": "equals", "column": column, "matchValueType": "FLOAT", "matchValue": 20.9}
    assert _rows_where(docs, equals) == 1
    text = {**equals, "matchValueType": "STRING", "matchValue": "15.5"}
    assert _rows_where(docs, text) == 1
    assert _rows_where(docs, {"type": "selector", "dimension": column, "value": "10.10001"}) == 0


def test_lookup_dimension_spec_maps_each_value_of_a_multi_value_dimension(
    docs: LocalDruid,
) -> None:
    """The multi-value doc's rows: t3 is in row1 and row2, row4 has no tags (one null group)."""
    lookup = {"type": "map", "map": {"t3": "three"}}
    spec = {"type": "lookup", "dimension": "tags", "outputName": "t", "lookup": lookup}
    query = {
        "queryType": "groupBy",
        "dataSource": "test",
        "intervals": ["2011/2012"],
        "granularity": "all",
        "dimensions": [{**spec, "retainMissingValue": True}],
        "aggregations": [{"type": "count", "name": "n"}],
    }
    rows = [(row["event"]["t"], row["event"]["n"]) for row in docs.query(query)]
    assert rows == [
        (None, 1),
        ("t1", 1),
        ("t2", 1),
        ("t4", 1),
        ("t5", 2),
        ("t6", 1),
        ("t7", 1),
        ("three", 2),
    ]
