"""Druid basic auth: the site sends DRUID_USERNAME/DRUID_PASSWORD through pydruid and its GET
helper to a localdruid that asks for them, and a refused credential is a clear 502."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from explorer.models import QueryRun
from tests.datasets import EDITS, EDITS_METRICS
from tests.explorer.conftest import api, make_query
from tests.localdruid.harness import LocalDruid, inline_task

pytestmark = pytest.mark.django_db

USER, PASSWORD = "site", "p@ss: word"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDruid]:
    env = {"LOCALDRUID_USERNAME": USER, "LOCALDRUID_PASSWORD": PASSWORD}
    server = LocalDruid(tmp_path_factory.mktemp("secured-site") / "data", env=env).start()
    server.ingest(
        inline_task("edits", EDITS, dimensions=["channel", "page", "user"], metrics=EDITS_METRICS)
    )
    yield server
    server.stop()


@pytest.fixture
def at_secured(settings: Any, secured: LocalDruid) -> LocalDruid:
    settings.DRUID_URL = secured.url
    settings.DRUID_USERNAME = USER
    settings.DRUID_PASSWORD = PASSWORD
    cache.clear()
    return secured


def test_queries_and_metadata_pass_the_credentials(
    users: dict[str, User], at_secured: LocalDruid
) -> None:
    make_query(users["alice"], "q")
    resp = api(users["alice"]).get("/api/queries/q/results/", {"refresh": "1"})
    assert resp.status_code == 200, resp.content
    assert resp.json()["rows"]
    # The datasource list goes through druid_get, the detail through pydruid.
    client = api(users["alice"])
    assert {"name": "edits"} in client.get("/api/datasources/").json()
    assert client.get("/api/datasources/edits/").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"), [(USER, "wrong"), ("", "")], ids=["wrong password", "none"]
)
def test_refused_credentials_are_502_saying_so(
    users: dict[str, User], at_secured: LocalDruid, settings: Any, username: str, password: str
) -> None:
    settings.DRUID_USERNAME, settings.DRUID_PASSWORD = username, password
    make_query(users["alice"], "q")
    resp = api(users["alice"]).get("/api/queries/q/results/", {"refresh": "1"})
    assert resp.status_code == 502
    detail = resp.json()["detail"]
    assert "refused the site's credentials" in detail and "DRUID_PASSWORD" in detail
    assert PASSWORD not in detail
    assert QueryRun.objects.get().status == 502
    listing = api(users["alice"]).get("/api/datasources/")
    assert listing.status_code == 502 and "DRUID_USERNAME" in listing.json()["detail"]
