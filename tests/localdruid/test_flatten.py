"""The flattenSpec through the task API: root, path, tree and jq fields, JsonPath functions, field
discovery, and the answers for what is invalid or not supported; and the Parquet inputFormat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from tests.localdruid.harness import (
    LocalDruid,
    column_types,
    inline_task,
    scan_rows,
    stored_dimensions,
)

T1, T2 = "2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"
MS1, MS2 = 1_704_067_200_000, 1_704_070_800_000

ROWS = [
    {
        "timestamp": T1,
        "page": "Home",
        "geo": {"city": "Oslo", "zip": {"code": "0150"}},
        "tags": ["a", "b"],
        "hits": [{"n": 1}, {"n": 2}],
        "x y": "spaced",
        "n": 3,
    },
    {
        "timestamp": T2,
        "page": "About",
        "geo": {"city": "Paris"},
        "tags": ["c"],
        "hits": [{"n": 5}],
        "x y": None,
    },
]


def _json(fields: list[Any], discovery: bool | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"fields": fields}
    if discovery is not None:
        spec["useFieldDiscovery"] = discovery
    return {"type": "json", "flattenSpec": spec}


def _refused(druid: LocalDruid, input_format: dict[str, Any]) -> tuple[int, str]:
    task = inline_task("flat_bad", ROWS, input_format=input_format)
    resp = requests.post(f"{druid.url}/druid/indexer/v1/task", json=task, timeout=10)
    return resp.status_code, str(resp.json()["errorMessage"])


def test_root_path_and_tree_fields_with_discovery(druid: LocalDruid) -> None:
    fields = [
        {"type": "path", "name": "city", "expr": "$.geo.city"},
        {"type": "path", "name": "zip", "expr": "$.geo.zip.code"},
        {"type": "tree", "name": "zip_tree", "nodes": ["geo", "zip", "code"]},
        {"type": "path", "name": "first_tag", "expr": "$.tags[0]"},
        {"type": "path", "name": "last_hit", "expr": "$.hits[-1].n"},
        {"type": "path", "name": "spaced", "expr": "$['x y']"},
        {"type": "path", "name": "nothing", "expr": "$.geo.nope"},
        {"type": "root", "name": "renamed", "expr": "page"},
        "n",
    ]
    druid.ingest(inline_task("flat_main", ROWS, input_format=_json(fields), rollup=False))
    # The fields first, then the discovered root fields they do not name; the nested object
    # `geo` and the array of objects `hits` are not discovered.
    dims = ["city", "zip", "zip_tree", "first_tag", "last_hit", "spaced", "nothing", "renamed"]
    dims += ["n", "page", "tags", "x y"]
    assert stored_dimensions(druid, "flat_main") == dims
    first, second = scan_rows(druid, "flat_main", ["__time", *dims])
    assert dict(zip(["__time", *dims], first, strict=True)) == {
        "__time": MS1,
        "city": "Oslo",
        "zip": "0150",
        "zip_tree": "0150",
        "first_tag": "a",
        "last_hit": "2",
        "spaced": "spaced",
        "nothing": None,
        "renamed": "Home",
        "n": "3",
        "page": "Home",
        "tags": ["a", "b"],  # a multi-value dimension
        "x y": "spaced",
    }
    assert dict(zip(["__time", *dims], second, strict=True)) == {
        "__time": MS2,
        "city": "Paris",
        "zip": None,
        "zip_tree": None,
        "first_tag": "c",
        "last_hit": "5",
        "spaced": None,
        "nothing": None,
        "renamed": "About",
        "n": None,
        "page": "About",
        "tags": "c",  # a one-value list reads as its value
        "x y": None,
    }


def test_jq_fields_that_are_plain_paths(druid: LocalDruid) -> None:
    fields = {"city": ".geo.city", "hit": ".hits[0].n", "spaced": '."x y"', "last": ".tags[-1]"}
    spec = [{"type": "jq", "name": name, "expr": expr} for name, expr in fields.items()]
    druid.ingest(
        inline_task(
            "flat_jq", ROWS, dimensions=list(fields), input_format=_json(spec), rollup=False
        )
    )
    assert scan_rows(druid, "flat_jq", list(fields)) == [
        ["Oslo", "1", "spaced", "b"],
        ["Paris", "5", None, "c"],
    ]


def test_without_field_discovery_only_the_fields_are_dimensions(druid: LocalDruid) -> None:
    input_format = _json([{"type": "path", "name": "city", "expr": "$.geo.city"}], False)
    druid.ingest(inline_task("flat_nodisc", ROWS, input_format=input_format, rollup=False))
    assert stored_dimensions(druid, "flat_nodisc") == ["city"]
    # The timestamp is still read from the root, as Druid's flattened record answers any key.
    assert scan_rows(druid, "flat_nodisc", ["__time", "city"]) == [[MS1, "Oslo"], [MS2, "Paris"]]

    # So are listed dimensions that no field names.
    druid.ingest(
        inline_task(
            "flat_nodisc_listed",
            ROWS,
            dimensions=["city", "page"],
            input_format=input_format,
            rollup=False,
        )
    )
    assert scan_rows(druid, "flat_nodisc_listed", ["city", "page"]) == [
        ["Oslo", "Home"],
        ["Paris", "About"],
    ]


def test_discovery_skips_nested_objects_nulls_and_arrays_of_objects(druid: LocalDruid) -> None:
    rows = [
        {"timestamp": T1, "a": "x", "o": {"k": 1}, "l": [{"k": 1}], "ll": [[1]], "z": None},
        {"timestamp": T2, "a": "y", "o": {"k": 2}, "m": [1, 2], "z": None},
    ]
    druid.ingest(inline_task("flat_plain", rows, rollup=False))
    assert stored_dimensions(druid, "flat_plain") == ["a", "m"]
    druid.ingest(inline_task("flat_flat", rows, input_format=_json([]), rollup=False))
    assert stored_dimensions(druid, "flat_flat") == ["a", "m"]
    # useSchemaDiscovery discovers every field, nested ones too (Druid makes JSON columns of
    # them; localdruid keeps their JSON text).
    task = inline_task("flat_nested", rows, rollup=False)
    task["spec"]["dataSchema"]["dimensionsSpec"]["useSchemaDiscovery"] = True
    druid.ingest(task)
    assert stored_dimensions(druid, "flat_nested") == ["a", "o", "l", "ll", "z", "m"]
    assert scan_rows(druid, "flat_nested", ["o", "l"]) == [
        ['{"k":1}', '[{"k":1}]'],
        ['{"k":2}', None],
    ]


def test_jsonpath_functions(druid: LocalDruid) -> None:
    row = {
        "timestamp": T1,
        "values": [0, 1, 2, 3, 4],
        "mixed": [1, "2", 3.5, None, True],
        "words": ["ab", 7, "cd"],
        "obj": {"a": 1, "b": 2},
        "empty": [],
        "first": "x",
        "second": "y",
    }
    fields = {
        "len": "$.values.length()",
        "min": "$.values.min()",
        "max": "$.values.max()",
        "sum": "$.values.sum()",
        "avg": "$.values.avg()",
        "stddev": "$.values.stddev()",
        "mixed_sum": "$.mixed.sum()",
        "keys_len": "$.obj.length()",
        "empty_max": "$.empty.max()",
        "text_len": "$.first.length()",
        "concat": '$.words.concat("-", $.first)',
        "root_concat": "$.concat($.first, $.second)",
        "append": "$.words.append('ef')",
        "sum_params": "$.sum(1, $.values)",
        "missing_len": "$.nope.length()",
    }
    spec = [{"type": "path", "name": name, "expr": expr} for name, expr in fields.items()]
    druid.ingest(
        inline_task("flat_fn", [row], dimensions=list(fields), input_format=_json(spec, False))
    )
    [values] = scan_rows(druid, "flat_fn", list(fields))
    # As string dimensions: Jayway's aggregations answer doubles, length() an integer.
    assert dict(zip(fields, values, strict=True)) == {
        "len": "5",
        "min": "0.0",
        "max": "4.0",
        "sum": "10.0",
        "avg": "2.0",
        "stddev": "1.4142135623730951",  # population: sqrt(30 / 5 - 10 * 10 / 5 / 5)
        "mixed_sum": "4.5",  # only the numbers: 1 + 3.5
        "keys_len": "2",
        "empty_max": None,
        "text_len": None,
        "concat": "abcd-x",  # the array's strings, then the parameters
        "root_concat": "xy",
        "append": ["7", "ab", "cd", "ef"],  # a list: a multi-value row, sorted
        "sum_params": "11.0",
        "missing_len": None,
    }


def test_function_results_keep_their_types_under_schema_discovery(druid: LocalDruid) -> None:
    fields = [
        {"type": "path", "name": "len", "expr": "$.values.length()"},
        {"type": "path", "name": "total", "expr": "$.values.sum()"},
        {"type": "path", "name": "first", "expr": "$.values[0]"},
    ]
    task = inline_task(
        "flat_typed",
        [{"timestamp": T1, "values": [1, 2]}],
        input_format=_json(fields, False),
    )
    task["spec"]["dataSchema"]["dimensionsSpec"]["useSchemaDiscovery"] = True
    druid.ingest(task)
    types = column_types(druid, "flat_typed")
    assert {k: types[k] for k in ("len", "total", "first")} == {
        "len": "LONG",
        "total": "DOUBLE",
        "first": "LONG",
    }
    assert scan_rows(druid, "flat_typed", ["len", "total", "first"]) == [[2, 3.0, 1]]


def test_wildcards_collect_every_match(druid: LocalDruid) -> None:
    fields = [
        {"type": "path", "name": "ns", "expr": "$.hits[*].n"},
        {"type": "path", "name": "geo_values", "expr": "$.geo.*"},
    ]
    druid.ingest(
        inline_task("flat_wild", ROWS[:1], dimensions=["ns"], input_format=_json(fields, False))
    )
    assert scan_rows(druid, "flat_wild", ["ns"]) == [[["1", "2"]]]  # a multi-value row
    # The object among geo's values Druid would store as Java's text of it ({code=0150}).
    status = druid.submit(
        inline_task(
            "flat_wild_geo", ROWS[:1], dimensions=["geo_values"], input_format=_json(fields, False)
        )
    )
    assert status["status"]["status"] == "FAILED"
    assert "a list holding objects or arrays" in status["status"]["errorMsg"]


def test_a_long_dimension_from_a_function_as_in_druids_own_test(druid: LocalDruid) -> None:
    fields = [
        {"type": "path", "name": "len", "expr": "$.values.length()"},
        {"type": "path", "name": "max", "expr": "$.values.max()"},
    ]
    druid.ingest(
        inline_task(
            "flat_long",
            [{"timestamp": T1, "values": [0, 1, 2, 3, 4]}],
            dimensions=[{"type": "long", "name": "len"}, {"type": "long", "name": "max"}],
            input_format=_json(fields),
        )
    )
    assert scan_rows(druid, "flat_long", ["len", "max"]) == [[5, 4]]


@pytest.mark.parametrize(
    ("field", "named"),
    [
        ({"type": "jq", "name": "j", "expr": ".tags | length"}, "[.tags | length]"),
        ({"type": "jq", "name": "j", "expr": ".hits[].n"}, "plain jq paths"),
        ({"type": "path", "name": "p", "expr": "$..city"}, "deep scan"),
        ({"type": "path", "name": "p", "expr": "$.hits[?(@.n > 1)]"}, "filters"),
        ({"type": "path", "name": "p", "expr": "$.tags[0:1]"}, "slices"),
        ({"type": "path", "name": "p", "expr": "$.geo.keys()"}, "keys()"),
        ({"type": "path", "name": "p", "expr": "$.hits[*].n.sum()"}, "after a wildcard"),
    ],
)
def test_unsupported_flattening_answers_501(
    druid: LocalDruid, field: dict[str, Any], named: str
) -> None:
    status, message = _refused(druid, _json([field]))
    assert status == 501
    assert named in message


@pytest.mark.parametrize(
    ("flatten_spec", "named"),
    [
        ("nope", "flattenSpec must be a JSON object"),
        ({"fields": {"a": 1}}, "fields must be an array"),
        ({"fields": [{"type": "path", "name": "a", "expr": "$.a"}, "a"]}, "duplicate field"),
        ({"fields": [{"type": "bogus", "name": "a"}]}, "[bogus]"),
        ({"fields": [{"type": "path", "name": "a"}]}, "[expr]"),
        ({"fields": [{"type": "path", "expr": "$.a"}]}, "[name]"),
        ({"fields": [{"type": "tree", "name": "a", "nodes": []}]}, "nodes"),
        ({"fields": [{"type": "path", "name": "a", "expr": "$.a["}]}, "unclosed"),
        ({"fields": [{"type": "path", "name": "a", "expr": "$.a.nope()"}]}, "nope"),
        ({"fields": [{"type": "path", "name": "a", "expr": "$.a.length().b"}]}, "end the path"),
    ],
)
def test_invalid_flatten_specs_answer_400(druid: LocalDruid, flatten_spec: Any, named: str) -> None:
    status, message = _refused(druid, {"type": "json", "flattenSpec": flatten_spec})
    assert status == 400
    assert named in message


@pytest.fixture(scope="module")
def parquet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two rows of Parquet with the types Druid's Parquet reader meets, written by DuckDB."""
    path = tmp_path_factory.mktemp("parquet") / "rows.parquet"
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT * FROM (VALUES"
            " (TIMESTAMP '2024-01-01 00:00:00', 'Home', 3::BIGINT, 1.5::DOUBLE, 2.25::DECIMAL(5,2),"
            "  'x'::BLOB, ['a', 'b'], {'city': 'Oslo', 'zip': 150}),"
            " (TIMESTAMP '2024-01-01 01:00:00', 'About', NULL, 2.0, NULL, NULL, ['c'],"
            "  {'city': 'Paris', 'zip': NULL})"
            ") AS t(ts, page, n, x, d, b, tags, geo)) TO ? (FORMAT parquet)",
            [str(path)],
        )
    return path


