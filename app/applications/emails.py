"""Plain-text emails to applicants. Short sentences, the reference first, no tracking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

from ..rounds import format_london, text

if TYPE_CHECKING:
    from ..models import Application, Round
    from .answers import AnswerRow
    from .questions import Section


def resume_link(application: Application, link: str) -> str:
    round_ = application.round
    return (
        f"You have started an expression of interest for {round_.title}.\n\n"
        "To come back to it, use this private link:\n\n"
        f"{link}\n\n"
        "Anyone with this link can see and change your answers, so do not share it.\n\n"
        "Open the link and select Continue to confirm that this is your email address. If it "
        "is also the contact email in your answers, we will email you a copy of your answers "
        "when you send them.\n\n"
        f"We will keep your draft until the call closes at {format_london(round_.closes_at)}.\n"
    )


def confirmation_summary(round_: Round, application: Application) -> str:
    """The confirmation for an address the applicant has not confirmed: no answers, no free
    text but the organisation's name."""
    config = current_app.config
    days = config["APPLY_SUBMITTED_COPY_DAYS"]
    return "\n".join(
        [
            f"We have received the expression of interest from {application.organisation_name} "
            f"for {round_.title}.",
            "",
            f"Your reference is {application.reference}",
            "",
            "What happens next",
            text(round_, "next_steps"),
            "",
            "How to get a copy of your answers",
            "We have not included your answers in this email, because this address has not "
            "been confirmed as yours.",
            f"For {days} days after sending, you can see your answers by opening your private "
            "link, the one you used to fill in the form.",
            f"You can also call {config['CENTRE_PHONE']} or email {config['CENTRE_EMAIL']} and "
            "give your reference: we will send you a copy.",
            "",
            "If you did not send this expression of interest, you can ignore this email.",
        ]
    )


def confirmation(
    round_: Round, reference: str | None, rows: list[tuple[Section, list[AnswerRow]]]
) -> str:
    lines = [
        f"We have received your expression of interest for {round_.title}.",
        "",
        f"Your reference is {reference}",
        "",
        "What happens next",
        text(round_, "next_steps"),
        "",
        "A copy of your answers",
        "",
    ]
    for section, answer_rows in rows:
        lines.append(section.title.upper())
        for row in answer_rows:
            lines.append(f"{row.question.label}")
            lines.extend(f"  {part}" for part in row.value.splitlines() or [""])
        lines.append("")
    return "\n".join(lines)
