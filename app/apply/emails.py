"""Plain-text emails to applicants. Short sentences, the reference first, no tracking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..rounds import format_london, text

if TYPE_CHECKING:
    from ..apply.questions import Section
    from ..models import Application, Round
    from .services import AnswerRow


def resume_link(application: Application, link: str) -> str:
    round_ = application.round
    return (
        f"You have started an expression of interest for {round_.title}.\n\n"
        "To come back to it, use this private link:\n\n"
        f"{link}\n\n"
        "Anyone with this link can see and change your answers, so do not share it.\n\n"
        f"We will keep your draft until the call closes at {format_london(round_.closes_at)}.\n"
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
