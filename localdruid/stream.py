"""Streaming ingestion: a supervisor declares a datasource's schema; events pushed over HTTP are
rolled up, committed (so durable) and visible to queries before the push is acknowledged."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import duckdb

from localdruid import timeutil
from localdruid.errors import DruidError, InvalidInput, NotFound
from localdruid.ingest.load import Loader, RowStats, compact_segment
from localdruid.ingest.spec import IngestSpec, parse_index_task
from localdruid.jsonspec import Spec
from localdruid.storage import Store

SUPERVISOR_TYPE = "localdruid"
_BATCH_FIELD = "__localdruid_push"  # tags each event with its push within a group commit
MAINTAIN_SECONDS = 1.0
# A live realtime segment is rolled up again once it has 10,000 rows and then each time it grows
# fourfold, as long as that pays: a roll-up that merged under a tenth of the rows is the last
# before handoff (the rows hardly repeat, so redoing it would cost much and save little).
COMPACT_MIN_ROWS = 10_000
COMPACT_GROWTH = 4
COMPACT_WORTHWHILE = 0.9
HANDOFF_DELAY_MS = 10 * 60_000  # with no late-message period, a chunk closes 10 min after its end
log = logging.getLogger("localdruid.stream")
_STAT_KEYS = ("processed", "unparseable", "thrownAway")


class StreamStopped(DruidError):
    status = 409
    code = "Supervisor stopped"
    error_class = "org.apache.druid.error.DruidException"


def _period_ms(value: Any, where: str) -> int | None:
    if value is None:
        return None
    try:
        period = timeutil.parse_period(str(value))
    except ValueError as exc:
        raise InvalidInput(f"{where}: {exc}") from None
    return timeutil.add_period(0, period) - 0


def _task(schema: dict[str, Any], data: str, window: tuple[int, int] | None) -> IngestSpec:
    """The push as a native batch task that appends inline rows: one ingestion pipeline."""
    schema = json.loads(json.dumps(schema))
    granularity = schema.setdefault("granularitySpec", {})
    if window is not None:
        granularity["intervals"] = [timeutil.format_interval(*window)]
    return parse_index_task({
        "type": "index_parallel",
        "spec": {
            "dataSchema": schema,
            "ioConfig": {"type": "index_parallel", "appendToExisting": True,
                         "inputSource": {"type": "inline", "data": data},
                         "inputFormat": {"type": "json"}},
        },
    })  # fmt: skip


def parse_events(body: bytes) -> tuple[list[str], int]:
    """Events from a JSON array, one JSON object, or newline-delimited JSON, each as the JSON text
    of an object; and how many lines or items were not JSON objects."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return [], 0
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    else:
        items = whole if isinstance(whole, list) else [whole]
        good = [json.dumps(item) for item in items if isinstance(item, dict)]
        return good, len(items) - len(good)
    events, bad = [], 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            item = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if isinstance(item, dict):
            events.append(line)  # its own text: checked, not parsed again nor re-serialized
        else:
            bad += 1
    return events, bad


def _tagged(event: str, batch: int) -> str:
    """An event's JSON text with the number of its push in the group added as a first field."""
    if _BATCH_FIELD in event:  # unlikely: a field of that name; replace it properly
        return json.dumps({**json.loads(event), _BATCH_FIELD: batch})
    rest = event[1:].lstrip()
    return f'{{"{_BATCH_FIELD}":{batch}' + ("}" if rest.startswith("}") else "," + rest)


@dataclass
class _Push:
    """One push waiting for its group's load."""

    events: list[str]  # JSON texts of objects
    malformed: int
    counts: dict[str, int] | None = None
    error: BaseException | None = None


