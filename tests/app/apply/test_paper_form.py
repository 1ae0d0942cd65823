"""The paper form is made from the same question data as the online form; the start page and the
paper form say how applications are judged and what taking part means, from the round's texts."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask

from app.applications import questions
from app.applications.eligibility import ELIGIBILITY
from app.applications.rubric import RUBRIC
from app.extensions import db
from app.models import Round
from tests.app.helpers import Client

ADDRESS = "Partner Select, Care Improvement Centre, PO Box 1234, Leeds, LS1 1AA"


def test_the_start_page_links_to_the_paper_form(client: Client, open_round: Round) -> None:
    start = client.get_page("/")
    link = start.select_one('a[href="/paper-form"]')
    assert link is not None and "paper form" in link.get_text(strip=True)


def test_every_question_is_on_the_paper_form_with_its_options_and_space(
    app: Flask, client: Client, open_round: Round
) -> None:
    app.config["CENTRE_POSTAL_ADDRESS"] = ADDRESS
    page = client.get_page("/paper-form")
    text = page.get_text(" ", strip=True)
    headings = [h.get_text(" ", strip=True) for h in page.select("h3, h4")]
    for eligibility in ELIGIBILITY:
        assert eligibility.question in headings
    ticks = [
        [li.get_text(" ", strip=True) for li in ul.select("li")]
        for ul in page.select("ul.paper-options")
    ]
    asked = [q for s in questions.SECTIONS for p in s.pages for q in p.questions]
    for question in asked:
        assert question.label in headings, question.id
        if question.hint:
            assert question.hint in text, question.id
    # The options to tick are the round's own, in order; the region page says when it applies.
    assert ["Mostly urban", "Mixed urban and rural", "Mostly rural", "Remote rural or island"] in (
        ticks
    )
    assert "Answer only if your organisation is based in England." in text
    # The four questions: word limit, lines to write on and what we look for.
    assert text.count("Up to 300 words.") == 4
    for criterion in RUBRIC:
        assert f"What we look for: {criterion.looks_for}" in text
    written = [q for q in asked if q.kind not in ("radios", "checkboxes")]
    lines = [len(block.select(".paper-line")) for block in page.select(".paper-lines")]
    assert len(lines) >= len(written)
    assert lines.count(30) == 4  # 300 words, about 10 to a handwritten line
    # Where to send it, and the box for the reference staff give it.
    assert ADDRESS in text
    office = page.select_one(".paper-office")
    assert office is not None and "Reference" in office.get_text()


def test_a_changed_question_and_word_limit_show_on_the_paper_form(
    client: Client, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = questions.SECTIONS[0]
    page = first.pages[0]
    renamed = dataclasses.replace(page.questions[0], label="What is your group called?")
    changed = dataclasses.replace(
        first, pages=(dataclasses.replace(page, questions=(renamed, *page.questions[1:])),)
    )
    monkeypatch.setattr(questions, "SECTIONS", (changed, *questions.SECTIONS[1:]))
    open_round.settings = {**open_round.settings, "word_limit": 450}
    db.session.commit()

    text = client.get_page("/paper-form").get_text(" ", strip=True)

    assert "What is your group called?" in text
    assert "Name of your organisation" not in text
    assert "Up to 450 words." in text and "Up to 300 words." not in text


def test_the_start_page_and_paper_form_say_how_sites_are_chosen(
    client: Client, open_round: Round
) -> None:
    open_round.sites_wanted = 9
    open_round.quotas = [
        {"dimension": "pressures", "category": "struggling", "min": 2, "max": None},
        {"dimension": "local_deprivation", "category": "most-deprived", "min": 3, "max": None},
    ]
    texts = dict(open_round.settings["texts"])
    texts["technology"] = "You never have to use a computer to take part."
    open_round.settings = {**open_round.settings, "texts": texts}
    db.session.commit()

    for url in ("/", "/paper-form"):
        text = client.get_page(url).get_text(" ", strip=True)
        assert "We will choose 9 sites." in text
        assert "combining the panel's scores with a mix of places and organisations" in text
        assert "services under pressure" in text
        assert "organisations whose people mostly live in the most deprived areas" in text
        assert "within 8 weeks of the closing date" in text
        assert "It can pay for backfill" in text
        assert "You do not need match funding" in text
        assert "If you join a local network" in text
        assert "You never have to use a computer to take part." in text
        assert "Taking part never requires" not in text  # the default, replaced


def test_no_round_means_no_paper_form(client: Client, app: Flask) -> None:
    client.get_page("/paper-form", status=404)
