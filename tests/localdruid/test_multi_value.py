"""Multi-value string dimensions: ingestion of lists, filters matching any value, topN and groupBy
exploding rows, and the other query types, on the rows of Druid's multi-value-dimensions.md and
small edge cases, with answers worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from tests.localdruid.harness import LocalDruid, inline_task

INTERVAL = "1970-01-01T00:00:00.000Z/3000-01-01T00:00:00.000Z"
ALL_TIME = "1970-01-01T00:00:00.000Z"

# The rows of docs/querying/multi-value-dimensions.md.
DOC_ROWS = [
    {"timestamp": "2011-01-12T00:00:00.000Z", "label": "row1", "tags": ["t1", "t2", "t3"]},
    {"timestamp": "2011-01-13T00:00:00.000Z", "label": "row2", "tags": ["t3", "t4", "t5"]},
    {"timestamp": "2011-01-14T00:00:00.000Z", "label": "row3", "tags": ["t5", "t6", "t7"]},
    {"timestamp": "2011-01-14T00:00:00.000Z", "label": "row4", "tags": []},
]
COUNT = [{"type": "count", "name": "count"}]


@pytest.fixture(scope="module")
def doc(druid: LocalDruid) -> str:
    druid.ingest(inline_task("mv_doc", DOC_ROWS, dimensions=["label", "tags"], rollup=False))
    return "mv_doc"


def _group_by(datasource: str, dimensions: list[Any], **fields: Any) -> dict[str, Any]:
    query = {
        "queryType": "groupBy",
        "dataSource": datasource,
        "intervals": [INTERVAL],
        "granularity": "all",
        "dimensions": dimensions,
        "aggregations": COUNT,
    }
    query.update(fields)
    return query


def _events(druid: LocalDruid, query: dict[str, Any]) -> list[dict[str, Any]]:
    return [row["event"] for row in druid.query(query)]


def _labels(druid: LocalDruid, datasource: str, filter_: Any) -> list[str]:
    """The rows a filter keeps, by label."""
    result = druid.query(
        {
            "queryType": "scan",
            "dataSource": datasource,
            "intervals": [INTERVAL],
            "columns": ["label"],
            "filter": filter_,
            "resultFormat": "compactedList",
        }
    )
    return sorted(event[0] for batch in result for event in batch["events"])


def _scan(druid: LocalDruid, datasource: str, columns: list[str]) -> list[list[Any]]:
    result = druid.query(
        {
            "queryType": "scan",
            "dataSource": datasource,
            "intervals": [INTERVAL],
            "columns": columns,
            "resultFormat": "compactedList",
        }
    )
    return [event for batch in result for event in batch["events"]]


# -- the doc's examples ---------------------------------------------------------------------------


def test_group_by_explodes_each_row_into_its_values(druid: LocalDruid, doc: str) -> None:
    """The doc's first example, plus the group of row4, whose empty list Druid's groupBy engine
    groups as null (the doc's printed result leaves it out; apache/druid#5897)."""
    events = _events(druid, _group_by(doc, [{"type": "default", "dimension": "tags"}]))
    assert events == [
        {"tags": None, "count": 1},
        {"tags": "t1", "count": 1},
        {"tags": "t2", "count": 1},
        {"tags": "t3", "count": 2},
        {"tags": "t4", "count": 1},
        {"tags": "t5", "count": 2},
        {"tags": "t6", "count": 1},
        {"tags": "t7", "count": 1},
    ]


def test_filter_selects_rows_before_they_explode(druid: LocalDruid, doc: str) -> None:
    query = _group_by(
        doc,
        [{"type": "default", "dimension": "tags", "outputName": "tags"}],
        filter={"type": "selector", "dimension": "tags", "value": "t3"},
    )
    assert druid.query(query) == [
        {"version": "v1", "timestamp": ALL_TIME, "event": {"tags": tag, "count": n}}
        for tag, n in [("t1", 1), ("t2", 1), ("t3", 2), ("t4", 1), ("t5", 1)]
    ]


def test_list_filtered_dimension_keeps_only_the_listed_values(druid: LocalDruid, doc: str) -> None:
    dimension = {
        "type": "listFiltered",
        "delegate": {"type": "default", "dimension": "tags", "outputName": "tags"},
        "values": ["t3"],
    }
    selector = {"type": "selector", "dimension": "tags", "value": "t3"}
    assert _events(druid, _group_by(doc, [dimension], filter=selector)) == [
        {"tags": "t3", "count": 2}
    ]
    # Without the filter, row3 and row4 keep no value: both group as null.
    assert _events(druid, _group_by(doc, [dimension])) == [
        {"tags": None, "count": 2},
        {"tags": "t3", "count": 2},
    ]


def test_prefix_and_regex_filtered_dimensions_filter_each_value(
    druid: LocalDruid, doc: str
) -> None:
    prefix = {"type": "prefixFiltered", "delegate": "tags", "prefix": "t5"}
    assert _events(druid, _group_by(doc, [prefix])) == [
        {"tags": None, "count": 2},  # row1 has no t5; row4 no value
        {"tags": "t5", "count": 2},
    ]
    regex = {"type": "regexFiltered", "delegate": "tags", "pattern": "t[67]"}
    assert _events(druid, _group_by(doc, [regex])) == [
        {"tags": None, "count": 3},
        {"tags": "t6", "count": 1},
        {"tags": "t7", "count": 1},
    ]
    blacklist = {
        "type": "listFiltered",
        "delegate": "tags",
        "values": ["t3", "t5"],
        "isWhitelist": False,
    }
    assert _events(druid, _group_by(doc, [blacklist], filter=_selector("t3"))) == [
        {"tags": "t1", "count": 1},
        {"tags": "t2", "count": 1},
        {"tags": "t4", "count": 1},
    ]


def _selector(value: str | None) -> dict[str, Any]:
    return {"type": "selector", "dimension": "tags", "value": value}


def test_doc_filters_match_a_row_if_any_value_matches(druid: LocalDruid, doc: str) -> None:
    assert _labels(druid, doc, {"type": "or", "fields": [_selector("t1"), _selector("t3")]}) == [
        "row1",
        "row2",
    ]
    assert _labels(druid, doc, {"type": "and", "fields": [_selector("t1"), _selector("t3")]}) == [
        "row1"
    ]
    assert _labels(druid, doc, _selector(None)) == ["row4"]
    assert _labels(druid, doc, _selector("")) == []


def test_not_negates_the_any_match_and_leaves_empty_rows_unknown(
    druid: LocalDruid, doc: str
) -> None:
    assert _labels(druid, doc, {"type": "not", "field": _selector("t3")}) == ["row3"]
    assert _labels(druid, doc, {"type": "not", "field": _selector(None)}) == [
        "row1",
        "row2",
        "row3",
    ]


@pytest.mark.parametrize(
    ("filter_", "labels"),
    [
        ({"type": "in", "dimension": "tags", "values": ["t1", "t7"]}, ["row1", "row3"]),
        ({"type": "in", "dimension": "tags", "values": [None, "t2"]}, ["row1", "row4"]),
        ({"type": "bound", "dimension": "tags", "lower": "t6"}, ["row3"]),
        ({"type": "bound", "dimension": "tags", "lower": "t4", "upper": "t4"}, ["row2"]),
        # No lower bound: null (row4's empty list) sorts below everything and matches.
        ({"type": "bound", "dimension": "tags", "upper": "t1"}, ["row1", "row4"]),
        ({"type": "like", "dimension": "tags", "pattern": "%7"}, ["row3"]),
        ({"type": "regex", "dimension": "tags", "pattern": "^t[12]$"}, ["row1"]),
        (
            {"type": "search", "dimension": "tags", "query": {"type": "contains", "value": "4"}},
            ["row2"],
        ),
        (
            {"type": "equals", "column": "tags", "matchValueType": "STRING", "matchValue": "t5"},
            ["row2", "row3"],
        ),
        ({"type": "null", "column": "tags"}, ["row4"]),
        (
            {"type": "range", "column": "tags", "matchValueType": "STRING", "lower": "t6"},
            ["row3"],
        ),
        (
            {
                "type": "selector",
                "dimension": "tags",
                "value": "T2",
                "extractionFn": {"type": "upper"},
            },
            ["row1"],
        ),
    ],
)
def test_value_filters_match_any_value(
    druid: LocalDruid, doc: str, filter_: dict[str, Any], labels: list[str]
) -> None:
    assert _labels(druid, doc, filter_) == labels


def test_filtered_aggregator_counts_rows_with_any_match(druid: LocalDruid, doc: str) -> None:
    result = druid.query(
        {
            "queryType": "timeseries",
            "dataSource": doc,
            "intervals": [INTERVAL],
            "granularity": "all",
            "aggregations": [
                {"type": "count", "name": "rows"},
                {"type": "filtered", "filter": _selector("t5"), "aggregator": COUNT[0]},
            ],
        }
    )
    assert result == [{"timestamp": "2011-01-12T00:00:00.000Z", "result": {"rows": 4, "count": 2}}]


def test_timeseries_counts_each_row_once(druid: LocalDruid, doc: str) -> None:
    result = druid.query(
        {
            "queryType": "timeseries",
            "dataSource": doc,
            "intervals": [INTERVAL],
            "granularity": "day",
            "filter": {"type": "in", "dimension": "tags", "values": ["t3", "t5"]},
            "aggregations": COUNT,
        }
    )
    assert result == [
        {"timestamp": "2011-01-12T00:00:00.000Z", "result": {"count": 1}},
        {"timestamp": "2011-01-13T00:00:00.000Z", "result": {"count": 1}},
        {"timestamp": "2011-01-14T00:00:00.000Z", "result": {"count": 1}},
    ]


def test_top_n_explodes_and_leaves_out_empty_rows(druid: LocalDruid, doc: str) -> None:
    """Druid's topN engine skips a row without values (groupBy groups it as null)."""
    result = druid.query(
        {
            "queryType": "topN",
            "dataSource": doc,
            "intervals": [INTERVAL],
            "granularity": "all",
            "dimension": "tags",
            "metric": "count",
            "threshold": 3,
            "aggregations": COUNT,
        }
    )
    assert result == [
        {
            "timestamp": "2011-01-12T00:00:00.000Z",
            "result": [
                {"tags": "t3", "count": 2},
                {"tags": "t5", "count": 2},
                {"tags": "t1", "count": 1},
            ],
        }
    ]


def test_top_n_with_filter_and_extraction_per_value(druid: LocalDruid, doc: str) -> None:
    result = druid.query(
        {
            "queryType": "topN",
            "dataSource": doc,
            "intervals": [INTERVAL],
            "granularity": "all",
            "dimension": {
                "type": "extraction",
                "dimension": "tags",
                "outputName": "tag",
                "extractionFn": {"type": "upper"},
            },
            "filter": {"type": "and", "fields": [_selector("t1"), _selector("t3")]},
            "metric": {"type": "dimension", "ordering": "lexicographic"},
            "threshold": 10,
            "aggregations": COUNT,
        }
    )
    assert result[0]["result"] == [
        {"tag": "T1", "count": 1},
        {"tag": "T2", "count": 1},
        {"tag": "T3", "count": 1},
    ]


def test_group_by_having_and_limit_spec_over_exploded_groups(druid: LocalDruid, doc: str) -> None:
    query = _group_by(
        doc,
        ["label", "tags"],
        filter={"type": "in", "dimension": "tags", "values": ["t5"]},
        having={"type": "greaterThan", "aggregation": "count", "value": 0},
        limitSpec={
            "type": "default",
            "columns": [{"dimension": "tags", "direction": "descending"}],
            "limit": 4,
        },
    )
    assert _events(druid, query) == [
        {"label": "row3", "tags": "t7", "count": 1},
        {"label": "row3", "tags": "t6", "count": 1},
        {"label": "row2", "tags": "t5", "count": 1},
        {"label": "row3", "tags": "t5", "count": 1},
    ]
    query = _group_by(
        doc, ["tags"], having={"type": "greaterThan", "aggregation": "count", "value": 1}
    )
    assert _events(druid, query) == [{"tags": "t3", "count": 2}, {"tags": "t5", "count": 2}]


def test_group_by_two_multi_value_dimensions_groups_their_cross_product(
    druid: LocalDruid,
) -> None:
    rows = [{"timestamp": "2024-01-01T00:00:00Z", "a": ["x", "y"], "b": ["1", "2"]}]
    druid.ingest(inline_task("mv_cross", rows, dimensions=["a", "b"], rollup=False))
    assert _events(druid, _group_by("mv_cross", ["a", "b"])) == [
        {"a": "x", "b": "1", "count": 1},
        {"a": "x", "b": "2", "count": 1},
        {"a": "y", "b": "1", "count": 1},
        {"a": "y", "b": "2", "count": 1},
    ]


def test_scan_returns_lists_single_values_and_null(druid: LocalDruid, doc: str) -> None:
    assert sorted(_scan(druid, doc, ["label", "tags"])) == [
        ["row1", ["t1", "t2", "t3"]],
        ["row2", ["t3", "t4", "t5"]],
        ["row3", ["t5", "t6", "t7"]],
        ["row4", None],
    ]


def test_search_counts_rows_per_value(druid: LocalDruid, doc: str) -> None:
    result = druid.query(
        {
            "queryType": "search",
            "dataSource": doc,
            "intervals": [INTERVAL],
            "granularity": "all",
            "searchDimensions": ["tags"],
            "query": {"type": "contains", "value": "5"},
        }
    )
    assert result == [
        {
            "timestamp": "2011-01-12T00:00:00.000Z",
            "result": [{"dimension": "tags", "value": "t5", "count": 2}],
        }
    ]
    result = druid.query(
        {
            "queryType": "search",
            "dataSource": doc,
            "intervals": [INTERVAL],
            "granularity": "all",
            "searchDimensions": ["tags"],
            "filter": _selector("t1"),
            "query": {"type": "contains", "value": "t"},
        }
    )
    assert result[0]["result"] == [
        {"dimension": "tags", "value": v, "count": 1} for v in ("t1", "t2", "t3")
    ]


def test_segment_metadata_reports_multiple_values(druid: LocalDruid, doc: str) -> None:
    result = druid.query(
        {
            "queryType": "segmentMetadata",
            "dataSource": doc,
            "intervals": ["2011-01-13/2011-01-15"],
        }
    )
    columns = [segment["columns"] for segment in result]
    assert [(c["tags"]["hasMultipleValues"], c["label"]["hasMultipleValues"]) for c in columns] == [
        (True, False),
        (True, False),
    ]
    assert [c["tags"]["type"] for c in columns] == ["STRING", "STRING"]
    # Day 13: row2's three values. Day 14: row3's three and null for row4's empty list.
    assert [
        (
            c["tags"]["cardinality"],
            c["tags"]["hasNulls"],
            c["tags"]["minValue"],
            c["tags"]["maxValue"],
        )
        for c in columns
    ] == [(3, False, "t3", "t5"), (4, True, "t5", "t7")]


# -- ingestion ------------------------------------------------------------------------------------

EDGE_ROWS = [
    {"timestamp": "2024-01-01T00:00:00Z", "k": "dup", "tags": ["b", "a", "b"]},
    {"timestamp": "2024-01-01T00:00:00Z", "k": "one", "tags": ["x"]},
    {"timestamp": "2024-01-01T00:00:00Z", "k": "scalar", "tags": "x"},
    {"timestamp": "2024-01-01T00:00:00Z", "k": "null", "tags": None},
    {"timestamp": "2024-01-01T00:00:00Z", "k": "missing"},
    {"timestamp": "2024-01-01T00:00:00Z", "k": "numbers", "tags": [10, 2.5, True]},
    {"timestamp": "2024-01-01T00:00:00Z", "k": "nullvalue", "tags": ["q", None]},
    {"timestamp": "2024-01-01T00:00:00Z", "k": "empty", "tags": []},
]


@pytest.mark.parametrize(
    ("handling", "dup", "numbers", "null_value"),
    [
        (None, ["a", "b", "b"], ["10", "2.5", "true"], [None, "q"]),
        ("SORTED_ARRAY", ["a", "b", "b"], ["10", "2.5", "true"], [None, "q"]),
        ("sorted_set", ["a", "b"], ["10", "2.5", "true"], [None, "q"]),
        ("ARRAY", ["b", "a", "b"], ["10", "2.5", "true"], ["q", None]),
    ],
)
def test_ingested_lists_follow_multi_value_handling(
    druid: LocalDruid,
    handling: str | None,
    dup: list[str],
    numbers: list[str],
    null_value: list[str | None],
) -> None:
    name = f"mv_edge_{(handling or 'default').lower()}"
    tags: dict[str, Any] = {"type": "string", "name": "tags"}
    if handling:
        tags["multiValueHandling"] = handling
    druid.ingest(inline_task(name, EDGE_ROWS, dimensions=["k", tags], rollup=False))
    assert {row[0]: row[1] for row in _scan(druid, name, ["k", "tags"])} == {
        "dup": dup,
        "one": "x",
        "scalar": "x",
        "null": None,
        "missing": None,
        "numbers": numbers,
        "nullvalue": null_value,
        "empty": None,
    }


def test_null_and_empty_rows_in_group_by_and_top_n(druid: LocalDruid) -> None:
    druid.ingest(inline_task("mv_nulls", EDGE_ROWS, dimensions=["k", "tags"], rollup=False))
    # groupBy: null, missing, empty and the null value each give one null; dup counts b twice.
    assert _events(druid, _group_by("mv_nulls", ["tags"])) == [
        {"tags": None, "count": 4},
        {"tags": "10", "count": 1},
        {"tags": "2.5", "count": 1},
        {"tags": "a", "count": 1},
        {"tags": "b", "count": 2},
        {"tags": "q", "count": 1},
        {"tags": "true", "count": 1},
        {"tags": "x", "count": 2},
    ]
    top = druid.query(
        {
            "queryType": "topN",
            "dataSource": "mv_nulls",
            "intervals": [INTERVAL],
            "granularity": "all",
            "dimension": "tags",
            "metric": "count",
            "threshold": 3,
            "aggregations": COUNT,
        }
    )
    # topN leaves the empty row out: null counts null, missing and the null value.
    assert top[0]["result"] == [
        {"tags": None, "count": 3},
        {"tags": "b", "count": 2},
        {"tags": "x", "count": 2},
    ]


def test_rollup_keys_on_the_whole_sorted_list(druid: LocalDruid) -> None:
    rows = [
        {"timestamp": "2024-01-01T00:00:00Z", "tags": ["b", "a"], "n": 1},
        {"timestamp": "2024-01-01T00:00:00Z", "tags": ["a", "b"], "n": 2},
        {"timestamp": "2024-01-01T00:00:00Z", "tags": ["a"], "n": 4},
        {"timestamp": "2024-01-01T00:00:00Z", "tags": "a", "n": 8},
        {"timestamp": "2024-01-01T00:00:00Z", "tags": ["a", "b", "b"], "n": 16},
    ]
    druid.ingest(
        inline_task(
            "mv_rollup",
            rows,
            dimensions=["tags"],
            metrics=[{"type": "longSum", "name": "n", "fieldName": "n"}, *COUNT],
        )
    )
    assert sorted(_scan(druid, "mv_rollup", ["tags", "n", "count"]), key=str) == [
        ["a", 12, 2],
        [["a", "b", "b"], 16, 1],
        [["a", "b"], 3, 2],
    ]


def test_text_that_looks_like_a_list_stays_one_value(druid: LocalDruid) -> None:
    rows = [{"timestamp": "2024-01-01T00:00:00Z", "s": '["x", "y"]', "t": "[not json"}]
    druid.ingest(inline_task("mv_text", rows, dimensions=["s", "t"]))
    assert _scan(druid, "mv_text", ["s", "t"]) == [['["x", "y"]', "[not json"]]
    assert _events(druid, _group_by("mv_text", ["s"])) == [{"s": '["x", "y"]', "count": 1}]


def test_delimited_values_split_on_the_list_delimiter(druid: LocalDruid) -> None:
    data = "ts,k,tags\n2024-01-01T00:00:00Z,a,x|y\n2024-01-01T00:00:00Z,b,z\n"
    task = inline_task(
        "mv_csv",
        data,
        dimensions=["k", "tags"],
        input_format={"type": "csv", "findColumnsFromHeader": True, "listDelimiter": "|"},
        timestamp={"column": "ts", "format": "iso"},
        rollup=False,
    )
    druid.ingest(task)
    assert sorted(_scan(druid, "mv_csv", ["k", "tags"])) == [["a", ["x", "y"]], ["b", "z"]]


def test_lists_arriving_in_a_single_value_column_widen_it(druid: LocalDruid) -> None:
    """A later ingestion with lists turns the column into a multi-value one; its earlier values
    read as one-value rows. Later scalars into a multi-value column are one-value rows too."""
    first = [{"timestamp": "2024-01-01T00:00:00Z", "tags": "a"}]
    druid.ingest(inline_task("mv_widen", first, dimensions=["tags"], rollup=False))
    second = [{"timestamp": "2024-01-02T00:00:00Z", "tags": ["c", "b"]}]
    druid.ingest(inline_task("mv_widen", second, dimensions=["tags"], rollup=False, append=True))
    third = [{"timestamp": "2024-01-03T00:00:00Z", "tags": "d"}]
    druid.ingest(inline_task("mv_widen", third, dimensions=["tags"], rollup=False, append=True))
    assert _scan(druid, "mv_widen", ["tags"]) == [["a"], [["b", "c"]], ["d"]]
    assert _events(druid, _group_by("mv_widen", ["tags"])) == [
        {"tags": t, "count": 1} for t in "abcd"
    ]


def test_reindexing_keeps_the_lists(druid: LocalDruid, doc: str) -> None:
    task = inline_task(
        "mv_reindexed",
        [],
        dimensions=["label", "tags"],
        rollup=False,
        timestamp={"column": "__time", "format": "millis"},
    )
    task["spec"]["ioConfig"]["inputSource"] = {
        "type": "druid",
        "dataSource": doc,
        "interval": INTERVAL,
        "filter": _selector("t5"),
    }
    del task["spec"]["ioConfig"]["inputFormat"]
    druid.ingest(task)
    assert sorted(_scan(druid, "mv_reindexed", ["label", "tags"])) == [
        ["row2", ["t3", "t4", "t5"]],
        ["row3", ["t5", "t6", "t7"]],
    ]


# -- not supported ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {
            "queryType": "timeseries",
            "aggregations": [{"type": "count", "name": "n"}],
            "virtualColumns": [
                {"type": "expression", "name": "v", "expression": "concat(tags, 'x')"}
            ],
            "filter": {"type": "selector", "dimension": "v", "value": "t1x"},
        },
        {
            "queryType": "timeseries",
            "aggregations": [{"type": "count", "name": "n"}],
            "filter": {"type": "expression", "expression": "tags == 't1'"},
        },
        {
            "queryType": "timeseries",
            "aggregations": [{"type": "stringFirst", "name": "f", "fieldName": "tags"}],
        },
        {
            "queryType": "timeseries",
            "aggregations": [{"type": "count", "name": "n"}],
            "filter": {"type": "columnComparison", "dimensions": ["tags", "label"]},
        },
    ],
)
def test_per_row_uses_of_a_multi_value_column_answer_501(
    druid: LocalDruid, doc: str, query: dict[str, Any]
) -> None:
    query = {"dataSource": doc, "intervals": [INTERVAL], "granularity": "all", **query}
    resp = druid.post(query)
    assert resp.status_code == 501, resp.text
    assert "multi-value column [tags]" in resp.json()["errorMessage"]


