"""`flask backup` and `flask restore`: a consistent copy of the whole database, and putting it back.

SQLite is copied with its online backup API (a consistent snapshot while the service runs);
PostgreSQL with pg_dump and pg_restore in their custom format. Backups hold personal data, so they
are written readable by their owner only. A restore replaces everything in the database, so it
refuses to run over a database that holds data unless told to with --force.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import Engine, inspect, select, table
from sqlalchemy import func as sql_func
from sqlalchemy.engine import URL

from .extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
# Debian and Ubuntu install each PostgreSQL version's client tools here, off the PATH.
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
# Wait at most this long for another connection's locks during a restore, then fail clearly.
RESTORE_LOCK_TIMEOUT = "10s"


class BackupError(click.ClickException):
    """A backup or restore that cannot go ahead, with what to do about it."""


# -- finding the PostgreSQL tools -------------------------------------------------------------


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def find_pg_tool(name: str, bin_dir: str | None = None, pattern: str = PG_BIN_GLOB) -> str:
    """The path of pg_dump or pg_restore: in PG_BIN_DIR if set, else on the PATH, else the newest
    version under /usr/lib/postgresql (a newer pg_dump reads older servers, not the reverse)."""
    if bin_dir:
        candidate = Path(bin_dir) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        raise BackupError(f"{name} was not found in PG_BIN_DIR ({bin_dir}).")
    on_path = shutil.which(name)
    if on_path:
        return on_path
    for directory in sorted(glob.glob(pattern), key=_version_key, reverse=True):
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise BackupError(
        f"{name} was not found on the PATH or under {pattern}. Install the PostgreSQL client "
        "tools (for example `apt-get install postgresql-client`) or set PG_BIN_DIR to the "
        f"folder that holds {name}."
    )


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and an environment carrying the password
    (so it never shows in the process list)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # pg_dump and pg_restore report object names and connection problems, never row data.
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        raise BackupError(f"{what} failed: {detail}")


# -- what is in the database ------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("Only an SQLite database in a file can be backed up or restored.")
    return Path(url.database)


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in each of the database's tables (Alembic's bookkeeping table left out)."""
    counts = {}
    with engine.connect() as connection:
        for name in inspect(connection).get_table_names():
            if name == "alembic_version":
                continue
            counts[name] = connection.scalar(select(sql_func.count()).select_from(table(name)))
    return {name: int(n or 0) for name, n in counts.items()}


def _file_kind(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    return "unknown"


# -- backup -----------------------------------------------------------------------------------


def default_backup_path(instance_path: str, dialect: str, now: datetime) -> Path:
    suffix = ".sqlite3" if dialect == "sqlite" else ".dump"
    return Path(instance_path) / "backups" / f"{now:%Y%m%dT%H%M%SZ}{suffix}"


def backup_sqlite(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"There is no SQLite database at {source}: nothing to back up.")
    partial = target.with_name(target.name + ".partial")
    source_connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        target_connection = sqlite3.connect(partial)
        try:
            # The online backup API copies a consistent snapshot, even while the service writes.
            source_connection.backup(target_connection)
        finally:
            target_connection.close()
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"The SQLite backup failed: {error}") from error
    finally:
        source_connection.close()
    partial.replace(target)


def backup_postgresql(url: URL, target: Path, bin_dir: str | None) -> None:
    pg_dump = find_pg_tool("pg_dump", bin_dir)
    dsn, env = _libpq(url)
    partial = target.with_name(target.name + ".partial")
    try:
        _run(
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={partial}",
                f"--dbname={dsn}",
            ],
            env,
            "pg_dump",
        )
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)


def _prepare_target(path: Path) -> None:
    if path.exists():
        raise BackupError(f"{path} exists already: choose another file name.")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)


# -- restore ----------------------------------------------------------------------------------


def _check_sqlite_backup(path: Path) -> None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        verdict = connection.execute("PRAGMA quick_check").fetchone()
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as error:
        raise BackupError(f"{path} is not a readable SQLite database: {error}") from error
    finally:
        connection.close()
    if not verdict or verdict[0] != "ok":
        raise BackupError(f"{path} is damaged (SQLite integrity check: {verdict}).")
    if "alembic_version" not in tables:
        raise BackupError(f"{path} is an SQLite database, but not a Partner Select backup.")


