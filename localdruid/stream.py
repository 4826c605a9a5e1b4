"""Streaming ingestion: a supervisor declares a datasource's schema; events pushed over HTTP are
rolled up, committed (so durable) and visible to queries before the push is acknowledged."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from localdruid import timeutil
from localdruid.errors import DruidError, InvalidInput, NotFound
from localdruid.ingest.load import Loader, RowStats
from localdruid.ingest.spec import IngestSpec, parse_task
from localdruid.jsonspec import Spec
from localdruid.storage import Store

SUPERVISOR_TYPE = "localdruid"
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
    return parse_task({
        "type": "index_parallel",
        "spec": {
            "dataSchema": schema,
            "ioConfig": {"type": "index_parallel", "appendToExisting": True,
                         "inputSource": {"type": "inline", "data": data},
                         "inputFormat": {"type": "json"}},
        },
    })  # fmt: skip


def parse_events(body: bytes) -> tuple[list[dict[str, Any]], int]:
    """Events from a JSON array, one JSON object, or newline-delimited JSON; and how many
    lines or items were not JSON objects."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return [], 0
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    else:
        items = whole if isinstance(whole, list) else [whole]
        good = [item for item in items if isinstance(item, dict)]
        return good, len(items) - len(good)
    events, bad = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if isinstance(item, dict):
            events.append(item)
        else:
            bad += 1
    return events, bad


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

    def _save(self, doc: dict[str, Any]) -> None:
        cur = self.store.con.cursor()
        try:
            cur.execute(
                "INSERT OR REPLACE INTO _localdruid_supervisors VALUES (?, ?)",
                [doc["id"], json.dumps(doc)],
            )
        finally:
            cur.close()

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
        """Load one push; returns its row counts once the rows are committed."""
        with self._lock:
            doc = self._doc(supervisor_id)
            if doc["state"] != "RUNNING":
                raise StreamStopped(f"Supervisor [{supervisor_id}] is stopped")
        events, malformed = parse_events(body)
        stats = RowStats(unparseable=malformed)
        if events:
            now = int(time.time() * 1000)
            window = None
            if doc["late"] is not None or doc["early"] is not None:
                low = now - doc["late"] if doc["late"] is not None else timeutil.MIN_MS + 1
                high = now + doc["early"] if doc["early"] is not None else timeutil.MAX_MS
                window = (low, high)
            data = "\n".join(json.dumps(event) for event in events)
            loader = Loader(
                self.store,
                _task(doc["dataSchema"], data, window),
                doc["created"],
                lambda phase, fraction: None,
                stream=supervisor_id,
            )
            loaded = loader.run()
            stats = RowStats(loaded.processed, loaded.unparseable + malformed, loaded.thrown_away)
        counts = {
            "processed": stats.processed,
            "unparseable": stats.unparseable,
            "thrownAway": stats.thrown_away,
        }
        with self._lock:
            for key, value in counts.items():
                doc["stats"][key] += value
            self._save(doc)
        return counts
