"""Fuzz fixtures: SQLite only.

The fuzz runs on SQLite only. What it tests is validation (forms, the quota CSV reader, the
error handlers), which never reaches the database unless a body is valid; the same views and
services run on PostgreSQL in the flow tests of every blueprint. Running 1,000 bodies per
endpoint on both would double the suite's longest file for no new path.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url
