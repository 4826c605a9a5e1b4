"""The ORC and Avro OCF inputFormats through the task API: types as Druid's readers give them,
field discovery, flattenSpec paths into nested values, binaryAsString, an Avro reader schema, and
files that cannot be read."""

from __future__ import annotations

import datetime
import decimal
import io
from pathlib import Path
from typing import Any

import fastavro
import pyarrow as pa
import pyarrow.orc
import pytest
import requests

from tests.localdruid.harness import (
    LocalDruid,
    column_types,
    inline_task,
    scan_rows,
    stored_dimensions,
)

MS1, MS2 = 1_704_067_200_000, 1_704_070_800_000  # 2024-01-01T00:00Z and T01:00Z
TS1 = datetime.datetime(2024, 1, 1, 0, 0, 0, 123_456)  # ORC keeps sub-millisecond digits


def _task(datasource: str, path: Path, input_format: dict[str, Any], **fields: Any) -> Any:
    task = inline_task(
        datasource,
        [],
        input_format=input_format,
        timestamp={"column": fields.pop("column", "ts"), "format": "auto"},
        rollup=False,
        **fields,
    )
    task["spec"]["ioConfig"]["inputSource"] = {"type": "local", "files": [str(path)]}
    return task


def _typed(task: dict[str, Any]) -> dict[str, Any]:
    task["spec"]["dataSchema"]["dimensionsSpec"]["useSchemaDiscovery"] = True
    return task


def _failure(druid: LocalDruid, task: dict[str, Any]) -> str:
    status = druid.submit(task)["status"]
    assert status["status"] == "FAILED", status
    return str(status["errorMsg"])


def _refused(druid: LocalDruid, task: dict[str, Any]) -> tuple[int, str]:
    resp = requests.post(f"{druid.url}/druid/indexer/v1/task", json=task, timeout=10)
    return resp.status_code, str(resp.json()["errorMessage"])


# -- ORC --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def orc_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two rows with every kind of ORC column Druid's ORC reader converts."""
    union = pa.UnionArray.from_sparse(
        pa.array([0, 1], pa.int8()), [pa.array([1, 2]), pa.array(["a", "b"])]
    )
    geo = pa.struct([("city", pa.string()), ("zip", pa.int32()), ("seen", pa.timestamp("ns"))])
    table = pa.table(
        {
            "ts": pa.array([TS1, datetime.datetime(2024, 1, 1, 1)], pa.timestamp("ns")),
            "page": ["Home", None],
            "n": pa.array([3, None], pa.int16()),
            "x": [1.5, 2.0],
            "d": pa.array([datetime.date(2024, 1, 2), None], pa.date32()),
            "dec": pa.array([decimal.Decimal("2.25"), None], pa.decimal128(5, 2)),
            "b": pa.array([b"x", None], pa.binary()),
            "flag": [True, False],
            "tags": [["a", "b"], ["c"]],
            "geo": pa.array(
                [{"city": "Oslo", "zip": 150, "seen": datetime.datetime(2024, 1, 1)}, None], geo
            ),
            "attrs": pa.array([[("k", 7)], None], pa.map_(pa.string(), pa.int64())),
            "u": union,
        }
    )
    path = tmp_path_factory.mktemp("orc") / "rows.orc"
    pyarrow.orc.write_table(table, str(path))
    return path


