"""Outcome letters as templates staff edit per round: the documented placeholders, the sandbox
that renders them, the round's own templates (else the defaults in app/rounds.py), and saving a
template only once it renders.

A letter template is Jinja, rendered in `ImmutableSandboxedEnvironment` with no globals and only
the placeholders in PLACEHOLDERS, all plain strings, numbers and lists of them: a template can
reach nothing of the server's (no config, no request, no Python objects), an unknown placeholder
is an error (StrictUndefined) and is refused when the template is saved.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from jinja2 import (
    StrictUndefined,
    TemplateAssertionError,
    TemplateError,
    TemplateSyntaxError,
    meta,
    nodes,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from sqlalchemy.orm import Session

from ...applications.rubric import RUBRIC
from ...audit import record
from ...errors import DomainError
from ...labels import score_in_words, score_scale
from ...models import Round, User
from ...rounds import DEFAULT_SETTINGS

LETTER_DECISIONS: tuple[str, ...] = (
    "selected",
    "reserve",
    "not_selected",
    "ineligible",
    "withdrawn",
)
SUBJECT_MAX, BODY_MAX = 200, 20_000
# A letter longer than this is a template gone wrong (a loop, a repeated string), not a letter.
RENDERED_MAX = 60_000

# Every placeholder a letter may use, with what it holds: the list shown to staff beside the
# template, and the only names a template is given.
PLACEHOLDERS: dict[str, str] = {
    "contact_name": "The name of the applicant's contact, for the greeting.",
    "organisation": "The applicant's organisation.",
    "reference": "The application's reference, like EOI-2027-ABC123.",
    "round_title": "The round's title.",
    "decision": "The decision in words, like “Not selected”.",
    "reserve_number": "The applicant's place on the reserve list (reserve letters only).",
    "reserve_until": "Until when the reserve list stays open (set on the Outcome letters page).",
    "next_steps_by": (
        "By when selected sites hear from you about next steps (set on the Outcome letters page)."
    ),
    "feedback": (
        "The panel's feedback, one item per criterion, each with item.title, item.score_words "
        "(like “strong”) and item.feedback (the panel's feedback for the applicant, a list of "
        "paragraphs, empty if none was written). Use it in a loop: "
        "{% for item in feedback %}…{% endfor %}."
    ),
    "score_scale": (
        "The words the panel's ratings use, best first: “excellent, strong, … or at an early "
        "stage”."
    ),
    "mix": (
        "How the balance of places and organisations affected the decision, in plain words "
        "(never about another applicant); empty when it did not."
    ),
    "screening_reason": "Why the application was not eligible, written for the applicant.",
    "change": (
        "When this letter replaces an earlier one: what changed, in a sentence; otherwise empty."
    ),
    "centre_name": "The centre's name.",
    "centre_contact_name": (
        "The name of the person applicants can contact (set on the Outcome letters page)."
    ),
    "centre_phone": "The centre's phone number.",
    "centre_email": "The centre's email address.",
    "network_route": "The round's text on what the network route offers.",
    "site_time": "The round's text on the time a site gives.",
    "funding_paid": "The round's text on when funding is paid.",
}

# The round's letter settings (shown with the templates), and their labels.
LETTER_SETTING_LABELS: dict[str, str] = {
    "centre_contact_name": "Name of the person applicants can contact",
    "next_steps_by": "When selected sites will hear from you",
    "reserve_until": "Until when the reserve list stays open",
}

# Only these filters: each works on the plain values above and builds nothing large.
_FILTERS = (
    "capitalize",
    "default",
    "first",
    "join",
    "last",
    "length",
    "lower",
    "replace",
    "title",
    "trim",
    "upper",
    "wordwrap",
)
_MAX_PRODUCT = 1_000  # the longest string or list `*` may make in a template


@dataclass(frozen=True)
class FeedbackItem:
    """One criterion's feedback as a letter template sees it: plain text, nothing to call."""

    title: str
    score_words: str
    feedback: tuple[str, ...]


class LetterTemplateError(DomainError):
    """A letter template that cannot be used, with what to change; `part` is where the mistake
    is ("subject" or "letter")."""

    def __init__(self, message: str, part: str = "letter") -> None:
        super().__init__(message)
        self.part = part


