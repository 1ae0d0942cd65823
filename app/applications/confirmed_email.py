"""Which email address is the applicant's, and how many emails an address gets.

The service must not mail what someone typed to any address they typed. The resume link emailed
to an address carries a signed proof of that address; opening it and selecting Continue (a POST:
mail scanners that fetch links do not confirm anything) records the address as the applicant's.
The confirmation email's copy of the answers goes only to a confirmed address; any other gets a
summary without free text. Emails of the resume link are limited per address as well as per IP.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import DomainError
from ..models import Application, OutboxMessage

SALT = "resume-link-address"


class TooManyEmails(DomainError):
    """This address has had as many emails from the service as it may in a day."""

    def __init__(self) -> None:
        super().__init__(
            "We have sent as many emails to this address as we can today. Check its inbox "
            "and spam folder for your link, or try again tomorrow"
        )


def address_hash(address: str) -> str:
    """The address as compared and stored: SHA-256 of it trimmed and case-folded."""
    return hashlib.sha256(address.strip().casefold().encode("utf-8")).hexdigest()


def address_proof(secret_key: str, application_id: int, address: str) -> str:
    """The part of an emailed resume link that says which address it was sent to."""
    return URLSafeSerializer(secret_key, salt=SALT).dumps([application_id, address_hash(address)])


def proven_address(secret_key: str, application_id: int, proof: str) -> str | None:
    """The address hash a link's proof was signed with, if it is genuine and this application's."""
    try:
        signed_for, hashed = URLSafeSerializer(secret_key, salt=SALT).loads(proof)
    except (BadSignature, ValueError, TypeError):
        return None
    if signed_for != application_id or not isinstance(hashed, str):
        return None
    return hashed


def confirm_address(session: Session, application: Application, hashed: str) -> None:
    """Record the address (by its hash) as the applicant's."""
    application.confirmed_email_hash = hashed
    session.flush()


def is_confirmed(application: Application, address: str | None) -> bool:
    return bool(address) and application.confirmed_email_hash == address_hash(str(address))


def check_address_limit(session: Session, address: str, now: datetime, per_day: int) -> None:
    """Raise TooManyEmails if the service has queued `per_day` emails to this address (of any
    kind) in the last 24 hours."""
    sent = session.scalar(
        select(func.count(OutboxMessage.id)).where(
            func.lower(OutboxMessage.to_address) == address.strip().lower(),
            OutboxMessage.created_at > now - timedelta(days=1),
        )
    )
    if (sent or 0) >= per_day:
        raise TooManyEmails()
