"""A small scored pool for selection-run tests: ten sent applications in three nations, each
with two submitted reviews, and a round asking for five sites under nation quotas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from app.models import Application, Review, ReviewScore, Round, User
from tests.app.factories import make_round, submitted_application

CRITERIA = ("difference", "inequalities", "resources", "evidence")

# (organisation, nation, area type, the two reviews' scores per criterion in CRITERIA order).
# Wales scores best, so with no quotas the top five would be four Welsh sites.
POOL: list[tuple[str, str, str, list[list[int]]]] = [
    ("Wales One", "wales", "rural", [[5, 5, 5, 5], [5, 5, 5, 4]]),
    ("Wales Two", "wales", "urban", [[5, 5, 4, 5], [5, 4, 5, 5]]),
    ("Wales Three", "wales", "rural", [[5, 4, 4, 5], [4, 5, 5, 4]]),
    ("Wales Four", "wales", "mixed", [[4, 4, 5, 4], [5, 4, 4, 4]]),
    ("Scotland One", "scotland", "remote", [[4, 4, 4, 4], [4, 3, 4, 4]]),
    ("Scotland Two", "scotland", "rural", [[3, 4, 3, 4], [4, 3, 3, 3]]),
    ("Scotland Three", "scotland", "urban", [[2, 3, 2, 3], [3, 2, 3, 2]]),
    ("England One", "england", "urban", [[4, 5, 4, 4], [4, 4, 4, 5]]),
    ("England Two", "england", "mixed", [[3, 3, 4, 3], [3, 4, 3, 3]]),
    ("England Three", "england", "rural", [[2, 2, 2, 3], [2, 3, 2, 2]]),
]
SITES = 5
QUOTAS = [
    {"dimension": "nation", "category": "scotland", "min": 2, "max": None},
    {"dimension": "nation", "category": "wales", "min": None, "max": 2},
]


@dataclass
class Pool:
    round: Round
    applications: list[Application]
    reviewers: list[User]

    def means(self, application: Application) -> dict[str, float]:
        """Criterion means computed here from the POOL table, not by the app."""
        index = self.applications.index(application)
        reviews = POOL[index][3]
        return {c: sum(r[i] for r in reviews) / len(reviews) for i, c in enumerate(CRITERIA)}

    def score(self, application: Application) -> float:
        means = self.means(application)
        return sum(means.values()) / len(means)

    def by_name(self, name: str) -> Application:
        return next(a for a in self.applications if a.organisation_name == name)


def add_review(application: Application, reviewer: User, scores: list[int]) -> Review:
    review = Review(application_id=application.id, reviewer_id=reviewer.id, status="submitted")
    review.scores = [
        ReviewScore(criterion=c, score=s, comment="") for c, s in zip(CRITERIA, scores, strict=True)
    ]
    db.session.add(review)
    return review


def build_pool(make_user: Any, *, quotas: list[dict[str, Any]] | None = None, **names: str) -> Pool:
    round_ = make_round(sites_wanted=SITES)
    round_.quotas = QUOTAS if quotas is None else quotas
    round_.reviews_required = 2
    reviewers = [make_user("reviewer"), make_user("reviewer")]
    applications = []
    for organisation, nation, area, reviews in POOL:
        application = submitted_application(
            round_,
            organisation={"organisation_name": names.get(organisation, organisation)},
            location={"nation": nation, "area_type": area},
        )
        application.screening = "eligible"
        for reviewer, scores in zip(reviewers, reviews, strict=True):
            add_review(application, reviewer, scores)
        applications.append(application)
    db.session.commit()
    return Pool(round_, applications, reviewers)


@pytest.fixture
def pool(app: Flask, make_user: Any) -> Pool:
    return build_pool(make_user)