class _Sandbox(ImmutableSandboxedEnvironment):
    """No globals, a few filters, and `*`/`**` that cannot build a huge string or number."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            raise SecurityError("powers are not allowed in a letter")
        for value, times in ((left, right), (right, left)):
            if (
                isinstance(value, str | list | tuple)
                and isinstance(times, int)
                and len(value) * max(times, 0) > _MAX_PRODUCT
            ):
                raise SecurityError("a repeated piece of text is too long")
        return operator.mul(left, right)


def _environment() -> _Sandbox:
    env = _Sandbox(
        undefined=StrictUndefined,
        autoescape=False,  # plain-text letters: nothing is HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.globals.clear()  # no range, dict, lipsum, cycler, joiner, namespace
    env.filters = {name: env.filters[name] for name in _FILTERS}
    env.tests = {name: env.tests[name] for name in ("defined", "none", "number", "string")}
    return env


_ENV = _environment()


@dataclass(frozen=True)
class LetterTemplate:
    subject: str
    body: str

    def __post_init__(self) -> None:
        # A browser sends a text area's lines ending "\r\n": letters use "\n" throughout.
        object.__setattr__(self, "body", lines(self.body))
        object.__setattr__(self, "subject", lines(self.subject))


def lines(text: str) -> str:
    """Text with every line ending as "\n"."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def default_template(decision: str) -> LetterTemplate:
    """The default letter for a decision: templates/emails/outcome_<decision>.txt, its first
    line "Subject: ..." and the rest the letter."""
    if decision not in LETTER_DECISIONS:
        raise LookupError(decision)
    loader = current_app.jinja_loader
    assert loader is not None
    source = loader.get_source(current_app.jinja_env, f"emails/outcome_{decision}.txt")[0]
    first, _, body = source.partition("\n")
    return LetterTemplate(first.removeprefix("Subject:").strip(), body.lstrip("\n"))


def letter_template(round_: Round, decision: str) -> LetterTemplate:
    """The round's template for a decision's letter, else the default."""
    own = ((round_.settings or {}).get("letters") or {}).get(decision) or {}
    default = default_template(decision)
    return LetterTemplate(
        str(own.get("subject") or default.subject), str(own.get("body") or default.body)
    )


def letter_setting(round_: Round, key: str) -> str:
    own = (round_.settings or {}).get("letter_settings") or {}
    return str(own.get(key) or DEFAULT_SETTINGS["letter_settings"][key])


_LINE = re.compile(r"line (\d+)")
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES_AT_END = re.compile(r"[ \t]+\n")


# Names Jinja gives a template itself (the template, a macro's caller and arguments), and tags
# that reach other templates or define blocks: none has a use in a letter.
_OWN_NAMES = frozenset({"self", "caller", "varargs", "kwargs", "super"})
_REFUSED_TAGS = (
    nodes.Extends,
    nodes.Include,
    nodes.Import,
    nodes.FromImport,
    nodes.Block,
    nodes.Macro,
    nodes.CallBlock,
)


def _compile(source: str, part: str) -> Any:
    def mistake(line: int | None) -> str:
        where = f" on line {line}" if line else ""
        return (
            f"The {part} has a mistake in its placeholders{where}: check that every {{{{ is "
            "closed by }} and every {% if %} or {% for %} has its {% endif %} or {% endfor %}"
        )

    try:
        parsed = _ENV.parse(source)
        unknown = sorted(meta.find_undeclared_variables(parsed) - set(PLACEHOLDERS))
    except TemplateAssertionError as error:  # a filter or test letters do not have
        raise LetterTemplateError(
            f"The {part} uses something letters cannot use, on line {error.lineno}. Use only "
            "the placeholders listed on this page, as they are shown",
            part=part,
        ) from None
    except TemplateSyntaxError as error:
        raise LetterTemplateError(mistake(error.lineno), part) from None
    own = sorted({n.name for n in parsed.find_all(nodes.Name) if n.name in _OWN_NAMES})
    unknown = sorted({*unknown, *own})
    if unknown:
        names = ", ".join(f"“{name}”" for name in unknown)
        raise LetterTemplateError(
            f"The {part} uses {'placeholders' if len(unknown) > 1 else 'a placeholder'} that "
            f"{'do' if len(unknown) > 1 else 'does'} not exist: {names}. Use only the "
            "placeholders listed on this page",
            part=part,
        )
    refused = next(iter(parsed.find_all(_REFUSED_TAGS)), None)
    if refused is not None:
        raise LetterTemplateError(
            f"The {part} uses a tag letters cannot use, on line {refused.lineno}. Use "
            "{% if %} and {% for %} with the placeholders listed on this page",
            part=part,
        )
    try:
        return _ENV.from_string(parsed)
    except TemplateError:
        raise LetterTemplateError(mistake(None), part) from None


def _render(compiled: Any, context: Mapping[str, Any], part: str) -> str:
    try:
        text = str(compiled.render(**{k: context[k] for k in PLACEHOLDERS}))
    except SecurityError:
        raise LetterTemplateError(
            f"The {part} tries something a letter cannot do. Use only the placeholders listed "
            "on this page, as they are shown",
            part=part,
        ) from None
    except TemplateError as error:
        line = _LINE.search(str(error))
        where = f" (line {line.group(1)})" if line else ""
        raise LetterTemplateError(
            f"The {part} cannot be filled in{where}: use only the placeholders listed on this "
            "page, as they are shown",
            part=part,
        ) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, OverflowError):
        raise LetterTemplateError(
            f"The {part} cannot be filled in: check the placeholders and what is done with them",
            part=part,
        ) from None
    return text


def tidy(text: str) -> str:
    """The rendered text with no trailing spaces and at most one blank line in a row."""
    return _BLANK_LINES.sub("\n\n", _SPACES_AT_END.sub("\n", text)).strip() + "\n"


