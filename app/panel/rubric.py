"""The review rubric as data: the four criteria, and what each score from 1 to 5 means.

The form, the review page and the staff pages all read these, so a reviewer and staff see the same
words; the applicant's question page and the paper form read each criterion's `looks_for`, so what
applicants are told we look for is what reviewers score against. Criterion ids are the selection
engine's (`selection.CRITERIA`) and the ids of the four questions.
"""

from __future__ import annotations

from dataclasses import dataclass

from selection import CRITERIA

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
        "Are the time, people and money it would commit proportionate and realistic?",
        "A realistic picture of the time, people and money you could give, in proportion to what "
        "would change. The strongest answers build on what you already have, such as partners, "
        "volunteers or spaces, and say how the work would carry on.",
        _levels(
            "No realistic account of the resources it would commit.",
            "Resources are described but look unrealistic or out of proportion to the benefit.",
            "Resources look realistic, with some gaps or risks not addressed.",
            "Realistic, proportionate resources, with the main risks considered.",
            "Realistic, proportionate resources that build on what already exists (partners, "
            "volunteers, spaces) and would be sustained after the project.",
        ),
    ),
    Criterion(
        "evidence",
        "Has enough evidence",
        "Is there evidence of need, and of the organisation's ability to deliver?",
        "Why the work is needed and what shows you can do it, such as what people who draw on "
        "care have told you or similar work you have done. It does not need to be formal "
        "research.",
        _levels(
            "No evidence of need or of ability to deliver.",
            "Assertions only: little evidence of need or of past delivery.",
            "Some evidence of need or of past delivery, but not both.",
            "Good evidence of need and of past delivery of similar work.",
            "Strong, specific evidence of need and of past delivery, including what people who "
            "draw on care said or what changed as a result.",
        ),
    ),
)

BY_ID: dict[str, Criterion] = {criterion.id: criterion for criterion in RUBRIC}


def looks_for(question_id: str) -> str | None:
    """What we look for in the answer to a question, for applicants; None if it is not scored."""
    criterion = BY_ID.get(question_id)
    return criterion.looks_for if criterion is not None else None


# The rubric must cover exactly the engine's criteria, in the engine's order.
assert tuple(BY_ID) == tuple(CRITERIA), "the rubric's criteria must match selection.CRITERIA"