def test_unknown_multi_value_handling_is_refused(druid: LocalDruid) -> None:
    tags = {"type": "string", "name": "tags", "multiValueHandling": "SHUFFLED"}
    resp = requests.post(
        f"{druid.url}/druid/indexer/v1/task",
        json=inline_task("mv_bad", DOC_ROWS, dimensions=[tags]),
        timeout=10,
    )
    assert resp.status_code == 400, resp.text
    assert "multiValueHandling" in resp.json()["errorMessage"]


def test_parquet_lists_are_multi_value_rows(druid: LocalDruid, tmp_path: Path) -> None:
    path = tmp_path / "lists.parquet"
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT * FROM (VALUES (TIMESTAMP '2024-01-01', ['b', 'a'], [1.5, 2.0]),"
            " (TIMESTAMP '2024-01-02', ['c'], []::DOUBLE[]), (TIMESTAMP '2024-01-03', NULL, NULL)"
            ") AS t(ts, tags, xs)) TO ? (FORMAT parquet)",
            [str(path)],
        )
    task = inline_task(
        "mv_parquet",
        [],
        dimensions=["tags", "xs"],
        input_format={"type": "parquet"},
        timestamp={"column": "ts", "format": "auto"},
        rollup=False,
    )
    task["spec"]["ioConfig"]["inputSource"] = {"type": "local", "files": [str(path)]}
    druid.ingest(task)
    assert _scan(druid, "mv_parquet", ["tags", "xs"]) == [
        [["a", "b"], ["1.5", "2.0"]],
        ["c", None],
        [None, None],
    ]


