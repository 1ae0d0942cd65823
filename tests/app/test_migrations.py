"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL,
and can be undone and redone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

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


STAMP = "2026-12-01 10:00:00"


def insert_round(connection: Any, id_: int = 1, settings: str = "{}") -> None:
    """A round, written with plain SQL as the schema of an earlier revision holds it."""
    connection.execute(
        text(
            "INSERT INTO rounds (id, slug, title, opens_at, closes_at, sites_wanted,"
            " settings, created_at, reviews_required, weights, quotas)"
            " VALUES (:id, :slug, 'R', :t, :t, 12, :settings, :t, 2, '{}', '[]')"
        ),
        {"id": id_, "slug": f"r{id_}", "settings": settings, "t": STAMP},
    )


def insert_application(
    connection: Any, id_: int, status: str, page_id: str, answers: str, round_id: int = 1
) -> None:
    """An application of the round with one answered page (its answers as JSON text)."""
    connection.execute(
        text(
            "INSERT INTO applications (id, round_id, status, token_hash, channel,"
            " eligibility, created_at, updated_at, screening)"
            " VALUES (:id, :round_id, :status, :token, 'online', '{}', :t, :t, 'unscreened')"
        ),
        {"id": id_, "round_id": round_id, "status": status, "token": f"token-{id_}", "t": STAMP},
    )
    connection.execute(
        text(
            "INSERT INTO answer_pages (application_id, page_id, answers, updated_at)"
            " VALUES (:id, :page_id, :answers, :t)"
        ),
        {"id": id_, "page_id": page_id, "answers": answers, "t": STAMP},
    )


def test_0010_copies_the_pressures_answer_of_applications_already_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"})
    with fresh.app_context():
        try:
            upgrade(revision="0009")
            with db.engine.begin() as connection:
                insert_round(connection)
                answers = '{"prior_participation": "never", "pressures": "struggling"}'
                for id_, status in ((1, "submitted"), (2, "draft")):
                    insert_application(connection, id_, status, "experience", answers)
            upgrade()
            with db.engine.connect() as connection:
                found = dict(
                    connection.execute(text("SELECT id, pressures FROM applications")).all()
                )
            # Sent: copied as sending would have; a draft is copied when it is sent.
            assert found == {1: "struggling", 2: None}
        finally:
            db.session.remove()
            db.engine.dispose()


def test_0011_makes_each_stored_organisation_type_a_list_of_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The organisation type became "select all that apply": a stored choice becomes a list."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"})
    with fresh.app_context():
        try:
            upgrade(revision="0010")
            types = [["care-provider", "Care provider"], ["user-led", "User-led"]]
            types.append(["carer-led", "Carer-led"])
            options = json.dumps({"options": {"organisation_type": types}})
            with db.engine.begin() as connection:
                insert_round(connection, settings=options)
                insert_round(connection, id_=2, settings=options)
                chose_user_led = '{"organisation_type": "user-led"}'
                insert_application(connection, 3, "submitted", "organisation", chose_user_led, 2)
                for id_, answers in (
                    (1, '{"organisation_name": "A", "organisation_type": "care-provider"}'),
                    (2, '{"organisation_name": "B", "organisation_type": null}'),
                ):
                    insert_application(connection, id_, "draft", "organisation", answers)

            def stored() -> dict[int, Any]:
                with db.engine.connect() as connection:
                    rows = connection.execute(
                        text("SELECT application_id, answers FROM answer_pages")
                    ).all()
                return {
                    id_: (json.loads(a) if isinstance(a, str) else a)["organisation_type"]
                    for id_, a in rows
                }

            upgrade()
            assert stored() == {1: ["care-provider"], 2: None, 3: ["user-led"]}
            with db.engine.connect() as connection:
                settings = dict(connection.execute(text("SELECT id, settings FROM rounds")).all())

            def offered(round_id: int) -> list[str]:
                value = settings[round_id]
                value = json.loads(value) if isinstance(value, str) else value
                return [v for v, _ in value["options"]["organisation_type"]]

            # Asked once, in "led by": gone where nobody chose them; kept where someone did.
            assert offered(1) == ["care-provider"]
            assert offered(2) == ["care-provider", "user-led"]
            downgrade(revision="0010")
            assert stored() == {1: "care-provider", 2: None, 3: "user-led"}
        finally:
            db.session.remove()
            db.engine.dispose()
