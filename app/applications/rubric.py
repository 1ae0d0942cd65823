"""The review rubric as data: the four criteria, and what each score from 1 to 5 means.

`RUBRIC` holds the defaults; each round may change the words (what we look for, and each score's
descriptor) in its settings until its first review is submitted, and `rubric(round_)` gives the
round's own. The form, the review page and the staff pages all read these, so a reviewer and
staff see the same words; the applicant's question page and the paper form read each criterion's
`looks_for`, so what applicants are told we look for is what reviewers score against. Criterion
ids are the selection engine's (`selection.CRITERIA`) and the ids of the four questions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from selection import CRITERIA

if TYPE_CHECKING:
    from ..models import Round

SCORES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Level:
    score: int
    name: str
    descriptor: str


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str  # "Makes a real difference"
    question: str  # what the reviewer weighs
    looks_for: str  # what we look for, in plain words for applicants (shown beside the question)
    levels: tuple[Level, ...]  # one per score, 1 to 5


def _levels(*descriptors: str) -> tuple[Level, ...]:
    names = ("Weak", "Limited", "Adequate", "Good", "Excellent")
    assert len(descriptors) == len(SCORES)
    return tuple(Level(s, n, d) for s, n, d in zip(SCORES, names, descriptors, strict=True))


RUBRIC: tuple[Criterion, ...] = (
    Criterion(
        "difference",
        "Makes a real difference",
        "How much would hosting a project change things for the people who draw on care and "
        "support, and for carers?",
        "A clear difference for people who draw on care and support, or for carers: who they "
        "are, what would change for them and how. The strongest answers are shaped with those "
        "people and would last beyond the project.",
        _levels(
            "No clear benefit to people who draw on care or carers is described.",
            "A benefit is mentioned but it is vague, small or mostly for the organisation itself.",
            "A plausible benefit for a defined group, though how it would happen is not clear.",
            "A clear, specific benefit for a defined group, with a believable way to achieve it.",
            "A clear and substantial benefit, shaped with the people affected, likely to last "
            "beyond the project.",
        ),
    ),
    Criterion(
        "inequalities",
        "Tackles inequalities",
        "Does it reach people who are less well served by care and support now?",
        "Which people are less well served by care and support now, why, and how the work would "
        "reach and involve them. The strongest answers are led by or built with those people.",
        _levels(
            "Inequalities are not considered.",
            "Inequalities are named in general terms, with no link to the people it would reach.",
            "A group facing inequality is identified, but how it would be reached is unclear.",
            "A group facing inequality is identified, with a credible way to reach and involve "
            "them.",
            "Led by or built with people facing inequality, with a specific, credible approach "
            "that addresses why they are less well served now.",
        ),
    ),
    Criterion(
        "resources",
        "Makes good use of scarce resources",
        "What would the work achieve for what it costs, in proportion to the organisation's size?",
        "What the work would achieve for the time and money it needs, in proportion to the size "
        "of your organisation. A small group doing a lot with a little scores as well as a large "
        "one. You do not need match funding or money of your own.",
        _levels(
            "No account of what the work would achieve for what it costs.",
            "What the work would achieve looks small for what it costs, or the plan for the time "
            "and money is unclear.",
            "A fair return for what it costs, for an organisation of its size, with some gaps "
            "or risks not addressed.",
            "A good return for what it costs, in proportion to the organisation's size, with the "
            "main risks considered.",
            "An excellent return for what it costs, in proportion to the organisation's size, "
            "building on what it already has (people, partners, spaces) so the benefit lasts. "
            "Match funding is never expected.",
        ),
    ),
    Criterion(
        "evidence",
        "Has enough evidence",
        "Is there evidence the work is needed and can be done: of need, lived experience, "
        "learning from others or past delivery?",
        "Why the work is needed and why you think it would work. This can be what people who "
        "draw on care or carers have told you, your own lived experience, what you have learned "
        "from others, or similar work you have done. It does not need to be formal research, "
        "and you do not need to have done this kind of work before.",
        _levels(
            "No evidence that the work is needed or could be done.",
            "Assertions only: little to show why the work is needed or why it would work.",
            "Some evidence, of one kind: of need, lived experience, learning from others or "
            "past delivery.",
            "Good evidence of need and a sound reason to think it would succeed, from lived "
            "experience, learning from others or past delivery (any of these counts).",
            "Strong, specific evidence of need, such as what people who draw on care said, and "
            "a clear reason to think it would succeed, from lived experience, learning from "
            "others or past delivery.",
        ),
    ),
)

BY_ID: dict[str, Criterion] = {criterion.id: criterion for criterion in RUBRIC}


def rubric(round_: Round | None) -> tuple[Criterion, ...]:
    """The round's rubric: the defaults, with the words staff changed for this round."""
    stored: dict[str, Any] = ((round_.settings or {}) if round_ is not None else {}).get(
        "rubric"
    ) or {}
    criteria = []
    for criterion in RUBRIC:
        own = stored.get(criterion.id) or {}
        levels = own.get("levels") or []
        criteria.append(
            replace(
                criterion,
                looks_for=str(own.get("looks_for") or criterion.looks_for),
                levels=tuple(
                    replace(
                        level,
                        descriptor=str(levels[i])
                        if i < len(levels) and levels[i]
                        else level.descriptor,
                    )
                    for i, level in enumerate(criterion.levels)
                ),
            )
        )
    return tuple(criteria)


def rubric_settings(criteria: tuple[Criterion, ...]) -> dict[str, Any]:
    """The rubric's words as they are stored in a round's settings."""
    return {
        c.id: {"looks_for": c.looks_for, "levels": [level.descriptor for level in c.levels]}
        for c in criteria
    }


def looks_for(round_: Round | None, question_id: str) -> str | None:
    """What we look for in the answer to a question, for applicants; None if it is not scored."""
    criterion = {c.id: c for c in rubric(round_)}.get(question_id)
    return criterion.looks_for if criterion is not None else None


# The rubric must cover exactly the engine's criteria, in the engine's order.
assert tuple(BY_ID) == tuple(CRITERIA), "the rubric's criteria must match selection.CRITERIA"
