"""Storage: one DuckDB file holding a table per datasource plus the catalog of its segments."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import duckdb

from localdruid import sketches

# Physical column types for each Druid column type.
PHYSICAL_TYPES = {
    "STRING": "VARCHAR",
    "LONG": "BIGINT",
    "FLOAT": "FLOAT",
    "DOUBLE": "DOUBLE",
    "COMPLEX<hyperUnique>": "UBIGINT[]",
}
NUMERIC_TYPES = ("LONG", "FLOAT", "DOUBLE")
# A first/last metric stores its row's time with the value, as Druid's serializable pairs do.
PAIR_TYPES = {
    "STRING": "COMPLEX<serializablePairLongString>",
    "LONG": "COMPLEX<serializablePairLongLong>",
    "DOUBLE": "COMPLEX<serializablePairLongDouble>",
    "FLOAT": "COMPLEX<serializablePairLongFloat>",
}
PHYSICAL_TYPES.update(
    {pair: f"STRUCT(t BIGINT, v {PHYSICAL_TYPES[kind]})" for kind, pair in PAIR_TYPES.items()}
)
# Sketch metrics store their states (see localdruid/sketches.py).
PHYSICAL_TYPES.update(sketches.STATE_TYPES)


@dataclass(frozen=True)
class Column:
    """A Druid column and the physical DuckDB column holding it."""

    name: str
    physical: str
    type: str
    role: str  # "dimension" or "metric"
    aggregator: dict[str, Any] | None = None
    # A multi-value string dimension keeps each row's values as a list (null for a null row).
    multi_value: bool = False

    @property
    def physical_type(self) -> str:
        return "VARCHAR[]" if self.multi_value else PHYSICAL_TYPES[self.type]


@dataclass(frozen=True)
class Segment:
    """One Druid segment: the rows of one ingestion task within one time chunk."""

    id: int
    start: int
    end: int
    version: str
    partition: int
    min_time: int
    max_time: int
    num_rows: int
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    query_granularity: Any = None
    rollup: bool = False
    stream: str | None = None  # the supervisor whose pushes extend this (realtime) segment

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class Datasource:
    """Everything the engine knows about one datasource; replaced whole on every change."""

    name: str
    table: str
    columns: dict[str, Column] = field(default_factory=dict)
    segments: tuple[Segment, ...] = ()
    next_id: int = 1
    updated: int = 0  # epoch ms of the last committed change (dataSourceMetadata)
    # Whether the table's rowid is the rows' order in their segment (inline rows are not sorted).
    rowid_is_order: ClassVar[bool] = False

    @property
    def dimensions(self) -> list[str]:
        names = {d for s in self.segments for d in s.dimensions}
        return [c.name for c in self.columns.values() if c.role == "dimension" and c.name in names]

    @property
    def metrics(self) -> list[str]:
        names = {m for s in self.segments for m in s.metrics}
        return [c.name for c in self.columns.values() if c.role == "metric" and c.name in names]

    def segment_datasource(self, seg: Segment) -> str:
        """The datasource a segment belongs to, as its id names it (a union has several)."""
        return self.name

    def to_json(self) -> str:
        doc = {
            "name": self.name,
            "table": self.table,
            "columns": [asdict(c) for c in self.columns.values()],
            "segments": [asdict(s) for s in self.segments],
            "next_id": self.next_id,
            "updated": self.updated,
        }
        return json.dumps(doc)

    @staticmethod
    def from_json(text: str) -> Datasource:
        doc = json.loads(text)
        columns = {c["name"]: Column(**c) for c in doc["columns"]}
        segments = tuple(
            Segment(**{**s, "dimensions": tuple(s["dimensions"]), "metrics": tuple(s["metrics"])})
            for s in doc["segments"]
        )
        return Datasource(
            doc["name"], doc["table"], columns, segments, doc["next_id"], doc.get("updated", 0)
        )


class Store:
    """The DuckDB database of one data directory; many readers, one writer at a time."""

    def __init__(
        self, data_dir: Path, *, threads: int | None = None, memory_limit: str = ""
    ) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "tmp").mkdir(exist_ok=True)
        config: dict[str, Any] = {
            "temp_directory": str(data_dir / "tmp"),
            "threads": threads or os.cpu_count() or 2,
            "enable_external_access": True,
        }
        if memory_limit:
            config["memory_limit"] = memory_limit
        self.con = duckdb.connect(str(data_dir / "localdruid.duckdb"), config=config)
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS _localdruid_datasources "
            "(name VARCHAR PRIMARY KEY, doc VARCHAR)"
        )
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS _localdruid_tasks (id VARCHAR PRIMARY KEY, doc VARCHAR)"
        )
        self._lock = threading.Lock()  # guards the catalog snapshot and the writer
        self.write_lock = threading.Lock()
        self._catalog: dict[str, Datasource] = {
            name: Datasource.from_json(doc)
            for name, doc in self.con.execute(
                "SELECT name, doc FROM _localdruid_datasources"
            ).fetchall()
        }

    def close(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.execute("CHECKPOINT")
        self.con.close()

    # -- readers -------------------------------------------------------------------------------

    def catalog(self) -> dict[str, Datasource]:
        with self._lock:
            return self._catalog

    def datasource(self, name: str) -> Datasource | None:
        return self.catalog().get(name)

    @contextlib.contextmanager
    def reader(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, Datasource]]]:
        """A cursor whose transaction sees exactly the data of the catalog it is given."""
        cur = self.con.cursor()
        try:
            with self._lock:
                cur.execute("BEGIN TRANSACTION")
                # A read pins DuckDB's snapshot now, while the catalog cannot change.
                cur.execute("SELECT 1 FROM _localdruid_datasources LIMIT 0").fetchall()
                catalog = self._catalog
            yield cur, catalog
        finally:
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            cur.close()

    # -- writer --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The single writer's cursor; staging work happens outside any transaction."""
        with self.write_lock:
            cur = self.con.cursor()
            try:
                cur.execute("SET TimeZone = 'UTC'")
                yield cur
            finally:
                cur.close()

    def new_datasource(self, name: str) -> Datasource:
        used = {ds.table for ds in self.catalog().values()}
        n = len(used) + 1
        while f"ds_{n}" in used:
            n += 1
        return Datasource(name=name, table=f"ds_{n}")

    def commit(self, cur: duckdb.DuckDBPyConnection, ds: Datasource) -> None:
        """Write the datasource's catalog entry and publish it once the transaction commits."""
        cur.execute(
            "INSERT OR REPLACE INTO _localdruid_datasources VALUES (?, ?)", [ds.name, ds.to_json()]
        )
        with self._lock:
            cur.execute("COMMIT")
            self._catalog = {**self._catalog, ds.name: ds}

    # -- tasks ---------------------------------------------------------------------------------

    def save_task(self, task_id: str, doc: dict[str, Any]) -> None:
        cur = self.con.cursor()
        try:
            cur.execute(
                "INSERT OR REPLACE INTO _localdruid_tasks VALUES (?, ?)", [task_id, json.dumps(doc)]
            )
        finally:
            cur.close()

    def load_tasks(self) -> dict[str, dict[str, Any]]:
        cur = self.con.cursor()
        try:
            rows = cur.execute("SELECT id, doc FROM _localdruid_tasks").fetchall()
        finally:
            cur.close()
        return {task_id: json.loads(doc) for task_id, doc in rows}
