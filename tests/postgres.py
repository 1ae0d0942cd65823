"""A fresh PostgreSQL database for a test run, a server under test or a benchmark, dropped after."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

from sqlalchemy import Connection, create_engine, text

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class DatabaseUnavailable(Exception):
    """PostgreSQL could not be reached to create a database."""


def terminate_backends(admin: Connection, name: str) -> None:
    """End every server process serving database `name` (but the admin's own), as a restart of
    the server does: their clients' connections are dead from then on."""
    admin.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"
        ),
        {"name": name},
    )


@contextlib.contextmanager
def fresh_postgres_database(prefix: str = "partner_select_load") -> Iterator[str]:
    """Create an empty database named ``prefix`` plus a random suffix; yield its URL; drop it
    (ending any connection still open to it). Raises DatabaseUnavailable before yielding."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        raise DatabaseUnavailable(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {type(error).__name__}"
        ) from error
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            terminate_backends(connection, name)
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
