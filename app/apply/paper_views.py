"""The paper form: the same questions as the online form, printed to fill in by hand and post.

Built from the question data (`app.applications.questions`) and the round's settings, so it can
never ask something different from the online form; staff keying it in follow the same order.
"""

from __future__ import annotations

from flask import abort, render_template

from ..applications import questions
from ..applications.eligibility import ELIGIBILITY
from ..applications.rubric import looks_for
from ..extensions import db
from ..models import utcnow
from ..rounds import current_round, format_london, mix_in_words, options, text, word_limit
from . import bp

# About ten handwritten words fit on a line of an A4 page.
WORDS_PER_LINE = 10


@bp.get("/paper-form")
def paper_form() -> str:
    round_ = current_round(db.session, utcnow())
    if round_ is None:
        abort(404)
    limit = word_limit(round_)

    def lines(question: questions.Question) -> int:
        """How many lines to leave for a handwritten answer."""
        if question.word_limit:
            return max(3, limit // WORDS_PER_LINE)
        return 4 if question.kind == "textarea" else 1

    return render_template(
        "apply/paper_form.html",
        round=round_,
        sections=questions.SECTIONS,
        eligibility=ELIGIBILITY,
        choices=lambda question: options(round_, question.options) if question.options else [],
        lines=lines,
        looks_for=lambda question_id: looks_for(round_, question_id),
        word_limit=limit,
        closes=format_london(round_.closes_at),
        text=lambda key: text(round_, key),
        mix=mix_in_words(round_),
    )
