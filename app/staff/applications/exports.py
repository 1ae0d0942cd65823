"""The "all applications" export: one row per application of a round with every answer, for
analysis. Read in batches, so the CSV can be streamed as it is built; the formula guard is
applied by the writers in `app.exports`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...applications.questions import SECTIONS, Question
from ...labels import (
    CHANNEL_LABELS,
    LANGUAGE_LABELS,
    MIX_LABELS,
    SCREENING_LABELS,
    SCREENING_REASONS,
    STATUS_LABELS,
)
from ...models import Application, Round
from ...rounds import london, option_label
from ..runs.engine_input import MIX_COLUMNS, category_label

if TYPE_CHECKING:  # pandas loads when a file is written, not as the app starts
    import pandas as pd

BATCH = 200
BASE_HEADERS: tuple[str, ...] = (
    "Reference",
    "Organisation",
    "Status",
    "Channel",
    "Sent at (UK time)",
    "Screening",
    "Screening reason",
    "Language",
)
# Joins the choices of a multiple-choice answer in one cell.
JOIN = "; "


def export_questions() -> list[tuple[str, Question]]:
    """(page id, question) for every question of the application, in the order asked."""
    return [
        (page.id, question)
        for section in SECTIONS
        for page in section.pages
        for question in page.questions
    ]


def export_headers() -> list[str]:
    """Column headers: the application's facts, its mix, then each question as it is asked."""
    return [
        *BASE_HEADERS,
        *(MIX_LABELS[column] for column in MIX_COLUMNS),
        *(question.label for _page, question in export_questions()),
    ]


def answer_cell(round_: Round, question: Question, value: Any) -> str:
    """An answer as people read it: option labels, several choices joined, empty when not given."""
    if value in (None, "", []):
        return ""
    if question.options and question.kind == "checkboxes" and isinstance(value, list):
        return JOIN.join(option_label(round_, question.options, str(v)) for v in value)
    if question.options and question.kind == "radios":
        return option_label(round_, question.options, str(value))
    return str(value)


def _mix_cell(round_: Round, application: Application, column: str) -> str:
    value = getattr(application, column)
    if value is None:
        return ""
    if column == "first_time":
        value = "yes" if value else "no"
    return category_label(round_, column, str(value))


def application_row(round_: Round, application: Application) -> list[str]:
    answers = application.answers
    screened = application.status == "submitted" or application.screening != "unscreened"
    row = [
        application.reference or f"Draft {application.id}",
        application.organisation_name
        or str(answers.get("organisation", {}).get("organisation_name") or ""),
        STATUS_LABELS.get(application.status, application.status),
        CHANNEL_LABELS.get(application.channel, application.channel),
        f"{london(application.submitted_at):%Y-%m-%d %H:%M}" if application.submitted_at else "",
        SCREENING_LABELS.get(application.screening, application.screening) if screened else "",
        SCREENING_REASONS.get(
            application.screening_reason or "", application.screening_reason or ""
        ),
        LANGUAGE_LABELS.get(application.language, application.language),
        *(_mix_cell(round_, application, column) for column in MIX_COLUMNS),
    ]
    for page_id, question in export_questions():
        row.append(answer_cell(round_, question, answers.get(page_id, {}).get(question.id)))
    return row


def export_frames(
    session: Session, round_: Round, batch: int | None = None
) -> Iterator[pd.DataFrame]:
    """The round's applications (drafts too), oldest first, ``batch`` (default BATCH) rows per
    frame; at least one frame, so the header is always there."""
    import pandas as pd

    batch = batch or BATCH
    headers = export_headers()
    ids = list(
        session.scalars(
            select(Application.id).where(Application.round_id == round_.id).order_by(Application.id)
        )
    )
    if not ids:
        yield pd.DataFrame([], columns=headers)
        return
    for start in range(0, len(ids), batch):
        applications = list(
            session.scalars(
                select(Application)
                .where(Application.id.in_(ids[start : start + batch]))
                .options(selectinload(Application.pages))
                .order_by(Application.id)
            )
        )
        rows = [application_row(round_, application) for application in applications]
        for application in applications:  # keep memory flat however many there are
            session.expunge(application)
        yield pd.DataFrame(rows, columns=headers, dtype=object)


def export_frame(session: Session, round_: Round) -> pd.DataFrame:
    """Every row at once, for the XLSX file (a workbook cannot be streamed)."""
    import pandas as pd

    return pd.concat(list(export_frames(session, round_)), ignore_index=True)
