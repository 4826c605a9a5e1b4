"""The run log's batched writer (explorer/runlog.py): a cache hit's row is written after the
delay, by the process's writer thread, with the time of its run; nothing is lost when the database
fails for a moment, when the saved query is deleted in between, or when gunicorn stops."""

from __future__ import annotations

import http.client
import json
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.db.models.query import QuerySet

from explorer.models import QueryRun, SavedQuery, Visibility
from explorer.runlog import run_log
from tests.explorer.conftest import TIMESERIES, api
from tests.explorer.test_deploy import _free_port, _wait_for, manage, production_env
from tests.localdruid.harness import LocalDruid

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def batched(settings: Any, transactional_db: Any) -> Iterator[None]:
    """The writer as production runs it: committed data, a thread of its own (60 s unless a
    test sets a shorter delay)."""
    settings.RUN_LOG_DELAY_SECONDS = 60
    yield
    run_log.stop()


def _cached_query(owner: User) -> SavedQuery:
    return SavedQuery.objects.create(
        **TIMESERIES, title="Cached", slug="cached", owner=owner, cache_ttl=300,
        visibility=Visibility.EVERYONE,
    )  # fmt: skip


def _results(user: User, slug: str = "cached") -> dict[str, Any]:
    response = api(user).get(f"/api/queries/{slug}/results/")
    assert response.status_code == 200, response.content
    return dict(response.json()["meta"])


def test_hits_are_queued_then_written_in_one_batch_with_their_own_times(
    batched: None, users: dict[str, User]
) -> None:
    saved = _cached_query(users["alice"])
    first = _results(users["alice"])
    assert first["cached"] is False and isinstance(first["run_id"], int)
    assert QueryRun.objects.count() == 1  # a run that reached Druid is written by the request

    hits = [_results(users[name]) for name in ("alice", "bob", "carol", "bob")]
    assert all(meta["cached"] and meta["run_id"] is None for meta in hits)
    assert QueryRun.objects.count() == 1  # queued, not written: the delay is 60 s

    run_log.flush()
    rows = QueryRun.objects.filter(cached=True).order_by("started", "id")
    assert [row.user.username for row in rows if row.user] == ["alice", "bob", "carol", "bob"]
    assert [row.started.isoformat() for row in rows] == [meta["run_at"] for meta in hits]
    assert all(row.saved_query == saved and row.status == 200 for row in rows)
    assert [row.druid_query for row in rows] == [meta["druid_query"] for meta in hits]


def test_the_writer_thread_writes_after_the_delay(
    batched: None, settings: Any, users: dict[str, User]
) -> None:
    settings.RUN_LOG_DELAY_SECONDS = 0.3
    _cached_query(users["alice"])
    _results(users["alice"])
    queued_at = time.monotonic()
    for _ in range(5):
        _results(users["bob"])
    deadline = time.monotonic() + 15
    while QueryRun.objects.filter(cached=True).count() < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    waited = time.monotonic() - queued_at
    assert QueryRun.objects.filter(cached=True, user=users["bob"]).count() == 5
    assert waited >= 0.3  # not before the delay: the rows of that moment go in together


def test_a_failing_database_loses_no_row(
    batched: None, users: dict[str, User], monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    _cached_query(users["alice"])
    _results(users["alice"])
    for _ in range(3):
        _results(users["carol"])
    real = QuerySet.bulk_create
    failures = iter([OperationalError("database is locked")])

    def flaky(self: QuerySet[Any], objs: Any, *args: Any, **kwargs: Any) -> Any:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real(self, objs, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "bulk_create", flaky)  # a fault injected, once
    with caplog.at_level(logging.ERROR, logger="explorer.runlog"):
        run_log.flush()
    assert "3 rows could not be written; retrying" in caplog.text
    assert QueryRun.objects.filter(cached=True).count() == 0
    run_log.flush()
    assert QueryRun.objects.filter(cached=True, user=users["carol"]).count() == 3


def test_a_user_deleted_before_the_write_is_left_out_of_the_row(
    batched: None, users: dict[str, User]
) -> None:
    saved = _cached_query(users["alice"])
    _results(users["alice"])
    _results(users["bob"])
    _results(users["carol"])
    users["carol"].delete()
    run_log.flush()
    rows = QueryRun.objects.filter(cached=True).order_by("started")
    assert [(row.user, row.saved_query) for row in rows] == [(users["bob"], saved), (None, saved)]


def test_a_hit_queued_for_a_since_deleted_query_is_still_written(
    batched: None, users: dict[str, User]
) -> None:
    saved = _cached_query(users["alice"])
    _results(users["alice"])
    _results(users["bob"])
    saved.delete()
    run_log.flush()
    row = QueryRun.objects.get(cached=True)
    assert row.user == users["bob"] and row.saved_query is None


# -- in production: gunicorn's workers write what they queued when they stop --------------------

SETUP = """
import json, os
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from explorer.models import SavedQuery, Visibility
plan = json.loads(os.environ["RUNLOG_PLAN"])
owner = User.objects.create_user("owner")
SavedQuery.objects.create(**plan["definition"], title="Cached", slug="cached", owner=owner,
                          cache_ttl=300, visibility=Visibility.EVERYONE)
print(Token.objects.create(user=owner).key)
"""


@pytest.mark.slow
def test_gunicorn_workers_write_their_queued_rows_when_they_stop(
    tmp_path: Path, druid: LocalDruid, edits: str
) -> None:
    env = production_env(
        tmp_path,
        DJANGO_SECURE_SSL_REDIRECT="false",
        DRUID_URL=druid.url,
        RUN_LOG_DELAY_SECONDS="3600",  # only the stop can write them
        RUNLOG_PLAN=json.dumps({"definition": TIMESERIES}),
    )
    for command in (("migrate", "--noinput"), ("shell", "-c", SETUP)):
        done = manage(env, *command)
        assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "druidsite.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "2"],
            cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_for(port, server, log)
        hits = 0
        for _ in range(40):  # new connections: both workers answer some
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request(
                "GET", "/api/queries/cached/results/", headers={"Authorization": f"Token {token}"}
            )
            answer = connection.getresponse()
            body = json.loads(answer.read())
            connection.close()
            assert answer.status == 200, body
            hits += body["meta"]["cached"]
        assert hits >= 38  # each worker's first answer may be its own miss
    finally:
        server.send_signal(signal.SIGTERM)  # gunicorn's graceful stop
        server.wait(timeout=30)
    assert server.returncode == 0, log.read_text()
    counted = manage(
        env, "shell", "-c",
        "from explorer.models import QueryRun; "
        "print(QueryRun.objects.filter(cached=True).count(), QueryRun.objects.count())",
    )  # fmt: skip
    assert counted.stdout.splitlines()[-1].split() == [str(hits), "40"], log.read_text()
