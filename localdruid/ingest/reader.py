"""Input sources and formats: the files to read, and DuckDB table functions reading them as text."""

from __future__ import annotations

import csv
import fnmatch
import gzip
import io
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from localdruid.errors import InvalidInput
from localdruid.jsonspec import Spec
from localdruid.sql import Sql


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


class Reader:
    """How to read an input format: the columns it has and SQL reading them all as text."""

    def __init__(self, input_format: dict[str, Any], files: list[Path]) -> None:
        self.spec = Spec(input_format, "ioConfig.inputFormat")
        self.kind = self.spec.type()
        self.files = files

    def json_keys(self, cur: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        """Keys of every JSON object in the input, in order of first appearance, with JSON types."""
        rows = cur.execute(
            "WITH docs AS (SELECT json, row_number() OVER () AS r"
            " FROM read_ndjson_objects(?, ignore_errors=true)),"
            " keys AS (SELECT json, r, unnest(json_keys(json)) AS key,"
            " unnest(range(len(json_keys(json)))) AS pos FROM docs)"
            " SELECT key, list(DISTINCT json_type(json -> ('$.\"' || key || '\"')))"
            " FROM keys GROUP BY key ORDER BY min(r), min(pos)",
            [[str(f) for f in self.files]],
        ).fetchall()
        return [(key, _json_type(types)) for key, types in rows]

    def columns(self, cur: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        """Input column names with the type discovery would give them (STRING for delimited)."""
        if self.kind == "json":
            return self.json_keys(cur)
        names: list[str] = []
        for path in self.files:
            for name in self._header(path):
                if name not in names:
                    names.append(name)
        return [(n, "STRING") for n in names]

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

    def relation(self, wanted: list[str]) -> Sql:
        """A SELECT of the wanted input columns as VARCHAR (missing ones are NULL)."""
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


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_type(types: list[str | None]) -> str:
    kinds = {t for t in types if t not in (None, "NULL")}
    if kinds and kinds <= {"BIGINT", "UBIGINT"}:
        return "LONG"
    if kinds and kinds <= {"BIGINT", "UBIGINT", "DOUBLE"}:
        return "DOUBLE"
    return "STRING"