class Supervisors:
    """Streaming supervisors, kept in the database; pushes go through the batch loader."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        cur = store.con.cursor()
        try:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS _localdruid_supervisors (id VARCHAR PRIMARY KEY, "
                "doc VARCHAR)"
            )
            rows = cur.execute("SELECT id, doc FROM _localdruid_supervisors").fetchall()
        finally:
            cur.close()
        self._docs: dict[str, dict[str, Any]] = {i: json.loads(d) for i, d in rows}
        self._batching = threading.Condition()
        self._pending: dict[str, list[_Push]] = {}
        self._loading: set[str] = set()
        # segment id -> (its rows after its last compaction, whether another one may pay)
        self._compacted: dict[int, tuple[int, bool]] = {}
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._maintain, name="handoff", daemon=True)
        self._thread.start()

    def _save(self, doc: dict[str, Any], cur: duckdb.DuckDBPyConnection | None = None) -> None:
        """Write a supervisor's document, within the given cursor's transaction if there is one."""
        own = cur is None
        cursor = self.store.con.cursor() if own else cur
        assert cursor is not None
        try:
            cursor.execute(
                "INSERT OR REPLACE INTO _localdruid_supervisors VALUES (?, ?)",
                [doc["id"], json.dumps(doc)],
            )
        finally:
            if own:
                cursor.close()

    def submit(self, body: Any) -> str:
        root = Spec(body, "supervisor")
        kind = root.type()
        if kind != SUPERVISOR_TYPE:
            raise InvalidInput(
                f"Supervisor type [{kind}] is not supported; localdruid streams use type "
                f"[{SUPERVISOR_TYPE}] and take events at POST /localdruid/v1/push/<id>"
            )
        spec = root.opt_obj("spec") or root
        schema = spec.obj("dataSchema").data
        io = spec.opt_obj("ioConfig") or Spec({}, "ioConfig")
        late = _period_ms(io.raw("lateMessageRejectionPeriod"), "lateMessageRejectionPeriod")
        early = _period_ms(io.raw("earlyMessageRejectionPeriod"), "earlyMessageRejectionPeriod")
        parsed = _task(schema, "", None)  # validates the schema as a batch spec would
        doc = {
            "id": parsed.datasource,
            "dataSource": parsed.datasource,
            "spec": body,
            "dataSchema": schema,
            "late": late,
            "early": early,
            "state": "RUNNING",
            "created": timeutil.format_instant(int(time.time() * 1000)),
            "stats": dict.fromkeys(_STAT_KEYS, 0),
        }
        with self._lock:
            old = self._docs.get(doc["id"])
            if old is not None:
                doc["stats"] = old["stats"]
            self._docs[doc["id"]] = doc
            self._save(doc)
        return str(doc["id"])

    def ids(self) -> list[str]:
        with self._lock:
            return sorted(self._docs)

    def _doc(self, supervisor_id: str) -> dict[str, Any]:
        doc = self._docs.get(supervisor_id)
        if doc is None:
            raise NotFound(f"Cannot find any supervisor with id: [{supervisor_id}]")
        return doc

    def status(self, supervisor_id: str) -> dict[str, Any]:
        with self._lock:
            doc = self._doc(supervisor_id)
            return {
                "id": doc["id"],
                "generationTime": timeutil.format_instant(int(time.time() * 1000)),
                "payload": {
                    "dataSource": doc["dataSource"],
                    "stream": "http push",
                    "state": doc["state"],
                    "detailedState": doc["state"],
                    "healthy": doc["state"] == "RUNNING",
                    "rowStats": dict(doc["stats"]),
                },
            }

    def terminate(self, supervisor_id: str) -> None:
        with self._lock:
            doc = self._doc(supervisor_id)
            doc["state"] = "STOPPED"
            self._save(doc)

    def push(self, supervisor_id: str, body: bytes) -> dict[str, int]:
        """Load one push; returns its row counts once the rows are committed.

        Pushes that arrive while another is loading wait and then go in together, in one
        transaction (a group commit): the per-load cost is paid once for all of them."""
        with self._lock:
            doc = self._doc(supervisor_id)
            if doc["state"] != "RUNNING":
                raise StreamStopped(f"Supervisor [{supervisor_id}] is stopped")
        events, malformed = parse_events(body)
        item = _Push(events, malformed)
        with self._batching:
            self._pending.setdefault(supervisor_id, []).append(item)
            while item.counts is None and item.error is None:
                if supervisor_id in self._loading:
                    self._batching.wait()
                    continue
                batch = self._pending.pop(supervisor_id)
                self._loading.add(supervisor_id)
                self._batching.release()
                try:
                    self._load(doc, batch)
                finally:
                    self._batching.acquire()
                    self._loading.discard(supervisor_id)
                    self._batching.notify_all()
        if item.error is not None:
            raise item.error
        assert item.counts is not None
        return item.counts

    def _load(self, doc: dict[str, Any], batch: list[_Push]) -> None:
        """Load a group of pushes in one ingestion and hand each its own counts; the stream's
        counts are written in the same transaction as its rows."""
        lines = [_tagged(event, k) for k, item in enumerate(batch) for event in item.events]
        counted: dict[str, Any] = {}

        def count(per_push: dict[str, RowStats]) -> dict[str, Any]:
            pushes = []
            totals = dict(doc["stats"])
            for k, item in enumerate(batch):
                stats = per_push.get(str(k), RowStats())
                counts = {
                    "processed": stats.processed,
                    "unparseable": stats.unparseable + item.malformed,
                    "thrownAway": stats.thrown_away,
                }
                pushes.append(counts)
                for key, value in counts.items():
                    totals[key] += value
            counted.update(pushes=pushes, totals=totals)
            return {**doc, "stats": totals}

        try:
            if lines:
                now = int(time.time() * 1000)
                window = None
                if doc["late"] is not None or doc["early"] is not None:
                    low = now - doc["late"] if doc["late"] is not None else timeutil.MIN_MS + 1
                    high = now + doc["early"] if doc["early"] is not None else timeutil.MAX_MS
                    window = (low, high)
                loader: Loader = Loader(
                    self.store,
                    _task(doc["dataSchema"], "\n".join(lines), window),
                    doc["created"],
                    lambda phase, fraction: None,
                    stream=doc["id"],
                    tag=_BATCH_FIELD,
                    before_commit=lambda cur: self._save(count(loader.batch_stats), cur),
                )
                try:
                    loader.run()
                except duckdb.InvalidInputException as exc:
                    if "duplicate key" not in str(exc):
                        raise
                    # Druid's JSON reader lets a repeated key's last value win; DuckDB's refuses
                    # the object, so this group goes again with every event re-serialized.
                    lines = [
                        _tagged(json.dumps(json.loads(event)), k)
                        for k, item in enumerate(batch)
                        for event in item.events
                    ]
                    loader.spec = _task(doc["dataSchema"], "\n".join(lines), window)
                    loader.run()
                if not counted:  # nothing was published, so nothing was saved either
                    self._save(count(loader.batch_stats))
            else:
                self._save(count({}))
        except BaseException as exc:
            for item in batch:
                item.error = exc
            if not isinstance(exc, Exception):
                raise
            return
        with self._lock:
            doc["stats"] = counted["totals"]
            for item, counts in zip(batch, counted["pushes"], strict=True):
                item.counts = counts
        self._wake.set()

    # -- handoff ---------------------------------------------------------------------------------

    def _maintain(self) -> None:
        """Keep realtime segments rolled up, and hand off those whose time chunk has closed."""
        while not self._stopping.is_set():
            self._wake.wait(MAINTAIN_SECONDS)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self.maintain()
            except Exception:  # a failed compaction leaves the rows as they were
                log.exception("realtime segment maintenance failed")

    def maintain(self, now: int | None = None) -> None:
        now = int(time.time() * 1000) if now is None else now
        with self._lock:
            docs = [dict(d) for d in self._docs.values()]
        for doc in docs:
            ds = self.store.datasource(doc["dataSource"])
            if ds is None:
                continue
            for segment in ds.segments:
                if self._stopping.is_set():
                    return
                if segment.stream != doc["id"]:
                    continue
                grace = doc["late"] if doc["late"] is not None else HANDOFF_DELAY_MS
                seal = segment.end + grace <= now or doc["state"] != "RUNNING"
                last, pays = self._compacted.get(segment.id, (0, True))
                grown = segment.num_rows >= max(COMPACT_MIN_ROWS, COMPACT_GROWTH * last)
                if seal or (segment.rollup and pays and grown):
                    rows = compact_segment(self.store, ds.name, segment.id, seal=seal)
                    if rows is not None:
                        pays = rows <= COMPACT_WORTHWHILE * segment.num_rows
                        self._compacted[segment.id] = (rows, pays)

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout=30)
