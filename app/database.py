"""Engine tuning per database: SQLite in WAL mode with a busy timeout and foreign keys on.

SQLite transactions are begun by SQLAlchemy, not by the pysqlite driver (SQLAlchemy's documented
recipe for pysqlite): the driver would not begin one before a SAVEPOINT, so releasing the
SAVEPOINT committed the submission on its own, without the outbox row queued after it. A
transaction that may write begins IMMEDIATE: it takes the write lock first, so concurrent writers
wait for it (busy_timeout) instead of failing with "database is locked" when a read snapshot
cannot be upgraded. Page views (GET, HEAD, OPTIONS) never write and begin deferred, so readers
never queue behind writers.

Server databases (PostgreSQL): a pooled connection that has been idle for a while is pinged
before it is handed out (`ping_after_idle`), not every connection on every checkout.
"""

from __future__ import annotations

import os
from time import monotonic
from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import Engine, event
from sqlalchemy.exc import InvalidatePoolError

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
            ping_after_idle(engine, app.config["DATABASE_PING_AFTER_IDLE_SECONDS"])
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


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Before a pooled connection is handed out, ping the server if the connection has been idle
    for `idle_seconds` or more; if the server has gone, the pool replaces the connection.

    SQLAlchemy's pool_pre_ping does the same on every checkout: one more round trip per request,
    0.6 ms of CPU a final submit under load on 2 cores. A connection that was in use a moment
    ago is most likely still alive, and under load connections are reused within milliseconds,
    so they are not pinged; after a quiet spell, when a restart of the server may have passed
    unseen, they are. A connection that dies while recently used (the server restarts under
    steady traffic) fails its request's first statement instead: SQLAlchemy then invalidates the
    whole pool, so the worker's next request connects afresh; the request itself gets the "try
    again in a moment" page with its answers kept (app/errors.py), and the final submit tries
    once more by itself (app/apply/views.py). A checkout listener says a connection is dead by
    raising DisconnectionError (SQLAlchemy's pool events); InvalidatePoolError, as pool_pre_ping
    raises it, also retires every connection opened before now (they went with the server), and
    the pool opens a new one in its place.
    """

    @event.listens_for(engine, "checkin")
    def idle_from(dbapi_connection: Any, record: Any) -> None:
        # The record's info is cleared whenever its connection is replaced (SQLAlchemy's pool).
        record.info["idle_since"] = monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")  # a new connection has none: it was just opened
        if since is None or monotonic() - since < idle_seconds:
            return
        dialect = engine.dialect
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise InvalidatePoolError("the database connection had gone") from error
            raise
        if not alive:
            raise InvalidatePoolError("the database connection had gone")