def test_orc_columns_are_discovered_with_their_types(druid: LocalDruid, orc_file: Path) -> None:
    druid.ingest(_task("orc_plain", orc_file, {"type": "orc"}))
    assert not list((druid.data_dir / "tmp").glob("*.parquet"))  # the scratch copy is removed
    # Structs, maps and unions are not discovered, as in Druid, unless with useSchemaDiscovery.
    assert stored_dimensions(druid, "orc_plain") == [
        "page",
        "n",
        "x",
        "d",
        "dec",
        "b",
        "flag",
        "tags",
    ]
    druid.ingest(_typed(_task("orc_typed", orc_file, {"type": "orc"})))
    columns = ["page", "n", "x", "d", "dec", "b", "flag", "tags", "geo", "attrs", "u"]
    assert stored_dimensions(druid, "orc_typed") == columns
    types = column_types(druid, "orc_typed")
    assert {k: types[k] for k in ("page", "n", "x", "d", "dec", "b")} == {
        "page": "STRING",
        "n": "LONG",
        "x": "DOUBLE",
        "d": "STRING",
        "dec": "DOUBLE",
        "b": "STRING",
    }
    # The timestamp is read as epoch millis (the microseconds dropped), a date as a UTC
    # midnight, bytes as base64; a struct's timestamp is millis too; unions are always null.
    assert scan_rows(druid, "orc_typed", ["__time", *columns]) == [
        [
            MS1 + 123,
            "Home",
            3,
            1.5,
            "2024-01-02T00:00:00.000Z",
            2.25,
            "eA==",
            "true",
            '["a","b"]',
            '{"city":"Oslo","zip":150,"seen":1704067200000}',
            '{"k":7}',
            None,
        ],
        [MS2, None, None, 2.0, None, None, None, "false", '["c"]', None, None, None],
    ]


def test_orc_flatten_spec_paths(druid: LocalDruid, orc_file: Path) -> None:
    fields = [
        {"type": "path", "name": "city", "expr": "$.geo.city"},
        {"type": "path", "name": "seen", "expr": "$.geo.seen"},
        {"type": "path", "name": "k", "expr": "$.attrs.k"},
        {"type": "path", "name": "first_tag", "expr": "$.tags[0]"},
    ]
    input_format = {"type": "orc", "flattenSpec": {"useFieldDiscovery": False, "fields": fields}}
    druid.ingest(_task("orc_flat", orc_file, input_format))
    assert stored_dimensions(druid, "orc_flat") == ["city", "seen", "k", "first_tag"]
    assert scan_rows(druid, "orc_flat", ["__time", "city", "seen", "k", "first_tag"]) == [
        [MS1 + 123, "Oslo", "1704067200000", "7", "a"],
        [MS2, None, None, None, "c"],
    ]


def test_orc_binary_as_string(druid: LocalDruid, orc_file: Path) -> None:
    input_format = {"type": "orc", "binaryAsString": True}
    druid.ingest(_task("orc_binary", orc_file, input_format, dimensions=["b"]))
    assert scan_rows(druid, "orc_binary", ["b"]) == [["x"], [None]]


def test_orc_stripes_are_all_read(druid: LocalDruid, tmp_path: Path) -> None:
    rows = 20_000
    table = pa.table(
        {"ts": pa.array([MS1 + i for i in range(rows)], pa.int64()), "v": list(range(rows))}
    )
    path = tmp_path / "many.orc"
    pyarrow.orc.write_table(table, str(path), stripe_size=4096)
    assert pyarrow.orc.ORCFile(str(path)).nstripes > 1
    metrics = [
        {"type": "count", "name": "rows"},
        {"type": "longSum", "name": "v", "fieldName": "v"},
    ]
    druid.ingest(_task("orc_many", path, {"type": "orc"}, metrics=metrics))
    result = druid.query(
        {
            "queryType": "timeseries",
            "dataSource": "orc_many",
            "intervals": ["2000-01-01/2100-01-01"],
            "granularity": "all",
            "aggregations": [
                {"type": "longSum", "name": "rows", "fieldName": "rows"},
                {"type": "longSum", "name": "v", "fieldName": "v"},
            ],
        }
    )
    assert result[0]["result"] == {"rows": rows, "v": rows * (rows - 1) // 2}


# -- Avro OCF ---------------------------------------------------------------------------------

SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Edit",
    "namespace": "test",
    "fields": [
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "page", "type": "string"},
        {"name": "user", "type": ["null", "string"], "default": None},
        {"name": "n", "type": "int"},
        {"name": "big", "type": "long"},
        {"name": "x", "type": "double"},
        {"name": "flag", "type": "boolean"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["EDIT", "NEW"]}},
        {"name": "raw", "type": "bytes"},
        {"name": "scores", "type": {"type": "array", "items": "long"}},
        {"name": "tags", "type": {"type": "array", "items": ["null", "string"]}},
        {
            "name": "geo",
            "type": [
                "null",
                {
                    "type": "record",
                    "name": "Geo",
                    "fields": [
                        {"name": "city", "type": "string"},
                        {"name": "zip", "type": ["null", "int"]},
                    ],
                },
            ],
        },
        {"name": "attrs", "type": {"type": "map", "values": "long"}},
    ],
}
RECORDS = [
    {
        "ts": MS1,
        "page": "Home",
        "user": "alice",
        "n": 3,
        "big": 2**40,
        "x": 1.5,
        "flag": True,
        "kind": "EDIT",
        "raw": b"x",
        "scores": [1, 2],
        "tags": ["a", "b"],
        "geo": {"city": "Oslo", "zip": 150},
        "attrs": {"k": 7},
    },
    {
        "ts": MS2,
        "page": "About",
        "user": None,
        "n": -1,
        "big": 0,
        "x": 2.0,
        "flag": False,
        "kind": "NEW",
        "raw": b"\xff",
        "scores": [3],
        "tags": ["c", None],
        "geo": None,
        "attrs": {},
    },
]


