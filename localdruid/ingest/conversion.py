"""ORC and Avro OCF input rewritten as Parquet in the task's scratch directory, with values as
Druid's ORC and Avro readers hand them to the parser, so that the Parquet reader reads all three:
one path for types, flattenSpec and schema discovery."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import fastavro
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.orc
import pyarrow.parquet as pq

from localdruid.errors import DruidError, InvalidInput, Unsupported
from localdruid.jsonspec import Spec

_BATCH_ROWS = 8192  # Avro records held in memory before they are written out


def check_input_format(spec: Spec) -> None:
    """Refuse at submission what a task could not read: a bad reader schema answers 400, a part
    of Avro localdruid does not read 501."""
    spec.bool("binaryAsString")
    if spec.type() == "avro_ocf":
        if spec.bool("extractUnionsByType"):
            raise Unsupported(f"{spec.at('extractUnionsByType')} is not supported by localdruid")
        reader_schema(spec)


def file_to_parquet(input_format: dict[str, Any], source: Path, target: Path) -> set[str]:
    """Write one ORC or Avro OCF file as Parquet; return the root fields Druid's field discovery
    takes from it (without useSchemaDiscovery). A file that cannot be read fails the task."""
    spec = Spec(input_format, "ioConfig.inputFormat")
    name = "ORC" if spec.type() == "orc" else "Avro OCF"
    try:
        return _WRITERS[spec.type()](spec, source, target)
    except DruidError:
        raise
    except Exception as exc:  # decoders of foreign files fail in many ways; each means "unreadable"
        raise InvalidInput(f"Cannot read [{source}] as {name}: {exc}") from None


def _text(as_string: bool) -> Callable[[bytes], str]:
    """Bytes as Druid writes them into a string: UTF-8 text with binaryAsString, else base64."""
    if as_string:
        return lambda value: value.decode("utf-8", "replace")
    return lambda value: base64.b64encode(value).decode("ascii")


# -- ORC --------------------------------------------------------------------------------------


def _orc_to_parquet(spec: Spec, source: Path, target: Path) -> set[str]:
    """Stripe by stripe, so a big file never sits in memory whole."""
    orc = pyarrow.orc.ORCFile(str(source))
    text = _text(spec.bool("binaryAsString"))

    def convert(array: pa.Array) -> pa.Array:
        return _nested(array, lambda leaf: _orc_value(leaf, text))

    schema = pa.schema([pa.field(f.name, convert(pa.nulls(0, f.type)).type) for f in orc.schema])
    with pq.ParquetWriter(str(target), schema) as out:
        for i in range(orc.nstripes):
            stripe = orc.read_stripe(i)
            out.write_batch(
                pa.RecordBatch.from_arrays([convert(c) for c in stripe.columns], schema=schema)
            )
    return {f.name for f in orc.schema if _orc_flat(f.type)}


def _orc_value(array: pa.Array, text: Callable[[bytes], str]) -> pa.Array:
    """A primitive ORC column as Druid's ORC reader converts it: timestamps to epoch millis,
    dates to UTC midnight (text as a Joda DateTime prints), decimals to doubles, binary to text,
    and unions, which it does not read, to nulls."""
    kind = array.type
    if pa.types.is_timestamp(kind):
        return array.cast(pa.timestamp("ms", kind.tz), safe=False).cast(pa.int64())
    if pa.types.is_date(kind):
        return pc.binary_join_element_wise(array.cast(pa.string()), "T00:00:00.000Z", "")
    if pa.types.is_decimal(kind):
        return array.cast(pa.float64())
    if pa.types.is_union(kind):
        return pa.nulls(len(array), pa.string())
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return pa.array([None if v is None else text(v) for v in array.to_pylist()], pa.string())
    return array


def _nested(array: pa.Array, leaf: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """`leaf` applied to every primitive value, however deep in structs, lists and maps."""
    kind = array.type
    mask = array.is_null()
    if pa.types.is_struct(kind):
        children = [_nested(child, leaf) for child in array.flatten()]
        fields = [pa.field(kind.field(i).name, c.type) for i, c in enumerate(children)]
        return pa.StructArray.from_arrays(children, fields=fields, mask=mask)
    if pa.types.is_map(kind):
        entries = array.values  # unsliced, as the offsets index it
        keys, items = _nested(entries.field(0), leaf), _nested(entries.field(1), leaf)
        return pa.MapArray.from_arrays(array.offsets, keys, items, mask=mask)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        values = _nested(array.values, leaf)
        return type(array).from_arrays(array.offsets, values, mask=mask)
    return leaf(array)


def _orc_flat(kind: pa.DataType) -> bool:
    """What Druid discovers in ORC: primitives (not unions) and lists of primitives."""
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        kind = kind.value_type
    return not pa.types.is_nested(kind)


# -- Avro OCF ---------------------------------------------------------------------------------


def reader_schema(spec: Spec) -> dict[str, Any] | None:
    """The inputFormat's reader schema, parsed, or None to read with each file's own."""
    if not spec.has("schema"):
        return None
    raw = spec.raw("schema")
    try:
        parsed = fastavro.parse_schema(_plain(raw))
    except Exception as exc:  # fastavro reports a bad schema with several exception types
        raise InvalidInput(f"{spec.at('schema')}: invalid Avro schema: {exc}") from None
    if not isinstance(parsed, dict):
        raise InvalidInput(f"{spec.at('schema')} must be an Avro record schema")
    _AvroShape(raw, _text(False))  # refuses at submission what localdruid does not read
    return parsed


def _avro_to_parquet(spec: Spec, source: Path, target: Path) -> set[str]:
    """Block by block, records decoded without fastavro's logical types (Druid reads the plain
    values: a timestamp-millis field is a long), then written out in batches."""
    wanted = reader_schema(spec)
    with open(source, "rb") as handle:
        blocks = fastavro.block_reader(handle)
        written = blocks.writer_schema
        writer = fastavro.parse_schema(_plain(written))
        shape = _AvroShape(spec.raw("schema") or written, _text(spec.bool("binaryAsString")))
        with pq.ParquetWriter(str(target), shape.schema) as out:
            batch: list[dict[str, Any]] = []
            for record in _records(blocks, writer, wanted):
                batch.append(shape.row(record))
                if len(batch) == _BATCH_ROWS:
                    out.write_batch(pa.RecordBatch.from_pylist(batch, schema=shape.schema))
                    batch = []
            out.write_batch(pa.RecordBatch.from_pylist(batch, schema=shape.schema))
    return shape.discoverable


def _records(blocks: Iterable[Any], writer: Any, reader: dict[str, Any] | None) -> Iterator[Any]:
    for block in blocks:
        data = block.bytes_  # the block's records, decompressed
        for _ in range(block.num_records):
            yield fastavro.schemaless_reader(data, writer, reader)


def _plain(schema: Any) -> Any:
    """A schema without logicalType annotations, so that values decode as their plain types."""
    if isinstance(schema, dict):
        return {k: _plain(v) for k, v in schema.items() if k != "logicalType"}
    if isinstance(schema, list):
        return [_plain(v) for v in schema]
    return schema


Fix = Callable[[Any], Any]

_AVRO_PRIMITIVES: dict[str, pa.DataType] = {
    "null": pa.string(),
    "boolean": pa.bool_(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "bytes": pa.string(),
    "string": pa.string(),
}
# The types Druid's Avro field discovery takes (AvroFlattenerMaker.ROOT_TYPES): not boolean.
_AVRO_DISCOVERED = frozenset(("string", "bytes", "int", "long", "float", "double", "enum", "fixed"))


class _AvroShape:
    """An Avro record schema as an Arrow schema, with how each record's values become Druid's:
    bytes and fixed as text, nulls dropped from arrays, a union with null as its other type."""

    def __init__(self, schema: Any, text: Callable[[bytes], str]) -> None:
        self.text = text
        self.named: dict[str, dict[str, Any]] = {}
        self.open: set[str] = set()  # records being read: a reference to one is recursion
        top = self._resolve(fastavro.parse_schema(_plain(schema)))
        if not isinstance(top, dict) or top.get("type") != "record":
            raise InvalidInput("an Avro OCF file's schema must be a record")
        self._refuse_logical(schema)
        kind, fix = self._record(top)
        self.schema = pa.schema(list(kind))
        self.row: Fix = fix or (lambda record: record)
        self.discoverable = {f["name"] for f in top["fields"] if self._discovered(f["type"])}

    def _refuse_logical(self, schema: Any) -> None:
        """Decimal and date values are refused: which form Druid gives them (raw bytes and day
        numbers, or doubles and epoch millis) depends on its version."""
        if isinstance(schema, dict):
            if schema.get("logicalType") in ("decimal", "date"):
                raise Unsupported(
                    f"Avro logical type [{schema['logicalType']}] is not supported by localdruid"
                )
            for value in schema.values():
                self._refuse_logical(value)
        elif isinstance(schema, list):
            for value in schema:
                self._refuse_logical(value)

    def _resolve(self, schema: Any) -> Any:
        """A named type's definition for a reference to it; `{"type": "long"}` as "long"."""
        if isinstance(schema, dict):
            kind = schema.get("type")
            if kind in ("record", "enum", "fixed"):
                self.named[schema["name"]] = schema
                return schema
            return schema if kind in ("array", "map") else self._resolve(kind)
        if isinstance(schema, str) and schema not in _AVRO_PRIMITIVES:
            if schema in self.open:
                raise Unsupported(f"the recursive Avro type [{schema}] is not supported")
            return self.named[schema]
        return schema

    def _type(self, schema: Any) -> tuple[pa.DataType, Fix | None]:
        """The Arrow type of an Avro type, and how its values change (None: they do not)."""
        schema = self._resolve(schema)
        if isinstance(schema, list):
            return self._union(schema)
        if isinstance(schema, str):
            return _AVRO_PRIMITIVES[schema], self.text if schema == "bytes" else None
        kind = schema["type"]
        if kind == "record":
            return self._record(schema)
        if kind == "enum":
            return pa.string(), None
        if kind == "fixed":
            return pa.string(), self.text
        if kind == "array":
            item, fix = self._type(schema["items"])
            return pa.list_(item), _array_fix(fix)
        value, fix = self._type(schema["values"])
        return pa.map_(pa.string(), value), _map_fix(fix)

    def _union(self, branches: list[Any]) -> tuple[pa.DataType, Fix | None]:
        others = [b for b in branches if b != "null"]
        if len(others) > 1:
            raise Unsupported(
                f"the Avro union {json.dumps(branches)} of several non-null types is not "
                "supported by localdruid; only unions with null"
            )
        return self._type(others[0]) if others else (pa.string(), None)

    def _record(self, schema: dict[str, Any]) -> tuple[pa.StructType, Fix | None]:
        self.open.add(schema["name"])
        fields = [(f["name"], *self._type(f["type"])) for f in schema["fields"]]
        self.open.discard(schema["name"])
        kind = pa.struct([pa.field(name, arrow) for name, arrow, _ in fields])
        fixes = [(name, fix) for name, _, fix in fields if fix is not None]
        if not fixes:
            return kind, None

        def row(record: dict[str, Any]) -> dict[str, Any]:
            for name, fix in fixes:
                if record.get(name) is not None:
                    record[name] = fix(record[name])
            return record

        return kind, row

    def _discovered(self, schema: Any) -> bool:
        """Druid's discovery: primitives, arrays of them, and unions of one of those with null."""
        schema = self._resolve(schema)
        if isinstance(schema, list):
            others = [b for b in schema if b != "null"]
            return len(schema) == 2 and len(others) == 1 and self._discovered(others[0])
        if isinstance(schema, dict) and schema["type"] == "array":
            return self._primitive(schema["items"])
        return self._primitive(schema)

    def _primitive(self, schema: Any) -> bool:
        schema = self._resolve(schema)
        if isinstance(schema, list):
            return False
        kind = schema if isinstance(schema, str) else schema["type"]
        return kind in _AVRO_DISCOVERED


def _array_fix(fix: Fix | None) -> Fix:
    """Druid's Avro reader drops the nulls of an array."""
    if fix is None:
        return lambda values: [v for v in values if v is not None]
    return lambda values: [fix(v) for v in values if v is not None]


def _map_fix(fix: Fix | None) -> Fix | None:
    if fix is None:
        return None
    return lambda values: {k: None if v is None else fix(v) for k, v in values.items()}


_WRITERS: dict[str, Callable[[Spec, Path, Path], set[str]]] = {
    "orc": _orc_to_parquet,
    "avro_ocf": _avro_to_parquet,
}
