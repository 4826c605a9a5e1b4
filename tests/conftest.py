"""Fixtures shared by every test: a real localdruid server for the session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.datasets import edits  # noqa: F401  (a session fixture shared by every suite)
from tests.localdruid.harness import LocalDruid

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

# Property-based tests: CI draws the same examples every run (a failure there reproduces
# anywhere); a developer's run explores new ones and keeps failures in .hypothesis/ to replay.
# HYPOTHESIS_PROFILE picks one by name.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture(scope="session")
def druid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDruid]:
    """One localdruid process for the whole session; tests use their own datasource names."""
    # Tests write input files to their own tmp_path: the whole pytest temporary root is allowed.
    root = tmp_path_factory.getbasetemp()
    server = LocalDruid(tmp_path_factory.mktemp("localdruid") / "data", allow_dirs=[root]).start()
    yield server
    server.stop()
