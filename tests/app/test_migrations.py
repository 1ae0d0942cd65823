"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL,
and can be undone and redone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from app.extensions import db


def schema_differences() -> list[Any]:
    """What autogenerate would write into a new migration: nothing, if models and tables agree."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return list(compare_metadata(context, db.metadata))


def head_revision(app: Flask) -> str:
    config = app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migrations have several heads: {heads}"
    return str(heads[0])


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def app_tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_the_migrated_database_matches_the_models(app: Flask) -> None:
    assert current_revision() == head_revision(app)
    assert app_tables() == set(db.metadata.tables)
    differences = schema_differences()
    assert differences == [], "models and migrations differ; add a migration:\n" + "\n".join(
        map(repr, differences)
    )


def test_downgrade_to_base_and_upgrade_again_on_a_fresh_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"})
    with fresh.app_context():
        try:
            assert app_tables() == set()
            upgrade()
            assert current_revision() == head_revision(fresh)
            assert app_tables() == set(db.metadata.tables)

            downgrade(revision="base")
            assert current_revision() is None
            assert app_tables() == set()

            upgrade()
            assert current_revision() == head_revision(fresh)
            assert schema_differences() == []
        finally:
            db.session.remove()
            db.engine.dispose()
