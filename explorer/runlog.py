"""The run log's writer for cached answers: their rows are written in batches, in the background.

Every run is logged, cache hits included. A cache hit is otherwise answered from memory, and one
INSERT per hit was half of its cost under load: with several workers on SQLite, each commit also
waits for the database's single write lock. So a hit's row is queued here and a thread of the
process writes what has queued, in one transaction, RUN_LOG_DELAY_SECONDS after the first row
came (0.5 s by default); rows are also written when the process exits normally. A row keeps the
time of its run. Runs that reach Druid or fail are written at once, by the request itself.

With RUN_LOG_DELAY_SECONDS = 0 every row is written at once, by the request.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, IntegrityError, connection, transaction

from explorer.models import QueryRun, SavedQuery

logger = logging.getLogger(__name__)

# Past this many queued rows (the database has been failing for a while) the oldest are dropped.
MAX_QUEUED = 100_000


class RunLogWriter:
    """Queues QueryRun rows and writes them from one background thread per process."""

    def __init__(self) -> None:
        self._queue: list[QueryRun] = []
        self._changed = threading.Condition()
        self._pid: int | None = None  # the process that started the thread (a fork has none)
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._exit_hook = False

    def add(self, run: QueryRun) -> None:
        delay = float(getattr(settings, "RUN_LOG_DELAY_SECONDS", 0.5))
        if delay <= 0:
            run.save()
            return
        with self._changed:
            if self._pid != os.getpid():
                self._start()
            self._queue.append(run)
            if len(self._queue) > MAX_QUEUED:
                dropped = len(self._queue) - MAX_QUEUED
                del self._queue[:dropped]
                logger.error(
                    "run log: %d queued rows dropped; the database refuses writes", dropped
                )
            self._changed.notify()

    def _start(self) -> None:
        if self._pid is not None and self._pid != os.getpid():
            self._queue = []  # rows queued before a fork are the parent's to write
        self._pid = os.getpid()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="run-log-writer", daemon=True)
        self._thread.start()
        if not self._exit_hook:
            atexit.register(self.stop)  # gunicorn's graceful stop and Ctrl-C end with sys.exit
            self._exit_hook = True

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._queue and not self._stopping:
                    self._changed.wait()
                if self._stopping:
                    return
            # Let the rows of the next moment join this batch.
            delay = float(getattr(settings, "RUN_LOG_DELAY_SECONDS", 0.5))
            with self._changed:
                self._changed.wait_for(lambda: self._stopping, timeout=max(delay, 0.0))
            self.flush()

    def flush(self) -> None:
        """Write every queued row now (the writer thread, process exit, tests)."""
        with self._changed:
            batch, self._queue = self._queue, []
        if not batch:
            return
        try:
            self.write(batch)
        except DatabaseError:
            logger.exception("run log: %d rows could not be written; retrying", len(batch))
            with self._changed:
                self._queue[:0] = batch
        finally:
            if threading.current_thread().name == "run-log-writer":
                connection.close()

    def stop(self) -> None:
        """Stop the writer thread and write what is queued (process exit, tests)."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
            thread, self._thread, self._pid = self._thread, None, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        self.flush()

    @staticmethod
    def write(batch: list[QueryRun]) -> None:
        """Insert the rows in one transaction. A saved query or user deleted since the run is
        left out of its row, as deleting it would have done (on_delete=SET_NULL)."""
        for attempt in (1, 2):
            saved_ids = {run.saved_query_id for run in batch} - {None}
            user_ids = {run.user_id for run in batch} - {None}
            saved = set(SavedQuery.objects.filter(pk__in=saved_ids).values_list("pk", flat=True))
            users = set(
                get_user_model().objects.filter(pk__in=user_ids).values_list("pk", flat=True)
            )
            for run in batch:
                if run.saved_query_id is not None and run.saved_query_id not in saved:
                    run.saved_query = None
                if run.user_id is not None and run.user_id not in users:
                    run.user = None
            try:
                with transaction.atomic():
                    QueryRun.objects.bulk_create(batch)
                return
            except IntegrityError:
                if attempt == 2:
                    raise  # deleted again in between: the next flush looks again


run_log = RunLogWriter()
