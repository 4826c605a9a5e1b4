"""Input sources and formats: the files or datasource rows to read, as DuckDB SQL giving text."""

from __future__ import annotations

import csv
import fnmatch
import gzip
import io
import os
import re
import uuid
from collections.abc import Collection, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb

from localdruid import timeutil
from localdruid.errors import InvalidInput
from localdruid.ingest.flatten import (
    NESTED_IN_LIST,
    FlattenSpec,
    json_list,
    json_text,
    parse_flatten_spec,
)
from localdruid.jsonspec import Spec
from localdruid.query.columns import ColumnRef, MultiValueRef
from localdruid.query.filters import compile_filter
from localdruid.sql import Sql, quote_ident
from localdruid.storage import Datasource


def _confine(path: Path, allowed: Sequence[Path], what: str) -> Path:
    # resolve() follows symlinks and `..`, so a link inside an allowed directory that points
    # outside it is refused as the outside path it really is; the resolved path is what is read.
    real = path.resolve()
    if not any(real.is_relative_to(base) for base in allowed):
        raise InvalidInput(
            f"inputSource {what} [{path}] is outside the directories localdruid may read; "
            "allow its directory with `serve --allow-dir` or LOCALDRUID_ALLOWED_DIRS"
        )
    return real


def local_files(source: dict[str, Any], allowed: Sequence[Path]) -> list[Path]:
    """The files a local input source names, refused unless all lie under an allowed directory
    (resolved). Only names and directory entries are looked at, never file contents."""
    spec = Spec(source, "ioConfig.inputSource")
    allowed = [Path(d).resolve() for d in allowed]
    files = [_confine(Path(f), allowed, "file") for f in spec.list("files", [])]
    if spec.has("baseDir"):
        base = _confine(Path(spec.str("baseDir")), allowed, "baseDir")
        pattern = spec.str("filter")
        for root, _, names in os.walk(base):
            for name in sorted(names):
                if fnmatch.fnmatchcase(name, pattern):
                    files.append(_confine(Path(root) / name, allowed, "file"))
    return files


def file_sources(source: dict[str, Any]) -> list[dict[str, Any]]:
    """The input sources that read files: the source itself, or a combining source's delegates."""
    if source.get("type") == "combining":
        return [f for d in source.get("delegates") or [] for f in file_sources(d)]
    return [source] if source.get("type") in ("local", "inline") else []


def input_files(source: dict[str, Any], scratch: Path, allowed: Sequence[Path]) -> list[Path]:
    """The files an input source names; inline data is written to a scratch file first."""
    spec = Spec(source, "ioConfig.inputSource")
    kind = spec.type()
    if kind == "inline":
        scratch.mkdir(parents=True, exist_ok=True)
        path = scratch / f"inline-{uuid.uuid4().hex}.txt"
        path.write_text(spec.str("data"), encoding="utf-8")
        return [path]
    files = local_files(source, allowed)
    if spec.has("baseDir") and not Path(spec.str("baseDir")).is_dir():
        raise InvalidInput(f"inputSource.baseDir [{spec.str('baseDir')}] is not a directory")
    if not files and not spec.has("baseDir"):
        raise InvalidInput("inputSource of type local needs baseDir and filter, or files")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise InvalidInput(f"inputSource: no such file {missing[0]}")
    # Druid skips empty files.
    return sorted({f for f in files if f.stat().st_size > 0}, key=lambda p: str(p))


def _first_line(path: Path, skip: int) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        for _ in range(skip):
            handle.readline()
        return handle.readline().rstrip("\r\n")


# Formats read as Parquet: ORC and Avro OCF files are rewritten as Parquet before they are read
# (see conversion.py).
CONVERTED_FORMATS = ("orc", "avro_ocf")
COLUMNAR_FORMATS = ("parquet", *CONVERTED_FORMATS)


