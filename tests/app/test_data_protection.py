"""Data protection: the subject access export, erasure that keeps the anonymised decision record,
and the retention command. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import (
    AnswerPage,
    Application,
    ApplicationEvent,
    AuditEvent,
    Conflict,
    Letter,
    OutboxMessage,
    Review,
    ReviewScore,
    Round,
    SelectionDecision,
    SelectionRun,
    utcnow,
)
from app.outbox import FileTransport, send_due
from app.staff.applications.services import screen_application
from tests.app.apply.journey import TEXT, VALID
from tests.app.conftest import sign_in_as
from tests.app.factories import make_round, submitted_application
from tests.app.helpers import Client, download

# Personal data from VALID (the postcode as stored, upper-cased) and a staff note.
PERSONAL = [
    VALID["contact"]["contact_name"],
    VALID["contact"]["email"],
    VALID["contact"]["phone"],
    VALID["location"]["postcode"].upper(),
    VALID["organisation"]["organisation_name"],
    *TEXT.values(),
]
NOTE = "Spoke to Siân on the phone about the budget"
COMMENT = "Siân's team know the valleys well"


def decided(round_: Round, application: Application, *, days_ago: int) -> SelectionRun:
    """A run confirmed `days_ago`, selecting the application, with its inputs stored."""
    at = utcnow() - timedelta(days=days_ago)
    run = SelectionRun(
        round_id=round_.id,
        status="done",
        created_at=at,
        finished_at=at,
        confirmed_at=at,
        parameters={
            "k": 1,
            "applications": [
                {
                    "application_id": application.id,
                    "id": application.reference,
                    "organisation": application.organisation_name,
                    "nation": application.nation,
                }
            ],
        },
    )
    run.decisions = [
        SelectionDecision(
            application_id=application.id,
            decision="selected",
            rank=1,
            score=4.25,
            difference=4.5,
            inequalities=4.0,
            resources=4.5,
            evidence=4.0,
            reason_code="top_score",
            reason="Selected: the highest score.",
        )
    ]
    db.session.add(run)
    db.session.commit()
    return run


@pytest.fixture
def world(app: Flask, make_user: Any) -> dict[str, Any]:
    round_ = make_round()
    staff = make_user("staff", name="Sam Staff")
    admin = make_user("admin", name="Ada Admin")
    reviewer = make_user("reviewer", name="Rhys Reviewer")
    application = submitted_application(round_)
    screen_application(db.session, application, "eligible", None, NOTE, staff, utcnow())
    review = Review(application_id=application.id, reviewer_id=reviewer.id, status="submitted")
    review.overall_comment = COMMENT
    review.scores = [ReviewScore(criterion="difference", score=4, comment=COMMENT)]
    db.session.add(review)
    db.session.commit()
    run = decided(round_, application, days_ago=1)
    return {
        "round": round_,
        "application": application,
        "staff": staff,
        "admin": admin,
        "reviewer": reviewer,
        "run": run,
    }


def export(client: Client, application_id: int) -> dict[str, Any]:
    response = download(client, f"/staff/applications/{application_id}/everything.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    return json.loads(response.data)


def test_staff_download_everything_held_about_an_application(
    client: Client, world: dict[str, Any]
) -> None:
    application = world["application"]
    sign_in_as(client, world["staff"])
    page = client.get_page(f"/staff/applications/{application.id}")
    assert page.select_one("#subject-access")
    assert not page.select_one("#erase"), "only admins erase"

    data = export(client, application.id)

    assert data["application"]["reference"] == application.reference
    assert data["answers"]["contact"]["email"] == VALID["contact"]["email"]
    assert data["answers"]["difference"]["difference"] == TEXT["difference"]
    assert data["screening"] == {"result": "eligible", "reason": None, "note": NOTE}
    assert "screened" in {e["what"] for e in data["history"]}
    assert data["reviews"][0]["scores"] == {"difference": 4}
    assert data["reviews"][0]["overall_comment"] == COMMENT
    assert "Rhys" not in json.dumps(data), "reviewers are not named"
    assert data["decisions"][0]["decision"] == "selected"
    assert data["decisions"][0]["reason_code"] == "top_score"
    confirmation = [e for e in data["emails"] if e["to"] == VALID["contact"]["email"]]
    assert confirmation and application.reference in confirmation[0]["subject"]
    # The download itself is in the audit log.
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "application.exported")
        )
        == 1
    )


def test_reviewers_cannot_download_or_erase(client: Client, world: dict[str, Any]) -> None:
    application = world["application"]
    sign_in_as(client, world["reviewer"])
    assert (
        download(client, f"/staff/applications/{application.id}/everything.json").status_code == 403
    )
    assert client.get(f"/staff/applications/{application.id}/erase").status_code == 403


def test_staff_who_are_not_admins_cannot_erase(client: Client, world: dict[str, Any]) -> None:
    application = world["application"]
    sign_in_as(client, world["staff"])
    assert client.get(f"/staff/applications/{application.id}/erase").status_code == 403
    token = client.hidden_fields(f"/staff/applications/{application.id}/screening")["csrf_token"]
    response = client.client.post(
        f"/staff/applications/{application.id}/erase",
        data={"csrf_token": token, "reason": "subject-request", "confirm": "yes"},
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Application, application.id).erased_at is None


def test_erasure_needs_a_reason_and_a_confirmation(client: Client, world: dict[str, Any]) -> None:
    application = world["application"]
    sign_in_as(client, world["admin"])
    url = f"/staff/applications/{application.id}/erase"
    for body, message in (
        ({}, "Select why the personal data is being erased"),
        ({"reason": "subject-request"}, "Confirm that you understand this cannot be undone"),
        ({"reason": "because", "confirm": "yes"}, "Select why the personal data is being erased"),
    ):
        page = client.submit_page(url, body)
        assert message in page.select_one(".error-summary").get_text()
    db.session.expire_all()
    assert db.session.get(Application, application.id).erased_at is None
    assert VALID["contact"]["email"] in json.dumps(
        db.session.get(Application, application.id).answers
    )


def test_erasure_blanks_personal_data_and_keeps_the_decision_record(
    client: Client, world: dict[str, Any]
) -> None:
    application, run = world["application"], world["run"]
    unsent = OutboxMessage(
        kind="outcome",
        application_id=application.id,
        to_address=VALID["contact"]["email"],
        subject="Your expression of interest",
        body="Dear Siân",
    )
    db.session.add(unsent)
    db.session.commit()
    unsent_id = unsent.id
    mix = (application.nation, application.area_type, application.size_band, application.led_by)
    token_hash = application.token_hash
    sign_in_as(client, world["admin"])
    page = client.get_page(f"/staff/applications/{application.id}")
    assert page.select_one("#erase")

    client.submit(
        f"/staff/applications/{application.id}/erase",
        {"reason": "subject-request", "confirm": "yes"},
    )

    db.session.expire_all()
    erased = db.session.get(Application, application.id)
    assert erased.erased_at is not None
    stored = json.dumps(
        [p.answers for p in db.session.scalars(select(AnswerPage))], ensure_ascii=False
    )
    stored += json.dumps(
        [(m.to_address, m.subject, m.body) for m in db.session.scalars(select(OutboxMessage))],
        ensure_ascii=False,
    )
    stored += " ".join(e.detail for e in db.session.scalars(select(ApplicationEvent)))
    stored += " ".join(r.overall_comment for r in db.session.scalars(select(Review)))
    stored += " ".join(s.comment for s in db.session.scalars(select(ReviewScore)))
    stored += json.dumps(db.session.get(SelectionRun, run.id).parameters, ensure_ascii=False)
    stored += f"{erased.organisation_name} {erased.screening_note}"
    for value in [*PERSONAL, NOTE, COMMENT, "Siân"]:
        assert value not in stored, value
    assert erased.token_hash != token_hash
    # Kept: reference, status, mix, choice answers, screening result, scores and the decision.
    assert erased.reference == application.reference and erased.status == "submitted"
    assert (erased.nation, erased.area_type, erased.size_band, erased.led_by) == mix
    assert erased.answers["leadership"] == VALID["leadership"]
    assert erased.answers["topics"]["topics"] == VALID["topics"]["topics"]
    assert erased.screening == "eligible"
    assert [s.score for s in db.session.scalars(select(ReviewScore))] == [4]
    decision = db.session.scalars(select(SelectionDecision)).one()
    assert (decision.decision, decision.reason_code, decision.score) == (
        "selected",
        "top_score",
        4.25,
    )
    # The unsent email is dropped; the sent confirmation keeps its kind and dates only.
    assert db.session.get(OutboxMessage, unsent_id) is None
    # Said in the history and the audit log, and the page still shows.
    page = client.get_page(f"/staff/applications/{application.id}")
    assert "Personal data erased" in page.select_one("#history").get_text()
    assert "Erased at" in page.select_one("#status").get_text()
    assert not page.select_one("#erase")
    assert db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "application.erased")
    ).one().detail == {"reason": "subject-request"}
    # The subject access export now holds none of it.
    exported = json.dumps(export(client, application.id), ensure_ascii=False)
    for value in [*PERSONAL, NOTE, COMMENT]:
        assert value not in exported, value


def test_the_resume_link_stops_working_after_erasure(app: Flask, make_user: Any) -> None:
    from app.applications.services import save_page, start_application
    from app.data_protection import erase_application

    round_ = make_round()
    draft, token = start_application(db.session, round_, {"uk_based": "yes"}, utcnow())
    save_page(db.session, draft, "contact", VALID["contact"], utcnow())
    db.session.commit()
    client = app.test_client()
    assert client.get(f"/resume/{token}").status_code == 302
    erase_application(db.session, draft, None, "entered-in-error", utcnow())
    db.session.commit()
    assert app.test_client().get(f"/resume/{token}").status_code == 404


def run_retention(app: Flask, *args: str, **config: Any) -> str:
    app.config.update(config)
    result = app.test_cli_runner().invoke(args=["retention", *args])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


@pytest.fixture
def closed(app: Flask) -> dict[str, Any]:
    """A round closed 40 days ago and decided 400 days ago... (it ran long ago), with one sent
    application and one draft; and an open round with a draft."""
    from app.applications.services import save_page, start_application

    now = utcnow()
    old = make_round("old-round")
    sent = submitted_application(old)
    draft, _ = start_application(db.session, old, {"uk_based": "yes"}, now)
    save_page(db.session, draft, "contact", VALID["contact"], now)
    db.session.add(
        OutboxMessage(
            kind="resume_link",
            application_id=draft.id,
            to_address="x@example.org",
            subject="Your link",
            body="link",
        )
    )
    old.opens_at, old.closes_at = now - timedelta(days=500), now - timedelta(days=40)
    db.session.commit()
    decided(old, sent, days_ago=400)
    current = make_round("current-round")
    open_draft, _ = start_application(db.session, current, {"uk_based": "yes"}, now)
    db.session.commit()
    return {"sent": sent.id, "draft": draft.id, "open_draft": open_draft.id}


def test_retention_is_a_dry_run_by_default(app: Flask, closed: dict[str, Any]) -> None:
    output = run_retention(app, RETENTION_DRAFT_DAYS=30, RETENTION_PERSONAL_DATA_DAYS=365)
    assert "Would delete 1 draft(s)" in output
    assert "Would erase the personal data of 1 application(s)" in output
    assert "Dry run: nothing was changed" in output
    assert db.session.get(Application, closed["draft"]) is not None
    assert db.session.get(Application, closed["sent"]).erased_at is None


def test_retention_applies_deletes_old_drafts_and_erases_after_the_decision(
    app: Flask, closed: dict[str, Any]
) -> None:
    output = run_retention(
        app, "--apply", RETENTION_DRAFT_DAYS=30, RETENTION_PERSONAL_DATA_DAYS=365
    )
    assert "Deleted 1 draft(s)" in output and "Erased the personal data of 1" in output
    assert db.session.get(Application, closed["draft"]) is None
    assert not db.session.scalars(
        select(AnswerPage).where(AnswerPage.application_id == closed["draft"])
    ).all()
    assert not db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "resume_link")
    ).all()
    assert db.session.get(Application, closed["open_draft"]) is not None, "its round is open"
    sent = db.session.get(Application, closed["sent"])
    assert sent.erased_at is not None and sent.reference
    assert sent.answers["contact"]["email"] == ""
    # Run again: nothing left to do.
    again = run_retention(app, "--apply")
    assert "Deleted 0 draft(s)" in again and "personal data of 0 application(s)" in again


def test_retention_periods_are_configurable(app: Flask, closed: dict[str, Any]) -> None:
    output = run_retention(
        app, "--apply", RETENTION_DRAFT_DAYS=60, RETENTION_PERSONAL_DATA_DAYS=500
    )
    assert "Deleted 0 draft(s)" in output and "personal data of 0 application(s)" in output
    assert db.session.get(Application, closed["draft"]) is not None
    assert db.session.get(Application, closed["sent"]).erased_at is None


# Copies outside the tables: the outbox's files, conflict notes, and the database file itself.


def send_to_files(app: Flask) -> Path:
    """Send every due email as `flask send-mail` does without MAIL_SERVER: as .eml files."""
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    send_due(db.session, FileTransport(folder), "Partner Select <partners@example.org>")
    return folder


def email_text(path: Path) -> str:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    return f"{message['To']} {message['Subject']} {message.get_body().get_content()}"  # type: ignore[union-attr]


def owner_only(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_erasure_removes_the_files_the_outbox_wrote(
    app: Flask, client: Client, world: dict[str, Any]
) -> None:
    application = world["application"]
    other = submitted_application(world["round"], contact={"email": "someone.else@example.org"})
    folder = send_to_files(app)
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 2  # the two confirmations, each with a copy of the answers
    assert all(owner_only(path) for path in [folder, *files])
    assert any(application.reference in email_text(path) for path in files)

    sign_in_as(client, world["admin"])
    client.submit(
        f"/staff/applications/{application.id}/erase",
        {"reason": "subject-request", "confirm": "yes"},
    )

    left = sorted(folder.glob("*.eml"))
    assert len(left) == 1 and "someone.else@example.org" in email_text(left[0])
    assert other.reference in email_text(left[0])


def test_retention_removes_the_files_of_what_it_erases(app: Flask, closed: dict[str, Any]) -> None:
    sent = db.session.get(Application, closed["sent"])
    folder = send_to_files(app)
    assert any(sent.reference in email_text(path) for path in folder.glob("*.eml"))
    run_retention(app, "--apply", RETENTION_DRAFT_DAYS=30, RETENTION_PERSONAL_DATA_DAYS=365)
    assert not any(sent.reference in email_text(path) for path in folder.glob("*.eml"))


CONFLICT_NOTE = "Siân is my sister-in-law"


def test_conflict_notes_are_exported_and_erased(client: Client, world: dict[str, Any]) -> None:
    application = world["application"]
    db.session.add(
        Conflict(
            application_id=application.id, reviewer_id=world["reviewer"].id, note=CONFLICT_NOTE
        )
    )
    db.session.commit()
    sign_in_as(client, world["admin"])
    exported = export(client, application.id)
    assert [c["note"] for c in exported["conflicts_of_interest"]] == [CONFLICT_NOTE]
    assert world["reviewer"].name not in json.dumps(exported, ensure_ascii=False)

    client.submit(
        f"/staff/applications/{application.id}/erase",
        {"reason": "subject-request", "confirm": "yes"},
    )
    db.session.expire_all()
    conflict = db.session.scalars(select(Conflict)).one()
    assert conflict.note == "" and conflict.reviewer_id == world["reviewer"].id  # still hidden
    assert CONFLICT_NOTE not in json.dumps(export(client, application.id), ensure_ascii=False)


def test_a_new_sqlite_database_is_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    path = tmp_path / "new.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        with db.engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        files = [path, Path(f"{path}-wal")]
        assert all(owner_only(f) for f in files), [oct(f.stat().st_mode) for f in files]
        db.engine.dispose()


BY_POST = {
    **VALID["contact"],
    "email": None,
    "phone": "01632 960 001",
    "preferred_contact": "post",
    "address_line_1": "Unit 4, Mill Lane",
    "address_line_2": "Trallwng",
    "address_town": "Pontypridd",
    "address_postcode": "CF37 1AA",
}
POSTAL = ["Unit 4, Mill Lane", "Trallwng", "Pontypridd", "CF37 1AA", "01632 960 001"]


def test_a_postal_applicants_address_phone_and_letters_are_exported_and_erased(
    client: Client, app: Flask, make_user: Any
) -> None:
    round_ = make_round()
    admin = make_user("admin", name="Ada Admin")
    application = submitted_application(round_, contact=BY_POST)
    posted = db.session.scalars(select(Letter)).one()
    posted.posted_at = utcnow()  # the confirmation went in the post
    unposted = Letter(
        kind="outcome",
        application_id=application.id,
        to_name="Siân O'Brien-Llewellyn",
        address="Unit 4, Mill Lane\nPontypridd\nCF37 1AA",
        subject="Your expression of interest: our decision",
        body="Dear Siân, we have decided.",
    )
    db.session.add(unposted)
    db.session.commit()
    posted_id, unposted_id = posted.id, unposted.id
    sign_in_as(client, admin)

    data = export(client, application.id)
    assert data["answers"]["contact"]["address_line_1"] == "Unit 4, Mill Lane"
    assert data["answers"]["contact"]["phone"] == "01632 960 001"
    letters = data["letters"]
    assert [letter["kind"] for letter in letters] == ["confirmation", "outcome"]
    assert letters[0]["address"][-3:] == ["Trallwng", "Pontypridd", "CF37 1AA"]
    assert letters[0]["to"] == "Siân O'Brien-Llewellyn" and letters[0]["posted_at"]
    assert TEXT["difference"] in letters[0]["body"]

    client.submit(
        f"/staff/applications/{application.id}/erase",
        {"reason": "subject-request", "confirm": "yes"},
    )
    db.session.expire_all()
    assert db.session.get(Letter, unposted_id) is None  # never posted: dropped
    kept = db.session.get(Letter, posted_id)
    assert kept.kind == "confirmation" and kept.posted_at is not None  # kind and dates only
    stored = json.dumps(
        [p.answers for p in db.session.scalars(select(AnswerPage))], ensure_ascii=False
    )
    stored += json.dumps(
        [(m.to_name, m.address, m.subject, m.body) for m in db.session.scalars(select(Letter))],
        ensure_ascii=False,
    )
    exported = json.dumps(export(client, application.id), ensure_ascii=False)
    for value in [*POSTAL, "Siân", TEXT["difference"]]:
        assert value not in stored, value
        assert value not in exported, value
    # The print queue lists it as posted, with no name.
    queue = client.get_page("/staff/letters")
    assert "Personal data erased" in queue.select_one("#posted").get_text()
