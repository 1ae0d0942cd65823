"""How the service writes to an applicant: by email through the outbox, or by a letter in the
print queue for an applicant with no email address or who prefers post.

Everything the service sends an applicant (the confirmation, outcomes, reminders) goes through
`queue_for_applicant`, so the choice between email and post is made in one place. Like the
outbox, it adds to the caller's session and never commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy.orm import Session

from ..models import Application, Letter, utcnow
from ..outbox import queue_email

Channel = Literal["email", "post"]


def _contact(application: Application) -> Mapping[str, Any]:
    return application.answers.get("contact", {})


def channel_for(application: Application) -> Channel:
    """'post' for an applicant who prefers post or gave no email address, else 'email'."""
    contact = _contact(application)
    if contact.get("preferred_contact") == "post" or not contact.get("email"):
        return "post"
    return "email"


def postal_address(application: Application) -> list[str]:
    """The address block as printed on a letter: the contact's organisation, then the lines of
    the postal address they gave (empty lines left out). The contact's name goes above it."""
    contact = _contact(application)
    organisation = application.answers.get("organisation", {}).get("organisation_name")
    lines = [
        organisation,
        contact.get("address_line_1"),
        contact.get("address_line_2"),
        contact.get("address_town"),
        contact.get("address_postcode"),
    ]
    return [str(line).strip() for line in lines if line and str(line).strip()]


def can_post(application: Application) -> bool:
    """Whether the applicant gave enough of a postal address to post a letter to."""
    contact = _contact(application)
    return bool(
        str(contact.get("address_line_1") or "").strip()
        and str(contact.get("address_postcode") or "").strip()
    )


def queue_for_applicant(
    session: Session, application: Application, *, kind: str, subject: str, body: str
) -> Channel:
    """Send `subject` and `body` (plain text) to the applicant the way they can receive it, in
    the caller's transaction; returns the channel used.

    - 'email': queued in the outbox (`outbox.queue_email`) to the contact's email address. An
      empty body is composed as the email is sent, by the function registered for `kind`
      (`outbox.composes`).
    - 'post': a `Letter` in the staff print queue, addressed to the contact's postal address;
      the outbox never sees it. A letter is printed as queued, so its body must be given.

    `kind` names what it is ("confirmation", "outcome", "reminder"): the print queue shows it.
    """
    if channel_for(application) == "email":
        queue_email(
            session,
            kind=kind,
            to_address=str(_contact(application).get("email")),
            subject=subject,
            body=body,
            application_id=application.id,
        )
        return "email"
    if not body:
        raise ValueError(f"a {kind} letter needs its body: letters are printed as queued")
    session.add(
        Letter(
            kind=kind,
            application_id=application.id,
            to_name=str(_contact(application).get("contact_name") or ""),
            address="\n".join(postal_address(application)),
            subject=subject,
            body=body,
            queued_at=utcnow(),
        )
    )
    session.flush()
    return "post"
