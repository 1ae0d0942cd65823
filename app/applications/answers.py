"""Answers and how they read: which pages are complete, each section's status on the task list,
the mix columns copied from the answers, and every answer as people see it (labels, not codes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import Round
from ..rounds import option_label
from .eligibility import ELIGIBILITY
from .questions import (
    SECTIONS,
    UNCHECKED,
    Answers,
    Page,
    Question,
    Section,
    applicable_pages,
)


def eligibility_complete(answers: dict[str, Any]) -> bool:
    return all(question.accepts(answers.get(question.id)) for question in ELIGIBILITY)


def page_complete(page: Page, answers: Answers) -> bool:
    saved = answers.get(page.id)
    if saved is None or saved.get(UNCHECKED):
        return False
    for question in page.questions:
        if question.needed(saved) and saved.get(question.id) in (None, "", []):
            return False
        if question.other_for:
            chosen = saved.get(question.other_for)
            chosen_other = "other" in chosen if isinstance(chosen, list) else chosen == "other"
            if chosen_other and not saved.get(question.id):
                return False
    return True


@dataclass(frozen=True)
class SectionStatus:
    section: Section
    status: str  # "not-started", "in-progress", "completed"
    first_page: Page

    @property
    def label(self) -> str:
        return {"not-started": "Not started", "in-progress": "In progress"}.get(
            self.status, "Completed"
        )


def section_statuses(answers: Answers) -> list[SectionStatus]:
    result = []
    for section in SECTIONS:
        pages = applicable_pages(section, answers)
        complete = [page_complete(page, answers) for page in pages]
        started = any(page.id in answers for page in section.pages)
        if all(complete):
            status = "completed"
        elif started:
            status = "in-progress"
        else:
            status = "not-started"
        first_incomplete = next(
            (page for page, done in zip(pages, complete, strict=True) if not done), pages[0]
        )
        result.append(SectionStatus(section, status, first_incomplete))
    return result


def missing_pages(answers: Answers) -> list[Page]:
    return [
        page
        for section in SECTIONS
        for page in applicable_pages(section, answers)
        if not page_complete(page, answers)
    ]


def region_of(answers: Answers) -> str | None:
    """The ITL1 region: the English region, or the nation itself outside England."""
    nation = answers.get("location", {}).get("nation")
    if nation == "england":
        region = answers.get("region", {}).get("region")
        return str(region) if region else None
    return str(nation) if nation else None


def mix_attributes(answers: Answers) -> dict[str, Any]:
    """The columns staff filter on and the engine balances on, copied from the answers."""
    return {
        "organisation_name": answers.get("organisation", {}).get("organisation_name"),
        "nation": answers.get("location", {}).get("nation"),
        "region": region_of(answers),
        "area_type": answers.get("location", {}).get("area_type"),
        "size_band": answers.get("leadership", {}).get("staff_band"),
        "led_by": answers.get("leadership", {}).get("led_by"),
        "first_time": answers.get("experience", {}).get("prior_participation") == "never",
        "pressures": answers.get("experience", {}).get("pressures") or None,
        "local_deprivation": answers.get("location", {}).get("local_deprivation") or None,
    }


@dataclass(frozen=True)
class AnswerRow:
    page_id: str
    question: Question
    value: str  # as shown to people: labels, not codes; "Not given" when empty


def _display(round_: Round, question: Question, value: Any) -> str:
    if value in (None, "", []):
        return "Not given"
    if question.kind == "radios" and question.options:
        return option_label(round_, question.options, str(value))
    if question.kind == "checkboxes" and question.options:
        return "\n".join(option_label(round_, question.options, str(v)) for v in value)
    return str(value)


def answer_rows(round_: Round, answers: Answers) -> list[tuple[Section, list[AnswerRow]]]:
    """Every answer, by section, in the order asked; 'other' answers follow their choice."""
    result = []
    for section in SECTIONS:
        rows = []
        for page in applicable_pages(section, answers):
            saved = answers.get(page.id, {})
            for question in page.questions:
                value = saved.get(question.id)
                if question.other_for and value in (None, ""):
                    continue
                rows.append(AnswerRow(page.id, question, _display(round_, question, value)))
        result.append((section, rows))
    return result
