"""Valid answers for every page and a helper that walks the whole journey."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.applications.services import save_page, start_application
from app.extensions import db
from app.models import Application, OutboxMessage, Round
from tests.app.helpers import Client, deliver_emails

ELIGIBILITY_IDS = ["uk_based", "adult_social_care", "co_production", "share_learning"]

TEXT = {
    "difference": "People who care for a family member in the valleys would get respite support.",
    "inequalities": "Carers on low incomes and Welsh speakers are less likely to get support.",
    "resources": "Two coordinators for one day a week and a room in our community hub.",
    "evidence": "We ran a peer support pilot with 40 carers last year and wrote it up.",
}

VALID: dict[str, dict[str, Any]] = {
    "organisation": {
        "organisation_name": "Cwm Taf Carers' Network – Rhwydwaith Gofalwyr",
        "organisation_type": ["community-voluntary", "social-enterprise"],
        "registered_number": "1234567",
    },
    "leadership": {"led_by": "carer-led", "staff_band": "1-9", "income_band": "10k-100k"},
    "location": {"nation": "wales", "postcode": "cf37 1aa", "area_type": "rural"},
    "topics": {"topics": ["carers", "prevention"], "work_mode": "embedded"},
    "experience": {"prior_participation": "never", "pressures": "stretched"},
    "difference": {"difference": TEXT["difference"]},
    "inequalities": {"inequalities": TEXT["inequalities"]},
    "resources": {"resources": TEXT["resources"]},
    "evidence": {"evidence": TEXT["evidence"]},
    "contact": {
        "contact_name": "Siân O'Brien-Llewellyn",
        "contact_role": "Coordinator",
        "email": "sian.obrien@example.org",
        "phone": "01632 960 001",
        "preferred_contact": "email",
        "adjustments": "",
    },
}
PAGE_ORDER = list(VALID)


def pass_eligibility(client: Client) -> None:
    for question_id in ELIGIBILITY_IDS:
        client.submit(f"/eligibility/{question_id}", {"answer": "yes"})


def fill_pages(client: Client, pages: list[str] | None = None, **overrides: dict[str, Any]) -> None:
    for page_id in pages or PAGE_ORDER:
        data = {**VALID[page_id], **overrides.get(page_id, {})}
        client.submit(f"/application/{page_id}", data)


def complete_application(client: Client) -> None:
    pass_eligibility(client)
    fill_pages(client)


def confirm_contact_email(client: Client) -> None:
    """Open the resume link emailed to the contact address and continue, as the applicant does:
    the confirmation then carries a copy of the answers."""
    body = db.session.scalars(
        select(OutboxMessage.body).filter_by(
            kind="resume-link", to_address=VALID["contact"]["email"]
        )
    ).first()
    assert body is not None, "no resume link was emailed to the contact address"
    match = re.search(r"https?://[^/\s]+(/resume/\S+)", body)
    assert match is not None
    client.submit(match.group(1))


def send(client: Client) -> str:
    """Send the application; returns the confirmation page's URL."""
    response = client.submit(
        "/application/check-answers", {"confirm_correct": "yes", "confirm_privacy": "yes"}
    )
    return str(response.headers["Location"])


def answered_draft(round_: Round, now: datetime) -> tuple[Application, str]:
    """A draft with every page answered (VALID), made with the services, not yet committed;
    returned with its private token."""
    draft, token = start_application(db.session, round_, {"uk_based": "yes"}, now)
    for page_id, values in VALID.items():
        save_page(db.session, draft, page_id, values, now)
    return draft, token


def sent_confirmations() -> list[str]:
    """Send every due email as `flask send-mail` does (the confirmation is composed then), to a
    transport that keeps them; returns the confirmations' plain-text bodies, oldest first."""
    return [
        str(message.get_content())
        for message in deliver_emails()
        if str(message["Subject"]).startswith("Expression of interest received: ")
    ]