def _avro(
    path: Path, schema: dict[str, Any], records: list[dict[str, Any]], **options: Any
) -> Path:
    with open(path, "wb") as out:
        fastavro.writer(out, fastavro.parse_schema(schema), records, **options)
    return path


@pytest.fixture(scope="module")
def avro_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _avro(tmp_path_factory.mktemp("avro") / "rows.avro", SCHEMA, RECORDS, codec="deflate")


def test_avro_fields_are_discovered_with_their_types(druid: LocalDruid, avro_file: Path) -> None:
    druid.ingest(_task("avro_plain", avro_file, {"type": "avro_ocf"}))
    # Druid's Avro discovery takes primitives (not booleans), arrays of primitives and unions of
    # one with null: not `flag`, not `tags` (its items are a union), not the record or the map.
    plain = ["page", "user", "n", "big", "x", "kind", "raw", "scores"]
    assert stored_dimensions(druid, "avro_plain") == plain
    druid.ingest(_typed(_task("avro_typed", avro_file, {"type": "avro_ocf"})))
    columns = ["page", "user", "n", "big", "x", "flag", "kind", "raw", "scores", "tags"]
    columns += ["geo", "attrs"]
    assert stored_dimensions(druid, "avro_typed") == columns
    types = column_types(druid, "avro_typed")
    assert {k: types[k] for k in ("page", "user", "n", "big", "x", "kind", "raw")} == {
        "page": "STRING",
        "user": "STRING",
        "n": "LONG",
        "big": "LONG",
        "x": "DOUBLE",
        "kind": "STRING",
        "raw": "STRING",
    }
    # A timestamp-millis field is the plain long it is stored as; the null in `tags` is dropped.
    assert scan_rows(druid, "avro_typed", ["__time", *columns]) == [
        [
            MS1,
            "Home",
            "alice",
            3,
            2**40,
            1.5,
            "true",
            "EDIT",
            "eA==",
            "[1,2]",
            '["a","b"]',
            '{"city":"Oslo","zip":150}',
            '{"k":7}',
        ],
        [MS2, "About", None, -1, 0, 2.0, "false", "NEW", "/w==", "[3]", '["c"]', None, "{}"],
    ]


def test_avro_flatten_spec_paths(druid: LocalDruid, avro_file: Path) -> None:
    fields = [
        {"type": "path", "name": "city", "expr": "$.geo.city"},
        {"type": "path", "name": "zip", "expr": "$.geo.zip"},
        {"type": "path", "name": "k", "expr": "$.attrs.k"},
        {"type": "path", "name": "last_tag", "expr": "$.tags[-1]"},
        {"type": "root", "name": "who", "expr": "user"},
    ]
    input_format = {"type": "avro_ocf", "flattenSpec": {"fields": fields}}
    druid.ingest(_task("avro_flat", avro_file, input_format))
    dims = ["city", "zip", "k", "last_tag", "who", "page", "user", "n", "big", "x", "kind", "raw"]
    assert stored_dimensions(druid, "avro_flat") == [*dims, "scores"]
    assert scan_rows(druid, "avro_flat", ["city", "zip", "k", "last_tag", "who"]) == [
        ["Oslo", "150", "7", "b", "alice"],
        [None, None, None, "c", None],
    ]


