"""Letter templates are rendered in a sandbox with only the documented placeholders: the usual
template-injection payloads reach nothing of the server's and give a clear message instead."""

from __future__ import annotations

import pytest
from flask import Flask

from app.labels import score_in_words
from app.models import Round
from app.staff.rounds.letters import (
    LETTER_DECISIONS,
    PLACEHOLDERS,
    LetterTemplate,
    LetterTemplateError,
    check_letter_template,
    default_template,
    render_letter,
    sample_contexts,
)

PAYLOADS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ organisation.__class__.__base__.__subclasses__() }}",
    "{{ organisation.__init__.__globals__ }}",
    "{{ config }}",
    "{{ config.items() }}",
    "{{ self }}",
    "{{ self._TemplateReference__context }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ range(10) }}",
    "{{ request }}",
    "{{ request.application.__globals__ }}",
    "{{ url_for.__globals__ }}",
    "{{ get_flashed_messages.__globals__ }}",
    "{{ g }}",
    "{{ session }}",
    "{{ feedback.__class__ }}",
    "{{ feedback[0].__dataclass_fields__ }}",
    "{{ organisation|attr('__class__') }}",
    "{{ '{0.__class__}'.format(organisation) }}",
    "{{ organisation.format_map({}) ~ '{0.__class__}'.format_map(organisation) }}",
    "{% set x = feedback.append(1) %}",
    "{{ feedback.pop() }}",
    "{{ 'a' * 1000000 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{% include 'base.html' %}",
    "{% extends 'base.html' %}",
    "{% import 'components/forms.html' as f %}",
    "{% macro m() %}{% endmacro %}",
    "{{ caller }}",
    "{{ loop }}",
]


@pytest.fixture
def round_(app: Flask) -> Round:
    return Round(title="Partner sites 2027", settings={})


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_gets_a_clear_message_and_nothing_of_the_servers(
    round_: Round, app: Flask, payload: str
) -> None:
    template = LetterTemplate("Subject", f"Dear {{{{ contact_name }}}},\n\n{payload}\n")
    with pytest.raises(LetterTemplateError) as raised:
        render_letter(template, sample_contexts(round_, "not_selected")[0])
    message = str(raised.value)
    assert message.startswith("The letter ")
    assert "Traceback" not in message and "object at 0x" not in message
    with pytest.raises(LetterTemplateError):  # and it cannot be saved
        check_letter_template(round_, "not_selected", template)
    # Nor in the subject.
    with pytest.raises(LetterTemplateError) as raised:
        render_letter(LetterTemplate(payload, "Hello"), sample_contexts(round_, "reserve")[0])
    assert raised.value.part == "subject"


def test_what_a_letter_is_given_is_plain_values_only(round_: Round, app: Flask) -> None:
    for context in sample_contexts(round_, "reserve"):
        assert set(context) == set(PLACEHOLDERS)
        for value in context.values():
            assert value is None or isinstance(value, str | int | list)
    secret = app.config["SECRET_KEY"]
    for decision in LETTER_DECISIONS:
        _subject, body = render_letter(
            default_template(decision), sample_contexts(round_, decision)[0]
        )
        assert str(secret) not in body


@pytest.mark.parametrize("decision", LETTER_DECISIONS)
def test_every_default_letter_renders_with_every_shape_of_the_placeholders(
    round_: Round, app: Flask, decision: str
) -> None:
    check_letter_template(round_, decision, default_template(decision))


@pytest.mark.parametrize(
    ("score", "words"),
    [
        (5, "excellent"),
        (4.5, "excellent"),
        (4.25, "strong"),
        (3.5, "good"),
        (3, "good"),
        (2.5, "developing"),
        (1.5, "at an early stage"),
        (None, "not scored"),
    ],
)
def test_scores_in_words(score: float | None, words: str) -> None:
    assert score_in_words(score) == words


def test_placeholders_used_by_the_defaults_are_all_documented(app: Flask) -> None:
    from jinja2 import Environment, meta

    for decision in LETTER_DECISIONS:
        template = default_template(decision)
        for source in (template.subject, template.body):
            used = meta.find_undeclared_variables(Environment().parse(source))
            assert used <= set(PLACEHOLDERS), used - set(PLACEHOLDERS)


def test_a_template_typed_in_a_browser_gives_plain_line_endings(round_: Round, app: Flask) -> None:
    typed = LetterTemplate("Hello\r\n", "Dear {{ contact_name }},\r\n\r\nThank you.\r\n")
    _subject, body = render_letter(typed, sample_contexts(round_, "selected")[0])
    assert "\r" not in body and body == "Dear Sam Example,\n\nThank you.\n"
