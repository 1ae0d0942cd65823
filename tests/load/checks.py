"""What the database and the server log must show after a load run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, select

from app.models import Application, OutboxMessage
from tests.app.apply.journey import TEXT, VALID
from tests.load.http_journey import Outcome


def sqlite_url(instance: Path) -> str:
    """Where `make run` keeps its database: the instance folder (see app/__init__.py)."""
    return f"sqlite:///{instance / 'partner_select.sqlite3'}"


@dataclass(frozen=True)
class Stored:
    """What the database holds after a run."""

    # (reference, organisation name) of every submitted application
    submitted: list[tuple[str, str]]
    drafts: int
    outbox: Counter[str]  # rows by kind
    confirmations_per_application: Counter[int]


def stored(url: str) -> Stored:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            applications = connection.execute(
                select(Application.status, Application.reference, Application.organisation_name)
            ).all()
            outbox = connection.execute(
                select(OutboxMessage.kind, OutboxMessage.application_id)
            ).all()
    finally:
        engine.dispose()
    return Stored(
        submitted=[(ref, name) for status, ref, name in applications if status == "submitted"],
        drafts=sum(1 for status, _, _ in applications if status == "draft"),
        outbox=Counter(kind for kind, _ in outbox),
        confirmations_per_application=Counter(
            app_id for kind, app_id in outbox if kind == "confirmation"
        ),
    )


def check_every_application_arrived_once(url: str, outcomes: list[Outcome]) -> Stored:
    """Every client finished with a reference; the database has exactly one application for each,
    with that reference, and one confirmation email queued for it; no response was a 5xx."""
    failures = [(o.applicant.number, repr(o.error)) for o in outcomes if o.error is not None]
    assert not failures, f"{len(failures)} clients failed, first: {failures[:5]}"
    server_errors = Counter(s for o in outcomes for s in o.applicant.statuses if s >= 500)
    assert not server_errors, f"5xx responses: {dict(server_errors)}"

    result = stored(url)
    count = len(outcomes)
    assert len(result.submitted) == count, f"{len(result.submitted)} applications for {count}"
    references = [reference for reference, _ in result.submitted]
    assert len(set(references)) == count, "references must be unique"
    by_reference = dict(result.submitted)
    for outcome in outcomes:
        applicant = outcome.applicant
        assert applicant.reference in by_reference, f"{applicant.number}: reference not stored"
        # The confirmation each client was shown belongs to its own application.
        assert by_reference[applicant.reference].endswith(f"{applicant.number:05d}")
    assert result.outbox["confirmation"] == count, result.outbox
    assert set(result.confirmations_per_application.values()) == {1}
    # The resume link is emailed once per application, when the contact page is first saved.
    assert result.outbox["resume-link"] == count, result.outbox
    return result


def check_no_personal_data_in_log(log: str) -> None:
    """The server's own log (gunicorn or werkzeug, and the app) holds no address, name or answer."""
    for personal in (
        "@example.org",
        "Load test carers",
        VALID["contact"]["contact_name"],
        VALID["contact"]["phone"],
        VALID["location"]["postcode"],
        VALID["location"]["postcode"].upper(),
        TEXT["difference"],
    ):
        assert personal not in log, f"personal data in the server log: {personal!r}"