def test_avro_binary_as_string(druid: LocalDruid, avro_file: Path) -> None:
    input_format = {"type": "avro_ocf", "binaryAsString": True}
    druid.ingest(_task("avro_binary", avro_file, input_format, dimensions=["raw"]))
    # Bytes that are not UTF-8 decode with the replacement character, as Java's decoder does.
    assert scan_rows(druid, "avro_binary", ["raw"]) == [["x"], ["\ufffd"]]


def test_avro_reader_schema(druid: LocalDruid, avro_file: Path) -> None:
    """The reader schema picks fields, promotes int to long and fills a new field's default."""
    reader = {
        "type": "record",
        "name": "Edit",
        "namespace": "test",
        "fields": [
            {"name": "ts", "type": "long"},
            {"name": "page", "type": "string"},
            {"name": "n", "type": "double"},
            {"name": "source", "type": "string", "default": "web"},
        ],
    }
    input_format = {"type": "avro_ocf", "schema": reader}
    druid.ingest(_typed(_task("avro_reader", avro_file, input_format)))
    assert stored_dimensions(druid, "avro_reader") == ["page", "n", "source"]
    assert scan_rows(druid, "avro_reader", ["__time", "page", "n", "source"]) == [
        [MS1, "Home", 3.0, "web"],
        [MS2, "About", -1.0, "web"],
    ]
    # A reader schema that the file's data cannot be read with fails the task.
    reader["fields"].append({"name": "missing", "type": "string"})
    message = _failure(druid, _task("avro_reader_bad", avro_file, input_format))
    assert f"Cannot read [{avro_file}] as Avro OCF" in message