def test_compaction_keeps_the_lists(druid: LocalDruid) -> None:
    druid.ingest(inline_task("mv_compacted", DOC_ROWS, dimensions=["label", "tags"], rollup=False))
    druid.ingest(
        {
            "type": "compact",
            "dataSource": "mv_compacted",
            "ioConfig": {
                "type": "compact",
                "inputSpec": {"type": "interval", "interval": "2011-01-01/2011-02-01"},
            },
            "granularitySpec": {"segmentGranularity": "month"},
        }
    )
    assert sorted(_scan(druid, "mv_compacted", ["label", "tags"])) == [
        ["row1", ["t1", "t2", "t3"]],
        ["row2", ["t3", "t4", "t5"]],
        ["row3", ["t5", "t6", "t7"]],
        ["row4", None],
    ]
    assert _events(druid, _group_by("mv_compacted", ["tags"]))[:2] == [
        {"tags": None, "count": 1},
        {"tags": "t1", "count": 1},
    ]


# -- arrayContainsElement -------------------------------------------------------------------------


def _contains(column: str, value: Any, kind: str = "STRING") -> dict[str, Any]:
    return {
        "type": "arrayContainsElement",
        "column": column,
        "elementMatchValueType": kind,
        "elementMatchValue": value,
    }


def test_array_contains_element(druid: LocalDruid, doc: str) -> None:
    """Druid reads a multi-value row as the array of its values and a single-value column as a
    one-element array; a null element matches rows without values."""
    assert _labels(druid, doc, _contains("tags", "t3")) == ["row1", "row2"]
    assert _labels(druid, doc, _contains("tags", "t9")) == []
    assert _labels(druid, doc, _contains("label", "row3")) == ["row3"]
    assert _labels(druid, doc, _contains("tags", None)) == ["row4"]
    both = {"type": "and", "fields": [_contains("tags", "t3"), _contains("tags", "t5")]}
    assert _labels(druid, doc, both) == ["row2"]
    assert _labels(druid, doc, {"type": "not", "field": _contains("tags", "t5")}) == ["row1"]


