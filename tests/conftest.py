"""Fixtures shared by every test: a real localdruid server for the session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.datasets import edits  # noqa: F401  (a session fixture shared by every suite)
from tests.localdruid.harness import LocalDruid

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def druid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDruid]:
    """One localdruid process for the whole session; tests use their own datasource names."""
    # Tests write input files to their own tmp_path: the whole pytest temporary root is allowed.
    root = tmp_path_factory.getbasetemp()
    server = LocalDruid(tmp_path_factory.mktemp("localdruid") / "data", allow_dirs=[root]).start()
    yield server
    server.stop()