def test_avro_blocks_and_batches_are_all_read(druid: LocalDruid, tmp_path: Path) -> None:
    schema = {
        "type": "record",
        "name": "R",
        "fields": [{"name": "ts", "type": "long"}, {"name": "v", "type": "long"}],
    }
    rows = 20_000  # more than one batch of records written at a time
    records = [{"ts": MS1 + i, "v": i} for i in range(rows)]
    path = _avro(tmp_path / "many.avro", schema, records, sync_interval=4096)
    metrics = [
        {"type": "count", "name": "rows"},
        {"type": "longSum", "name": "v", "fieldName": "v"},
    ]
    druid.ingest(_task("avro_many", path, {"type": "avro_ocf"}, metrics=metrics))
    result = druid.query(
        {
            "queryType": "groupBy",
            "dataSource": "avro_many",
            "intervals": ["2000-01-01/2100-01-01"],
            "granularity": "all",
            "dimensions": [],
            "aggregations": [
                {"type": "longSum", "name": "rows", "fieldName": "rows"},
                {"type": "longSum", "name": "v", "fieldName": "v"},
            ],
        }
    )
    assert [r["event"] for r in result] == [{"rows": rows, "v": rows * (rows - 1) // 2}]


def test_avro_group_by_over_discovered_fields(druid: LocalDruid, avro_file: Path) -> None:
    metrics = [
        {"type": "count", "name": "rows"},
        {"type": "longSum", "name": "n", "fieldName": "n"},
        {"type": "doubleSum", "name": "x", "fieldName": "x"},
    ]
    druid.ingest(_task("avro_grouped", avro_file, {"type": "avro_ocf"}, metrics=metrics))
    result = druid.query(
        {
            "queryType": "groupBy",
            "dataSource": "avro_grouped",
            "intervals": ["2000-01-01/2100-01-01"],
            "granularity": "all",
            "dimensions": ["kind", "user"],
            "aggregations": [
                {"type": "longSum", "name": "rows", "fieldName": "rows"},
                {"type": "longSum", "name": "n", "fieldName": "n"},
                {"type": "doubleSum", "name": "x", "fieldName": "x"},
            ],
        }
    )
    assert [r["event"] for r in result] == [
        {"kind": "EDIT", "user": "alice", "rows": 1, "n": 3, "x": 1.5},
        {"kind": "NEW", "user": None, "rows": 1, "n": -1, "x": 2.0},
    ]


@pytest.mark.parametrize(
    ("schema", "status", "named"),
    [
        ({"type": "record", "name": "R", "fields": [{"name": "a", "type": "nope"}]}, 400, "nope"),
        ("not a schema", 400, "invalid Avro schema"),
        ({"type": "array", "items": "long"}, 400, "record"),
        (
            {"type": "record", "name": "R", "fields": [{"name": "a", "type": ["int", "string"]}]},
            501,
            "union",
        ),
        (
            {
                "type": "record",
                "name": "R",
                "fields": [{"name": "a", "type": {"type": "int", "logicalType": "date"}}],
            },
            501,
            "[date]",
        ),
        (
            {"type": "record", "name": "R", "fields": [{"name": "a", "type": ["null", "R"]}]},
            501,
            "recursive",
        ),
    ],
)
def test_avro_reader_schemas_refused(
    druid: LocalDruid, avro_file: Path, schema: Any, status: int, named: str
) -> None:
    input_format = {"type": "avro_ocf", "schema": schema}
    code, message = _refused(druid, _task("avro_refused", avro_file, input_format))
    assert code == status
    assert named in message


def test_avro_types_localdruid_does_not_read_fail_the_task(
    druid: LocalDruid, tmp_path: Path
) -> None:
    schema = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "ts", "type": "long"},
            {"name": "v", "type": {"type": "bytes", "logicalType": "decimal", "precision": 4}},
        ],
    }
    path = _avro(tmp_path / "decimal.avro", schema, [{"ts": MS1, "v": decimal.Decimal(5)}])
    message = _failure(druid, _task("avro_decimal", path, {"type": "avro_ocf"}))
    assert "Avro logical type [decimal] is not supported" in message


# -- files that are not what the inputFormat says ---------------------------------------------


@pytest.mark.parametrize(
    ("input_format", "content", "named"),
    [
        ({"type": "orc"}, b"this is not an ORC file at all", "as ORC"),
        ({"type": "avro_ocf"}, b"this is not an Avro file either", "as Avro OCF"),
        ({"type": "orc"}, "avro", "as ORC"),
        ({"type": "avro_ocf"}, "truncated avro", "as Avro OCF"),
    ],
)
def test_unreadable_files_fail_the_task(
    druid: LocalDruid, tmp_path: Path, input_format: dict[str, Any], content: Any, named: str
) -> None:
    if content == "avro":
        content = _avro_bytes(RECORDS)
    elif content == "truncated avro":
        content = _avro_bytes(RECORDS * 100)[:-200]
    path = tmp_path / "input.bin"
    path.write_bytes(content)
    message = _failure(druid, _task("unreadable", path, input_format))
    assert message.startswith(f"Cannot read [{path}] {named}:"), message
    # Nothing was written, no scratch copy is left, and the server goes on serving.
    resp = requests.get(f"{druid.url}/druid/v2/datasources", timeout=10)
    assert "unreadable" not in resp.json()
    assert not list((druid.data_dir / "tmp").glob("*.parquet"))


def _avro_bytes(records: list[dict[str, Any]]) -> bytes:
    out = io.BytesIO()
    fastavro.writer(out, fastavro.parse_schema(SCHEMA), records)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["orc", "avro_ocf"])
def test_json_only_flattening_answers_501(druid: LocalDruid, orc_file: Path, kind: str) -> None:
    field = {"type": "jq", "name": "j", "expr": ".geo.city"}
    input_format = {"type": kind, "flattenSpec": {"fields": [field]}}
    status, message = _refused(druid, _task("flat_refused", orc_file, input_format))
    assert status == 501
    assert "[jq]" in message