def _parquet_task(
    datasource: str, path: Path, input_format: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    task = inline_task(
        datasource,
        [],
        input_format=input_format,
        timestamp={"column": "ts", "format": "auto"},
        rollup=False,
        **fields,
    )
    task["spec"]["ioConfig"]["inputSource"] = {"type": "local", "files": [str(path)]}
    return task


def test_parquet_columns_are_discovered_with_their_types(
    druid: LocalDruid, parquet_file: Path
) -> None:
    druid.ingest(_parquet_task("pq_plain", parquet_file, {"type": "parquet"}))
    # The struct `geo` is not discovered, as in Druid, unless with useSchemaDiscovery.
    assert stored_dimensions(druid, "pq_plain") == ["page", "n", "x", "d", "b", "tags"]
    task = _parquet_task("pq_typed", parquet_file, {"type": "parquet"})
    task["spec"]["dataSchema"]["dimensionsSpec"]["useSchemaDiscovery"] = True
    druid.ingest(task)
    assert stored_dimensions(druid, "pq_typed") == ["page", "n", "x", "d", "b", "tags", "geo"]
    types = column_types(druid, "pq_typed")
    assert {k: types[k] for k in ("page", "n", "x", "d")} == {
        "page": "STRING",
        "n": "LONG",
        "x": "DOUBLE",
        "d": "DOUBLE",
    }
    # Bytes not marked as text are base64, lists and structs keep their JSON text.
    assert scan_rows(druid, "pq_typed", ["__time", "page", "n", "x", "d", "b", "tags", "geo"]) == [
        [MS1, "Home", 3, 1.5, 2.25, "eA==", '["a","b"]', '{"city":"Oslo","zip":150}'],
        [MS2, "About", None, 2.0, None, None, '["c"]', '{"city":"Paris","zip":null}'],
    ]


def test_parquet_binary_as_string(druid: LocalDruid, parquet_file: Path) -> None:
    task = _parquet_task(
        "pq_binary", parquet_file, {"type": "parquet", "binaryAsString": True}, dimensions=["b"]
    )
    druid.ingest(task)
    assert scan_rows(druid, "pq_binary", ["b"]) == [["x"], [None]]


def test_parquet_flatten_spec_paths(druid: LocalDruid, parquet_file: Path) -> None:
    fields = [
        {"type": "path", "name": "city", "expr": "$.geo.city"},
        {"type": "path", "name": "zip", "expr": "$.geo.zip"},
        {"type": "path", "name": "tag_count", "expr": "$.tags.length()"},
        {"type": "path", "name": "first_tag", "expr": "$.tags[0]"},
        {"type": "root", "name": "page"},
    ]
    druid.ingest(
        _parquet_task(
            "pq_flat", parquet_file, {"type": "parquet", "flattenSpec": {"fields": fields}}
        )
    )
    dims = ["city", "zip", "tag_count", "first_tag", "page", "n", "x", "d", "b", "tags"]
    assert stored_dimensions(druid, "pq_flat") == dims
    assert scan_rows(
        druid, "pq_flat", ["__time", "city", "zip", "tag_count", "first_tag", "n"]
    ) == [
        [MS1, "Oslo", "150", "2", "a", "3"],
        [MS2, "Paris", None, "1", "c", None],
    ]


@pytest.mark.parametrize(
    ("field", "named"),
    [
        ({"type": "tree", "name": "t", "nodes": ["geo", "city"]}, "[tree]"),
        ({"type": "jq", "name": "j", "expr": ".geo.city"}, "[jq]"),
        ({"type": "path", "name": "p", "expr": "$.tags.concat('x')"}, "concat()"),
    ],
)
def test_parquet_flattening_json_only_parts_answer_501(
    druid: LocalDruid, parquet_file: Path, field: dict[str, Any], named: str
) -> None:
    input_format = {"type": "parquet", "flattenSpec": {"fields": [field]}}
    task = _parquet_task("pq_bad", parquet_file, input_format)
    resp = requests.post(f"{druid.url}/druid/indexer/v1/task", json=task, timeout=10)
    assert resp.status_code == 501
    assert named in resp.json()["errorMessage"]