class Reader:
    """How to read an input format: the columns it has and SQL reading them all as text."""

    def __init__(
        self,
        input_format: dict[str, Any],
        files: list[Path],
        nested: bool = False,
        discoverable: set[str] | None = None,
    ) -> None:
        self.spec = Spec(input_format, "ioConfig.inputFormat")
        self.kind = self.spec.type()
        self.files = files
        # Druid discovers nested objects as fields only with useSchemaDiscovery (as JSON columns).
        self.nested = nested
        # The root fields that Druid's discovery takes from files converted to Parquet, whose own
        # rules differ from Parquet's (Avro skips booleans); None: Parquet's rules.
        self.discoverable = discoverable
        self.flatten = FlattenSpec()
        if self.kind in ("json", *COLUMNAR_FORMATS):
            self.flatten = parse_flatten_spec(
                self.spec.raw("flattenSpec"), self.spec.at("flattenSpec"), self.kind
            )

    def json_keys(self, cur: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        """Keys of the JSON objects in the input, in order of first appearance, with JSON types.
        As in Druid's field discovery, a key counts only if some object holds a value there that
        is not null, not an object and not an array holding arrays or objects; unless nested
        fields are discovered too, when every key counts."""
        rows = cur.execute(
            "WITH docs AS (SELECT json, row_number() OVER () AS r"
            " FROM read_ndjson_objects(?, ignore_errors=true)),"
            " keys AS (SELECT json, r, unnest(json_keys(json)) AS key,"
            " unnest(range(len(json_keys(json)))) AS pos FROM docs),"
            " vals AS (SELECT r, pos, key,"
            " json -> ('/' || replace(replace(key, '~', '~0'), '/', '~1')) AS v FROM keys),"
            " typed AS (SELECT r, pos, key, v, json_type(v) AS t FROM vals)"
            " SELECT key, list(DISTINCT t), bool_or(CASE t WHEN 'OBJECT' THEN false"
            " WHEN 'NULL' THEN false WHEN 'ARRAY' THEN"
            " NOT list_has_any(json_type(v, '$[*]'), ['OBJECT', 'ARRAY']) ELSE true END)"
            " FROM typed GROUP BY key ORDER BY min(r), min(pos)",
            [[str(f) for f in self.files]],
        ).fetchall()
        return [(key, _json_type(types)) for key, types, flat in rows if flat or self.nested]

    def flattened_fields(self, cur: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        """The flattenSpec's fields, with the types their values have in the input."""
        values = self.flatten.fields.values()
        types = ", ".join(f"list(DISTINCT json_type({sql}))" for sql in values)
        sql = Sql(f"SELECT {types} FROM ") + self._records()
        row = cur.execute(sql.text, sql.params).fetchall()[0]
        return [(name, _json_type(t)) for name, t in zip(self.flatten.fields, row, strict=True)]

    def _records(self) -> Sql:
        """The input with each record as one JSON value in column `json`, for flattening; a
        Parquet row keeps its columns too, in the struct `__row`."""
        if self.kind in COLUMNAR_FORMATS:
            return (
                Sql("(SELECT src AS __row, to_json(src) AS json FROM ")
                + self._parquet()
                + " AS src) AS records"
            )
        return Sql("read_json_objects(?, format='auto')", [[str(f) for f in self.files]])

    def _parquet(self) -> Sql:
        return Sql(
            "read_parquet(?, binary_as_string=?, union_by_name=true)",
            [[str(f) for f in self.files], self.spec.bool("binaryAsString")],
        )

    @cached_property
    def parquet_schema(self) -> dict[str, str]:
        """Column names and DuckDB types of the Parquet files, from their footers alone."""
        sql = Sql("DESCRIBE SELECT * FROM ") + self._parquet()
        with duckdb.connect() as con:
            return {
                name: str(kind) for name, kind, *_ in con.execute(sql.text, sql.params).fetchall()
            }

    def columns(self, cur: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        """Input column names with the type discovery would give them (STRING for delimited):
        for JSON, the flattenSpec's fields, then the discovered root fields they do not name."""
        if self.kind == "json":
            found = self.flattened_fields(cur) if self.flatten.fields else []
            if self.flatten.discover:
                found += [k for k in self.json_keys(cur) if k[0] not in self.flatten.fields]
            return found
        if self.kind in COLUMNAR_FORMATS:
            found = self.flattened_fields(cur) if self.flatten.fields else []
            if self.flatten.discover:
                found += [
                    (name, _parquet_type(kind))
                    for name, kind in self.parquet_schema.items()
                    if name not in self.flatten.fields and (self.nested or self._flat(name, kind))
                ]
            return found
        names: list[str] = []
        for path in self.files:
            for name in self._header(path):
                if name not in names:
                    names.append(name)
        return [(n, "STRING") for n in names]

    def _flat(self, name: str, kind: str) -> bool:
        if self.discoverable is None:
            return _flat_parquet(kind)
        return name in self.discoverable

    def _header(self, path: Path) -> list[str]:
        if self.spec.has("columns") and not self.spec.bool("findColumnsFromHeader"):
            return [str(c) for c in self.spec.list("columns")]
        if not self.spec.bool("findColumnsFromHeader"):
            raise InvalidInput("inputFormat needs columns, or findColumnsFromHeader: true")
        line = _first_line(path, self.spec.int("skipHeaderRows", 0, minimum=0))
        return next(csv.reader(io.StringIO(line), delimiter=self._delimiter()), [])

    def _delimiter(self) -> str:
        if self.kind == "csv":
            return ","
        return str(self.spec.raw("delimiter", "\t"))

    def relation(self, wanted: list[str], lists: Collection[str] = ()) -> Sql:
        """A SELECT of the wanted input columns as VARCHAR (missing ones are NULL). Each name in
        `lists` comes also as VARCHAR[] column list_column(name): the values of a row whose
        input is a list (a JSON array, delimited text holding the listDelimiter), else NULL."""
        if lists:
            return self._list_relation(wanted, lists)
        if self.kind == "json" and self.flatten.fields:
            select = ", ".join(
                f"{json_text(self.flatten.value(name))} AS {_quote(name)}" for name in wanted
            )
            return Sql(f"SELECT {select or '1 AS __none'} FROM ") + self._records()
        if self.kind in COLUMNAR_FORMATS:
            return self._parquet_relation(wanted)
        if self.kind == "json":
            columns = dict.fromkeys(wanted, "VARCHAR")
            return Sql(
                "SELECT * FROM read_json(?, format='auto', records=true, columns=?)",
                [[str(f) for f in self.files], columns],
            )
        parts: list[Sql] = []
        for path in self.files:
            header = self._header(path)
            skip = self.spec.int("skipHeaderRows", 0, minimum=0)
            if self.spec.bool("findColumnsFromHeader"):
                skip += 1
            names = dict.fromkeys(header, "VARCHAR")
            select = (
                ", ".join(
                    _quote(name) if name in names else f"CAST(NULL AS VARCHAR) AS {_quote(name)}"
                    for name in wanted
                )
                or "1 AS __none"
            )
            quote = '"' if self.kind == "csv" else ""
            parts.append(
                Sql(
                    f"SELECT {select} FROM read_csv(?, delim=?, header=false, skip=?, "
                    "columns=?, quote=?, escape=?, auto_detect=false, null_padding=true, "
                    "strict_mode=false, all_varchar=true)",
                    [str(path), self._delimiter(), skip, names, quote, quote],
                )
            )
        return Sql.join(" UNION ALL ", parts)

    @property
    def list_delimiter(self) -> str | None:
        """What splits a delimited value into a list (Druid's default is Ctrl-A)."""
        if self.kind not in ("csv", "tsv"):
            return None
        return str(self.spec.raw("listDelimiter", None) or "\u0001")

    def _list_relation(self, wanted: list[str], lists: Collection[str]) -> Sql:
        if self.kind == "json":
            # Arrays are told from text only in the JSON itself: the records are read whole.
            values = {name: self.flatten.value(name) for name in wanted}
            select = ", ".join(
                [f"{json_text(values[name])} AS {_quote(name)}" for name in wanted]
                + [f"{json_list(values[name])} AS {_quote(list_column(name))}" for name in lists]
            )
            return Sql(f"SELECT {select} FROM ") + self._records()
        if self.kind in COLUMNAR_FORMATS:
            return self._parquet_relation(wanted, lists)
        delimiter = self.list_delimiter
        parts = []
        for name in lists:
            value = _quote(name)
            if delimiter is None:
                split = "CAST(NULL AS VARCHAR[])"
            else:
                # Druid splits a value holding the delimiter; its empty parts are null.
                text = "'" + delimiter.replace("'", "''") + "'"
                split = (
                    f"CASE WHEN contains({value}, {text}) THEN list_transform("
                    f"string_split({value}, {text}), lambda v: NULLIF(v, '')) END"
                )
            parts.append(f"{split} AS {_quote(list_column(name))}")
        return self.relation(wanted).wrap(f"SELECT *, {', '.join(parts)} FROM (", ") AS src")

    def _parquet_relation(self, wanted: list[str], lists: Collection[str] = ()) -> Sql:
        """Parquet columns as text; flattenSpec fields from each row's JSON form."""
        schema = self.parquet_schema
        row = "__row." if self.flatten.fields else ""

        def value(name: str) -> str:
            if name in self.flatten.fields:
                return json_text(self.flatten.fields[name])
            if name in schema:
                return _parquet_text(row + _quote(name), schema[name])
            return "CAST(NULL AS VARCHAR)"

        def values(name: str) -> str:
            if name in self.flatten.fields:
                return json_list(self.flatten.fields[name])
            if name in schema:
                return _parquet_list(row + _quote(name), schema[name])
            return "CAST(NULL AS VARCHAR[])"

        select = ", ".join(
            [f"{value(name)} AS {_quote(name)}" for name in wanted]
            + [f"{values(name)} AS {_quote(list_column(name))}" for name in lists]
        )
        select = select or "1 AS __none"
        source = self._records() if self.flatten.fields else self._parquet()
        return Sql(f"SELECT {select} FROM ") + source


class DatasourceReader:
    """The `druid` input source: the rows of a datasource's published segments in one interval,
    passing its filter, with every column as text as Druid's segment reader hands values to the
    parser (`__time` as epoch milliseconds). Realtime segments are not published, so unread."""

    def __init__(self, source: dict[str, Any], ds: Datasource | None) -> None:
        spec = Spec(source, "ioConfig.inputSource")
        self.start, self.end = timeutil.parse_interval(spec.str("interval"))
        self.filter = spec.raw("filter")
        self.ds = ds
        self.segments = [
            s
            for s in (ds.segments if ds is not None else ())
            if s.stream is None and s.overlaps(self.start, self.end)
        ]
        names = {n for s in self.segments for n in (*s.dimensions, *s.metrics)}
        self.present = [c for c in (ds.columns.values() if ds else ()) if c.name in names]
        # Stored sketches are not text: they pass as they are, for aggregators that merge them.
        self.complex = {c.name: c.type for c in self.present if c.type.startswith("COMPLEX")}

    def columns(self, cur: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        """The dimensions and metrics of the segments read, with their stored types."""
        return [(c.name, c.type) for c in self.present]

    def relation(self, wanted: list[str], lists: Collection[str] = ()) -> Sql:
        """A SELECT of the wanted columns (text, or stored sketches; missing ones are NULL),
        with the stored lists of the multi-value columns in `lists` (see Reader.relation)."""
        by_name = {c.name: c for c in self.present}

        def value(name: str) -> str:
            column = by_name.get(name)
            if name == "__time":
                return "CAST(__time AS VARCHAR)"
            if column is None:
                return "CAST(NULL AS VARCHAR)"
            if column.type.startswith("COMPLEX"):
                return quote_ident(column.physical)
            return f"CAST({quote_ident(column.physical)} AS VARCHAR)"

        def stored_list(name: str) -> str:
            column = by_name.get(name)
            if column is None or not column.multi_value:
                return "CAST(NULL AS VARCHAR[])"
            return quote_ident(column.physical)

        select = ", ".join(
            [f"{value(n)} AS {_quote(n)}" for n in wanted]
            + [f"{stored_list(n)} AS {_quote(list_column(n))}" for n in lists]
        )
        select = select or "1 AS __none"
        if self.ds is None or not self.segments:
            return Sql(f"SELECT {select} WHERE false")

        def resolve(name: str) -> ColumnRef:
            if name == "__time":
                return ColumnRef("__time", "LONG")
            column = by_name.get(name)
            if column is None:
                return ColumnRef("CAST(NULL AS VARCHAR)", "STRING")
            if column.multi_value:
                return MultiValueRef(name, quote_ident(column.physical))
            return ColumnRef(quote_ident(column.physical), column.type)

        ids = ", ".join(str(int(s.id)) for s in self.segments)
        return Sql(
            f"SELECT {select} FROM {quote_ident(self.ds.table)} WHERE __seg IN ({ids}) "
            f"AND __time >= {int(self.start)} AND __time < {int(self.end)} AND "
        ) + compile_filter(self.filter, resolve, "ioConfig.inputSource.filter")


def list_column(name: str) -> str:
    """The name under which a relation gives an input column's list values."""
    return f"__localdruid_list {name}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_PARQUET_LONGS = frozenset(
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
)
_NESTED = re.compile(r"STRUCT|MAP|UNION|\[\]\[\]")


def _flat_parquet(kind: str) -> bool:
    """What Druid's field discovery takes from Parquet: primitives and lists of primitives."""
    return _NESTED.search(kind) is None


def _parquet_type(kind: str) -> str:
    if kind in _PARQUET_LONGS:
        return "LONG"
    if kind in ("FLOAT", "DOUBLE") or kind.startswith("DECIMAL"):
        return "DOUBLE"
    return "STRING"


def _parquet_text(column: str, kind: str) -> str:
    """A Parquet value as the text a JSON reader would give: timestamps as epoch millis, bytes not
    marked as text in base64 (as Druid writes byte arrays into string dimensions), lists and
    structs as JSON text."""
    if kind == "BLOB":
        return f"base64({column})"
    if kind.startswith("TIMESTAMP"):
        return f"CAST(epoch_ms({column}) AS VARCHAR)"
    if kind.startswith("DECIMAL"):
        return f"CAST(CAST({column} AS DOUBLE) AS VARCHAR)"
    if kind.endswith("]") or kind.startswith(("STRUCT", "MAP", "UNION")):
        return f"CAST(to_json({column}) AS VARCHAR)"
    return f"CAST({column} AS VARCHAR)"


def _parquet_list(column: str, kind: str) -> str:
    """A Parquet list of primitives as a multi-value row's values (each as _parquet_text gives
    it); NULL for any other column. A list of lists or structs stops the statement, as in
    json_list."""
    if not kind.endswith("[]"):
        return "CAST(NULL AS VARCHAR[])"
    element = kind[:-2]
    if not _flat_parquet(element) or element.endswith("]"):
        return (
            f"(CASE WHEN {column} IS NULL THEN NULL WHEN len({column}) > 0 THEN "
            f"error('{NESTED_IN_LIST}') ELSE []::VARCHAR[] END)"
        )
    return f"list_transform({column}, lambda v: {_parquet_text('v', element)})"


def _json_type(types: list[str | None]) -> str:
    kinds = {t for t in types if t not in (None, "NULL")}
    if kinds and kinds <= {"BIGINT", "UBIGINT"}:
        return "LONG"
    if kinds and kinds <= {"BIGINT", "UBIGINT", "DOUBLE"}:
        return "DOUBLE"
    return "STRING"
