"""Load and fault tests against real servers: gunicorn + PostgreSQL, and `make run`'s SQLite.

Each test gets a fresh database (a new PostgreSQL database, or a SQLite file in a new instance
folder), migrated and given an open round, and starts its own server on a free loopback port
(see server.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.load.server import DatabaseUnavailable, fresh_postgres_database


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped after the test."""
    try:
        with fresh_postgres_database() as url:
            yield url
    except DatabaseUnavailable as error:
        skip_or_fail(str(error))


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"