def restore_sqlite(backup: Path, target: Path) -> None:
    _check_sqlite_backup(backup)
    target.parent.mkdir(parents=True, exist_ok=True)
    source_connection = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        target_connection = sqlite3.connect(target, timeout=30)
        try:
            # Copies every page over the live database in one step, under SQLite's own locking.
            source_connection.backup(target_connection)
        finally:
            target_connection.close()
    except sqlite3.Error as error:
        raise BackupError(f"The SQLite restore failed: {error}") from error
    finally:
        source_connection.close()


def restore_postgresql(backup: Path, url: URL, bin_dir: str | None) -> None:
    pg_restore = find_pg_tool("pg_restore", bin_dir)
    dsn, env = _libpq(url)
    # Read the archive's table of contents first: a damaged file fails here, before any change.
    _run([pg_restore, "--list", str(backup)], env, f"Reading {backup}")
    env["PGOPTIONS"] = f"-c lock_timeout={RESTORE_LOCK_TIMEOUT}"
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            dsn,
            str(backup),
        ],
        env,
        "pg_restore (nothing was changed: it runs in one transaction)",
    )


def _summary(counts: dict[str, int]) -> str:
    rows = sum(counts.values())
    filled = sum(1 for n in counts.values() if n)
    return f"{rows} rows in {filled} of {len(counts)} tables"


def init_app(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("path", required=False, type=click.Path(dir_okay=True, path_type=Path))
    def backup_command(path: Path | None) -> None:
        """Copy the whole database to PATH (default: instance/backups/<UTC time>).

        SQLite uses its online backup API; PostgreSQL uses pg_dump's custom format. If PATH is a
        folder, the backup is written into it under a timestamped name.
        """
        url = db.engine.url
        dialect = db.engine.dialect.name
        default = default_backup_path(current_app.instance_path, dialect, datetime.now(UTC))
        if path is None:
            path = default
        elif path.is_dir():
            path = path / default.name
        _prepare_target(path)
        old_umask = os.umask(0o077)  # the copy holds personal data: owner only
        try:
            if dialect == "sqlite":
                backup_sqlite(_sqlite_path(url), path)
            elif dialect == "postgresql":
                backup_postgresql(url, path, current_app.config.get("PG_BIN_DIR"))
            else:
                raise BackupError(f"Backups of {dialect} databases are not supported.")
        finally:
            os.umask(old_umask)
        click.echo(f"Backed up {_summary(row_counts(db.engine))} to {path}")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(path_type=Path))
    @click.option(
        "--force", is_flag=True, help="Replace a database that already holds data (it is lost)."
    )
    def restore_command(path: Path, force: bool) -> None:
        """Replace the database's contents with a backup made by `flask backup`.

        Stop the web service and the mail worker first. Refuses to overwrite a database that holds
        data unless --force is given.
        """
        if not path.is_file():
            raise BackupError(f"There is no backup file at {path}.")
        url = db.engine.url
        dialect = db.engine.dialect.name
        kind = _file_kind(path)
        if kind == "unknown":
            raise BackupError(
                f"{path} is not a backup made by `flask backup` (neither an SQLite database nor "
                "a pg_dump custom-format archive)."
            )
        if kind != dialect:
            raise BackupError(
                f"{path} is a {kind} backup, but this service uses a {dialect} database "
                "(DATABASE_URL). Restore it into a database of the same kind."
            )
        counts = row_counts(db.engine)
        if any(counts.values()) and not force:
            raise BackupError(
                f"The database already holds data ({_summary(counts)}). A restore replaces all "
                "of it. Back it up first if you may need it, then run the restore again with "
                "--force."
            )
        # Our own connections would hold locks (PostgreSQL) or a stale snapshot (SQLite).
        db.session.remove()
        db.engine.dispose()
        if dialect == "sqlite":
            restore_sqlite(path, _sqlite_path(url))
        else:
            restore_postgresql(path, url, current_app.config.get("PG_BIN_DIR"))
        db.engine.dispose()
        click.echo(
            f"Restored {_summary(row_counts(db.engine))} from {path}. "
            "Run `flask db upgrade` if this code is newer than the backup."
        )