def test_array_contains_element_refusals(druid: LocalDruid, doc: str) -> None:
    query = {
        "queryType": "timeseries",
        "dataSource": doc,
        "intervals": [INTERVAL],
        "granularity": "all",
        "aggregations": COUNT,
    }
    array = druid.post({**query, "filter": _contains("tags", ["t1"], "ARRAY<STRING>")})
    assert array.status_code == 501, array.text
    missing = {"type": "arrayContainsElement", "column": "tags", "elementMatchValueType": "STRING"}
    resp = druid.post({**query, "filter": missing})
    assert resp.status_code == 400 and "elementMatchValue" in resp.json()["errorMessage"]


def test_distinct_count_sketches_count_each_value(druid: LocalDruid, doc: str) -> None:
    """thetaSketch and HLLSketchBuild over a multi-value column add every value of each row."""
    aggs = [
        {"type": "thetaSketch", "name": "theta", "fieldName": "tags"},
        {"type": "HLLSketchBuild", "name": "hll", "fieldName": "tags", "round": True},
    ]
    query = {
        "queryType": "timeseries",
        "dataSource": doc,
        "intervals": [INTERVAL],
        "granularity": "all",
        "aggregations": aggs,
    }
    assert druid.query(query)[0]["result"] == {"theta": 7.0, "hll": 7}
    # Rows 1 and 2 hold t3: their values are t1 to t5.
    filtered = {**query, "filter": _selector("t3")}
    assert druid.query(filtered)[0]["result"] == {"theta": 5.0, "hll": 5}
    per_row = _events(druid, _group_by(doc, ["label"], aggregations=aggs))
    assert [(e["label"], e["theta"]) for e in per_row] == [
        ("row1", 3.0),
        ("row2", 3.0),
        ("row3", 3.0),
        ("row4", 0.0),
    ]
