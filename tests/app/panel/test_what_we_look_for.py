"""What applicants are told we look for and what reviewers score against come from one place:
each rubric criterion's `looks_for`, shown beside the question and on the review form."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.applications.rubric import RUBRIC
from tests.app.apply.journey import fill_pages, pass_eligibility
from tests.app.helpers import Client
from tests.app.panel.conftest import assign_to

TEMPLATES = Path(__file__).parents[3] / "templates"


def test_the_applicant_and_the_reviewer_read_the_same_words(
    app: Flask, round_, eligible, reviewer, client_for
) -> None:
    application = eligible(name="Valley Carers")
    member = reviewer()
    assign_to(application, member)
    review_page = client_for(member).get_page(f"/panel/applications/{application.id}/review")
    applicant = Client(app.test_client())
    pass_eligibility(applicant)
    fill_pages(applicant, ["organisation"])  # the draft starts with its first page

    for criterion in RUBRIC:
        question_page = applicant.get_page(f"/application/{criterion.id}")
        textarea = question_page.select_one(f"textarea#{criterion.id}")
        hint = question_page.select_one(f"#{textarea['aria-describedby'].split()[0]}")
        # Beside the question (the textarea's own description), in plain words ...
        assert f"What we look for: {criterion.looks_for}" in hint.get_text(" ", strip=True)
        # ... and the reviewer sees the very same words above the scores for that criterion.
        assert criterion.looks_for in review_page.get_text(" ", strip=True)
    # Written once: no template carries its own copy of the words.
    for template in TEMPLATES.rglob("*.html"):
        for criterion in RUBRIC:
            assert criterion.looks_for[:40] not in template.read_text(encoding="utf-8"), template
