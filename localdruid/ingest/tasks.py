"""Ingestion tasks: accepted at once, run one at a time in the background, status kept on disk."""

from __future__ import annotations

import contextlib
import functools
import logging
import queue
import random
import string
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from localdruid import timeutil
from localdruid.errors import DruidError, InvalidInput
from localdruid.ingest.load import Loader
from localdruid.ingest.reader import file_sources, local_files
from localdruid.ingest.spec import IngestSpec, parse_task
from localdruid.storage import Store

log = logging.getLogger("localdruid.tasks")


def _now_iso() -> str:
    return timeutil.format_instant(int(time.time() * 1000))


class TaskManager:
    """The overlord's task queue: a single worker, so ingestions never race each other."""

    def __init__(
        self,
        store: Store,
        allowed_dirs: Sequence[Path] = (),
        *,
        ignore_druid_timestamp_spec: bool = False,
    ) -> None:
        self.store = store
        self.allowed_dirs = list(allowed_dirs)  # where local input sources may read
        self.ignore_druid_timestamp_spec = ignore_druid_timestamp_spec  # see Loader
        self._lock = threading.Lock()
        self._tasks = store.load_tasks()
        self._last_version = 0
        for task_id, doc in self._tasks.items():
            if doc["status"]["status"] == "RUNNING":
                # The process stopped mid-task; nothing of it was committed.
                self._finish(task_id, "FAILED", "localdruid stopped before the task finished")
        self._queue: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="localdruid-tasks", daemon=True)
        self._worker.start()

    def submit(self, task: Any) -> str:
        spec = parse_task(task)
        if isinstance(spec, IngestSpec):
            for source in file_sources(spec.input_source):
                if source.get("type") == "local":
                    # Refused before it is queued: a path outside answers 400 and nothing runs.
                    local_files(source, self.allowed_dirs)
        task_id = task.get("id") if isinstance(task, dict) else None
        if task_id is not None and not isinstance(task_id, str):
            raise InvalidInput("task id must be a string")
        if not task_id:
            suffix = "".join(random.choices(string.ascii_lowercase, k=8))
            task_id = f"{spec.task_type}_{spec.datasource}_{suffix}_{_now_iso()}"
        with self._lock:
            if task_id in self._tasks:
                raise InvalidInput(f"Task [{task_id}] already exists!")
            self._tasks[task_id] = {
                "status": {
                    "id": task_id,
                    "groupId": task_id,
                    "type": spec.task_type,
                    "createdTime": _now_iso(),
                    "queueInsertionTime": _now_iso(),
                    "statusCode": "RUNNING",
                    "status": "RUNNING",
                    "runnerStatusCode": "PENDING",
                    "duration": -1,
                    "location": {"host": None, "port": -1, "tlsPort": -1},
                    "dataSource": spec.datasource,
                    "errorMsg": None,
                },
                "rowStats": {},
                "progress": {"phase": "pending", "fraction": 0.0},
            }
            self.store.save_task(task_id, self._tasks[task_id])
        self._queue.put((task_id, spec))
        return task_id

    def status(self, task_id: str) -> dict[str, Any] | None:
        with self._lock:
            doc = self._tasks.get(task_id)
            if doc is None:
                return None
            return {
                "task": task_id,
                "status": dict(doc["status"]),
                "progress": dict(doc["progress"]),
            }

    def reports(self, task_id: str) -> dict[str, Any] | None:
        with self._lock:
            doc = self._tasks.get(task_id)
            if doc is None:
                return None
            status = doc["status"]
            return {
                "ingestionStatsAndErrors": {
                    "type": "ingestionStatsAndErrors",
                    "taskId": task_id,
                    "payload": {
                        "ingestionState": "COMPLETED"
                        if status["status"] != "RUNNING"
                        else "BUILD_SEGMENTS",
                        "rowStats": {"buildSegments": doc["rowStats"]},
                        "errorMsg": status["errorMsg"],
                    },
                }
            }

    def close(self) -> None:
        self._queue.put(None)
        self._worker.join(timeout=5)

    def _version(self) -> str:
        # Druid versions are the task's lock time; two tasks in one millisecond still differ.
        now = max(int(time.time() * 1000), self._last_version + 1)
        self._last_version = now
        return timeutil.format_instant(now)

    def _set_progress(self, task_id: str, phase: str, fraction: float) -> None:
        with self._lock:
            self._tasks[task_id]["progress"] = {"phase": phase, "fraction": round(fraction, 4)}

    def _finish(self, task_id: str, state: str, error: str | None, stats: Any = None) -> None:
        doc = self._tasks[task_id]
        status = doc["status"]
        started = doc.get("started")
        status.update(
            statusCode=state,
            status=state,
            runnerStatusCode="NONE",
            errorMsg=error,
            duration=int((time.time() - started) * 1000) if started else 0,
        )
        if stats is not None:
            doc["rowStats"] = stats
        doc["progress"] = {"phase": "done", "fraction": 1.0 if state == "SUCCESS" else 0.0}
        self.store.save_task(task_id, doc)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            task_id, spec = item
            with self._lock:
                self._tasks[task_id]["status"]["runnerStatusCode"] = "RUNNING"
                self._tasks[task_id]["started"] = time.time()
            loader = Loader(
                self.store,
                spec,
                self._version(),
                functools.partial(self._set_progress, task_id),
                allowed_dirs=self.allowed_dirs,
                ignore_druid_timestamp_spec=self.ignore_druid_timestamp_spec,
            )
            try:
                stats = loader.run()
            except DruidError as exc:
                with self._lock:
                    self._finish(task_id, "FAILED", exc.message, loader.stats.to_json())
                continue
            except Exception as exc:  # the task fails; the server keeps serving
                log.exception("task %s failed", task_id)
                with self._lock:
                    self._finish(
                        task_id, "FAILED", f"{type(exc).__name__}: {exc}", loader.stats.to_json()
                    )
                continue
            with self._lock, contextlib.suppress(KeyError):
                self._finish(task_id, "SUCCESS", None, stats.to_json())