def render_letter(template: LetterTemplate, context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of a letter; LetterTemplateError says what is wrong with the template."""
    subject = _render(_compile(template.subject, "subject"), context, "subject")
    body = _render(_compile(template.body, "letter"), context, "letter")
    subject = " ".join(subject.split())
    if not subject:
        raise LetterTemplateError("The subject is empty once filled in: enter a subject", "subject")
    if len(subject) > SUBJECT_MAX or len(body) > RENDERED_MAX:
        raise LetterTemplateError("The letter is too long once filled in: shorten it")
    return subject, tidy(body)


def sample_contexts(round_: Round, decision: str) -> list[dict[str, Any]]:
    """Made-up values for every placeholder, in the shapes letters get them (with and without
    feedback, a change, a reserve number), to check that a template renders before it is
    saved."""
    # Every letter gets one item per criterion: with and without the panel's feedback.
    feedback = [
        FeedbackItem(c.title, "good", ("Clear and specific.",) if i % 2 == 0 else ())
        for i, c in enumerate(RUBRIC)
    ]
    unscored = [FeedbackItem(c.title, score_in_words(None), ()) for c in RUBRIC]
    base: dict[str, Any] = {
        "contact_name": "Sam Example",
        "organisation": "Example Community Group",
        "reference": "EOI-0000-EXAMPL",
        "round_title": round_.title,
        "decision": decision,
        "reserve_number": 1 if decision == "reserve" else None,
        "reserve_until": letter_setting(round_, "reserve_until"),
        "next_steps_by": letter_setting(round_, "next_steps_by"),
        "feedback": feedback,
        "score_scale": score_scale(),
        "mix": "We also needed a balance of places and organisations.",
        "screening_reason": "It did not meet the conditions of this call.",
        "change": "",
        "centre_name": "the centre",
        "centre_contact_name": letter_setting(round_, "centre_contact_name"),
        "centre_phone": "0000 000 0000",
        "centre_email": "centre@example.org",
        "network_route": "The network route.",
        "site_time": "The time a site gives.",
        "funding_paid": "When funding is paid.",
    }
    bare = {
        **base,
        "feedback": unscored,
        "mix": "",
        "screening_reason": "",
        "reserve_number": None,
    }
    changed = {**base, "change": "This letter replaces our earlier one."}
    return [base, bare, changed]


def check_letter_template(round_: Round, decision: str, template: LetterTemplate) -> None:
    """Refuse a template that is empty, too long, or does not render with every shape of the
    placeholders' values."""
    if decision not in LETTER_DECISIONS:
        raise LetterTemplateError("Choose a letter from the list")
    if not template.subject.strip():
        raise LetterTemplateError("Enter the subject", "subject")
    if not template.body.strip():
        raise LetterTemplateError("Enter the letter")
    if len(template.subject) > SUBJECT_MAX:
        raise LetterTemplateError(f"The subject must be {SUBJECT_MAX} characters or fewer")
    if len(template.body) > BODY_MAX:
        raise LetterTemplateError(f"The letter must be {BODY_MAX:,} characters or fewer")
    for context in sample_contexts(round_, decision):
        render_letter(template, context)


def save_letter_template(
    session: Session, round_: Round, decision: str, template: LetterTemplate, user: User | None
) -> None:
    """Store the round's template for a decision's letter, once it renders."""
    check_letter_template(round_, decision, template)
    stored = dict(round_.settings or {})
    letters = dict(stored.get("letters") or {})
    letters[decision] = {"subject": template.subject, "body": template.body}
    stored["letters"] = letters
    round_.settings = stored  # a new dict, so the JSON column sees the change
    record(session, user, "letters.template_saved", "round", round_.id, round_.id, letter=decision)
    session.flush()


def reset_letter_template(
    session: Session, round_: Round, decision: str, user: User | None
) -> None:
    """Go back to the default template for a decision's letter."""
    if decision not in LETTER_DECISIONS:
        raise LetterTemplateError("Choose a letter from the list")
    stored = dict(round_.settings or {})
    letters = dict(stored.get("letters") or {})
    letters.pop(decision, None)
    stored["letters"] = letters
    round_.settings = stored
    record(session, user, "letters.template_reset", "round", round_.id, round_.id, letter=decision)
    session.flush()


def save_letter_settings(
    session: Session, round_: Round, values: Mapping[str, str], user: User | None
) -> None:
    """Store the round's letter settings (the contact's name, the dates letters quote)."""
    for key in LETTER_SETTING_LABELS:
        if not str(values.get(key) or "").strip():
            raise LetterTemplateError(f"Enter {LETTER_SETTING_LABELS[key].lower()}")
    stored = dict(round_.settings or {})
    stored["letter_settings"] = {k: str(values[k]).strip() for k in LETTER_SETTING_LABELS}
    round_.settings = stored
    record(session, user, "letters.settings_saved", "round", round_.id, round_.id)
    session.flush()
