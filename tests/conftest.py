"""Shared fixtures.  The Prefect test harness (a temporary Prefect API server on a fresh SQLite
database) is started once per test session, only when a test asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """The URL of a Prefect API server for the whole session (prefect_test_harness)."""
    from nianbao import prefect_settings

    prefect_settings.apply()
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        url = PREFECT_API_URL.value()
        assert url
        yield str(url)
