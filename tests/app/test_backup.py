"""`flask backup` and `flask restore` round trips on SQLite and PostgreSQL: every table's rows and
content come back exactly, and a restore never overwrites data unless told to."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import delete, select, update

from app.backup import BackupError, find_pg_tool
from app.extensions import db
from app.models import Application, Review, Round, SelectionRun, User, utcnow
from app.staff.runs.services import start_run
from tests.app.factories import make_round
from tests.app.tables import snapshot
from tests.app.world import build_pool


def flask(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def seeded(app: Flask, make_user: Any) -> dict[str, tuple[int, str]]:
    """A round with ten sent applications (answers, outbox, events), reviewers with submitted
    reviews, and a selection run with its decisions."""
    pool = build_pool(make_user)
    staff = make_user("staff")
    start_run(db.session, pool.round, staff, utcnow(), seed=7)
    db.session.commit()
    before = snapshot()
    for name in (
        "rounds",
        "applications",
        "answer_pages",
        "users",
        "reviews",
        "review_scores",
        "selection_runs",
        "selection_decisions",
    ):
        assert before[name][0] > 0, f"the seed left {name} empty"
    return before


def _backup(app: Flask, target: Path) -> Path:
    result = flask(app, "backup", str(target))
    assert result.exit_code == 0, result.output
    assert target.is_file()
    assert "Backed up" in result.output
    # Backups hold personal data: readable by their owner only.
    assert stat.S_IMODE(target.stat().st_mode) & 0o077 == 0
    return target


def _wipe() -> None:
    db.session.rollback()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


def test_backup_and_restore_into_an_emptied_database(
    app: Flask, seeded: dict[str, tuple[int, str]], tmp_path: Path
) -> None:
    backup = _backup(app, tmp_path / "copy.bak")
    _wipe()
    assert all(count == 0 for count, _ in snapshot().values())

    result = flask(app, "restore", str(backup))

    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    assert snapshot() == seeded
    # The restored database works through the app as before.
    assert db.session.scalar(select(Application).where(Application.reference.is_not(None)))


def test_restore_refuses_a_database_with_data_unless_forced(
    app: Flask, seeded: dict[str, tuple[int, str]], tmp_path: Path
) -> None:
    backup = _backup(app, tmp_path / "copy.bak")
    # Change the database after the backup: a row gone, rows changed, rows added.
    db.session.execute(delete(Review).where(Review.id == db.session.scalar(select(Review.id))))
    db.session.execute(update(Application).values(organisation_name="Changed after the backup"))
    db.session.execute(update(User).values(name="Renamed"))
    db.session.execute(delete(SelectionRun))
    make_round("added-after-backup")
    changed = snapshot()
    assert changed != seeded

    refused = flask(app, "restore", str(backup))
    assert refused.exit_code != 0
    assert "already holds data" in refused.output and "--force" in refused.output
    assert snapshot() == changed  # nothing touched

    forced = flask(app, "restore", str(backup), "--force")
    assert forced.exit_code == 0, forced.output
    assert snapshot() == seeded
    assert db.session.scalar(select(Round).where(Round.slug == "added-after-backup")) is None


def test_backup_defaults_to_a_timestamped_file_in_the_instance_folder(
    app: Flask, seeded: dict[str, tuple[int, str]]
) -> None:
    result = flask(app, "backup")
    assert result.exit_code == 0, result.output
    [made] = list((Path(app.instance_path) / "backups").iterdir())
    assert str(made) in result.output
    assert made.stat().st_size > 0
    # The same name again is refused rather than overwritten.
    again = flask(app, "backup", str(made))
    assert again.exit_code != 0 and "exists already" in again.output


def test_restore_explains_a_missing_foreign_or_damaged_file(app: Flask, tmp_path: Path) -> None:
    missing = flask(app, "restore", str(tmp_path / "nope.bak"))
    assert missing.exit_code != 0 and "There is no backup file" in missing.output

    junk = tmp_path / "junk.bak"
    junk.write_bytes(b"this is not a backup\n" * 10)
    result = flask(app, "restore", str(junk))
    assert result.exit_code != 0 and "is not a backup made by `flask backup`" in result.output

    # A backup of the other kind of database is refused before anything is changed.
    other = tmp_path / "other.bak"
    dialect = db.engine.dialect.name
    other.write_bytes(b"PGDMP\x01" if dialect == "sqlite" else b"SQLite format 3\x00" + b"\0" * 90)
    result = flask(app, "restore", str(other))
    assert result.exit_code != 0 and f"this service uses a {dialect} database" in result.output


def test_pg_tools_are_found_off_the_path_or_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for version in ("13", "15"):
        folder = tmp_path / "postgresql" / version / "bin"
        folder.mkdir(parents=True)
        tool = folder / "pg_dump"
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    pattern = str(tmp_path / "postgresql" / "*" / "bin")

    assert find_pg_tool("pg_dump", pattern=pattern) == str(
        tmp_path / "postgresql" / "15" / "bin" / "pg_dump"
    )
    assert find_pg_tool("pg_dump", str(tmp_path / "postgresql" / "13" / "bin"), pattern).endswith(
        "13/bin/pg_dump"
    )
    with pytest.raises(BackupError, match="pg_restore was not found on the PATH or under"):
        find_pg_tool("pg_restore", pattern=pattern)
    with pytest.raises(BackupError, match="not found in PG_BIN_DIR"):
        find_pg_tool("pg_dump", str(tmp_path / "empty"), pattern)
