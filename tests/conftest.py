"""Shared fixtures.  The Prefect test harness (a temporary Prefect API server on a fresh SQLite
database) is started once per test session, only when a test asks for it.

Prefect's home is a temporary folder for the whole session, set here before anything imports
Prefect: the tests never touch the user's ``~/.prefect`` (its ``prefect.db``, which a real
``prefect server start`` serves, and its profiles), and never a configured Prefect server."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

PREFECT_HOME = tempfile.mkdtemp(prefix="nianbao-tests-prefect-")
os.environ["PREFECT_HOME"] = PREFECT_HOME
for _k in (
    "PREFECT_API_URL",
    "PREFECT_API_KEY",
    "PREFECT_PROFILE",
    "PREFECT_PROFILES_PATH",
    "PREFECT_SERVER_DATABASE_CONNECTION_URL",
):
    os.environ.pop(_k, None)
atexit.register(shutil.rmtree, PREFECT_HOME, True)


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """The URL of a Prefect API server for the whole session (prefect_test_harness)."""
    from nianbao.run import prefect_settings

    prefect_settings.apply()
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        url = PREFECT_API_URL.value()
        assert url
        yield str(url)
