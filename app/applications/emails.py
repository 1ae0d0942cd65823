"""Plain-text emails to applicants, from the templates in templates/emails/. Short sentences,
the reference first, no tracking. Rendered in a request or, for emails composed as they are
sent, in the send-mail worker's app context."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, render_template

from ..rounds import text

if TYPE_CHECKING:
    from ..models import Application, Round
    from .answers import AnswerRow
    from .questions import Section


def resume_link(application: Application, link: str) -> str:
    return render_template("emails/resume_link.txt", round=application.round, link=link)


def confirmation_summary(round_: Round, application: Application) -> str:
    """The confirmation for an address the applicant has not confirmed: no answers, no free
    text but the organisation's name."""
    config = current_app.config
    return render_template(
        "emails/confirmation_summary.txt",
        round=round_,
        application=application,
        next_steps=text(round_, "next_steps"),
        days=config["APPLY_SUBMITTED_COPY_DAYS"],
        phone=config["CENTRE_PHONE"],
        centre_email=config["CENTRE_EMAIL"],
    )


def confirmation(
    round_: Round, reference: str | None, rows: list[tuple[Section, list[AnswerRow]]]
) -> str:
    """The confirmation with a copy of the answers, by section, as check answers shows them."""
    return render_template(
        "emails/confirmation.txt",
        round=round_,
        reference=reference,
        next_steps=text(round_, "next_steps"),
        rows=rows,
    )
