"""What every table holds, to prove that something changed nothing (or came back exactly)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from app.extensions import db


def snapshot() -> dict[str, tuple[int, str]]:
    """Row count and a SHA-256 of the content of every table, rows ordered by primary key."""
    db.session.rollback()
    result = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest = hashlib.sha256()
            for row in rows:
                digest.update(repr(tuple(row)).encode())
            result[table.name] = (len(rows), digest.hexdigest())
    return result
