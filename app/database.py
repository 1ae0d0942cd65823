"""Engine tuning per database: SQLite in WAL mode with a busy timeout and foreign keys on.

SQLite transactions are begun by SQLAlchemy, not by the pysqlite driver (SQLAlchemy's documented
recipe for pysqlite): the driver would not begin one before a SAVEPOINT, so releasing the
SAVEPOINT committed the submission on its own, without the outbox row queued after it. A
transaction that may write begins IMMEDIATE: it takes the write lock first, so concurrent writers
wait for it (busy_timeout) instead of failing with "database is locked" when a read snapshot
cannot be upgraded. Page views (GET, HEAD, OPTIONS) never write and begin deferred, so readers
never queue behind writers.

A connection that the server dropped is replaced by SQLAlchemy's pool_pre_ping
(SQLALCHEMY_ENGINE_OPTIONS in app/config.py).
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import event

from .extensions import db

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_owner_only(database: str | None) -> None:
    """Create a new SQLite database file readable and writable by its owner only (0600): it
    holds personal data. SQLite gives its -wal and -shm files the database file's mode. The file
    is made empty, which SQLite reads as an empty database; an existing file is left as it is."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        descriptor = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)


def init_database(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return
        create_owner_only(engine.url.database)

        @event.listens_for(engine, "connect")
        def sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
            # Stop pysqlite emitting BEGIN itself; the "begin" listener below does it.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def sqlite_begin(connection: Any) -> None:
            reading = has_request_context() and request.method in READ_ONLY_METHODS
            connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")
