"""The review form: the rubric beside every score, drafts, submission, closing, one score per
criterion in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.applications.rubric import RUBRIC
from app.extensions import db
from app.models import ApplicationEvent, Review, ReviewScore, utcnow
from tests.app.helpers import errors_of
from tests.app.panel.conftest import all_scores, assign_to, review

CRITERIA = ("difference", "inequalities", "resources", "evidence")


@pytest.fixture
def assigned(round_, eligible, reviewer, client_for):
    application = eligible(name="Valley Carers")
    member = reviewer()
    assign_to(application, member)
    return application, member, client_for(member)


def _url(application) -> str:
    return f"/panel/applications/{application.id}/review"


def _stored(application, member) -> Review | None:
    db.session.expire_all()
    return db.session.scalars(
        select(Review).where(
            Review.application_id == application.id, Review.reviewer_id == member.id
        )
    ).first()


def test_the_form_shows_the_answers_and_every_level_of_the_rubric(assigned) -> None:
    application, _member, browser = assigned
    page = browser.get_page(_url(application))
    text = page.get_text(" ")
    assert "Valley Carers" in text
    assert "People who care for a family member in the valleys" in text  # an answer
    assert "sian.obrien@example.org" not in text  # contact details are not for reviewers
    for criterion in CRITERIA:
        radios = page.select(f"input[type=radio][name={criterion}_score]")
        assert [r["value"] for r in radios] == ["1", "2", "3", "4", "5"]
        for radio in radios:
            hint = page.select_one(f"#{radio['aria-describedby']}")
            assert hint is not None and len(hint.get_text(strip=True)) > 20
        assert page.select_one(f"textarea[name={criterion}_comment]")
    assert page.select_one("textarea[name=overall_comment]")
    # Every descriptor of the rubric is on the page.
    descriptors = [level.descriptor for c in RUBRIC for level in c.levels]
    assert len(set(descriptors)) == 20
    assert all(d in text for d in descriptors)


def test_a_partial_draft_is_saved_and_shown_again(assigned) -> None:
    application, member, browser = assigned
    response = browser.submit(
        _url(application),
        {
            "difference_score": "4",
            "difference_comment": "Clear benefit for carers",
            "overall_comment": "Promising",
            "action": "draft",
        },
    )
    assert response.headers["Location"] == _url(application)
    stored = _stored(application, member)
    assert stored is not None and stored.status == "draft" and stored.submitted_at is None
    assert {s.criterion: s.score for s in stored.scores} == {
        "difference": 4,
        "inequalities": None,
        "resources": None,
        "evidence": None,
    }
    page = browser.get_page(_url(application))
    assert page.select_one("input[name=difference_score][value='4']").has_attr("checked")
    assert page.select_one("textarea[name=difference_comment]").get_text() == (
        "Clear benefit for carers"
    )
    assert "Draft" in browser.get_page("/panel/").select_one("main table").get_text()


def test_submitting_needs_all_four_scores_and_keeps_what_was_entered(assigned) -> None:
    application, member, browser = assigned
    page = browser.submit_page(
        _url(application),
        {
            "difference_score": "2",
            "resources_score": "5",
            "overall_comment": "Keep me",
            "action": "submit",
        },
        status=200,
    )
    assert page.select_one("title").get_text().startswith("Error:")
    errors = errors_of(page)
    assert "Tackles inequalities" in errors and "Has enough evidence" in errors
    assert "Makes a real difference" not in errors
    links = [a["href"] for a in page.select(".error-summary a")]
    assert links == ["#inequalities_score-0", "#evidence_score-0"]
    assert page.select_one("input[name=difference_score][value='2']").has_attr("checked")
    assert page.select_one("textarea[name=overall_comment]").get_text() == "Keep me"
    assert _stored(application, member) is None  # nothing saved


def test_a_score_outside_1_to_5_is_refused(assigned) -> None:
    application, member, browser = assigned
    page = browser.submit_page(
        _url(application), {**{f"{c}_score": "3" for c in CRITERIA}, "evidence_score": "6"}
    )
    assert "Select a score from 1 to 5" in errors_of(page)
    assert _stored(application, member) is None


def test_a_submitted_review_is_recorded_and_can_be_changed_while_open(assigned) -> None:
    application, member, browser = assigned
    data = {f"{c}_score": str(n) for c, n in zip(CRITERIA, (5, 4, 3, 2), strict=True)}
    response = browser.submit(_url(application), {**data, "action": "submit"})
    assert response.headers["Location"] == "/panel/"
    stored = _stored(application, member)
    assert stored.status == "submitted" and stored.submitted_at is not None
    assert {s.criterion: s.score for s in stored.scores} == dict(
        zip(CRITERIA, (5, 4, 3, 2), strict=True)
    )
    assert "Submitted" in browser.get_page("/panel/").select_one("main table").get_text()
    kinds = db.session.scalars(
        select(ApplicationEvent.kind).where(ApplicationEvent.application_id == application.id)
    ).all()
    assert "review_submitted" in kinds

    # Changing it later: it stays submitted, and cannot lose a score.
    page = browser.get_page(_url(application))
    assert [b.get_text(strip=True) for b in page.select("main form button")] == ["Save changes"]
    page = browser.submit_page(_url(application), {**data, "evidence_score": "", "action": "draft"})
    assert "Has enough evidence" in errors_of(page)
    browser.submit(_url(application), {**data, "evidence_score": "1", "action": "submit"})
    stored = _stored(application, member)
    assert stored.status == "submitted"
    assert len(stored.scores) == 4
    assert {s.criterion: s.score for s in stored.scores}["evidence"] == 1


def test_closed_reviewing_blocks_changes_with_a_message(assigned) -> None:
    application, member, browser = assigned
    review(application, member, all_scores(3), submit=False)
    application.round.reviewing_closed_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    page = browser.get_page(_url(application))
    assert "Reviewing has closed" in page.select_one("main").get_text()
    assert not page.select("main form[method=post] input[type=radio]"), "no form to change it"
    response = browser.client.post(
        _url(application),
        data={**{f"{c}_score": "5" for c in CRITERIA}, "action": "submit", **_token(browser)},
    )
    assert response.status_code == 302
    page = browser.get_page(_url(application))
    assert "You can no longer change your review" in page.select_one("main").get_text()
    stored = _stored(application, member)
    assert stored.status == "draft"
    assert {s.score for s in stored.scores} == {3}


def _token(browser) -> dict[str, str]:
    """A CSRF token from a page with a form (the sign-out form is on every page)."""
    page = browser.get_page("/panel/")
    return {"csrf_token": page.select_one("input[name=csrf_token]")["value"]}


def test_reopened_reviewing_allows_changes_again(assigned) -> None:
    application, member, browser = assigned
    application.round.reviewing_closed_at = utcnow()
    db.session.commit()
    application.round.reviewing_closed_at = None
    db.session.commit()
    browser.submit(_url(application), {"difference_score": "2", "action": "draft"})
    assert _stored(application, member) is not None


def test_the_database_keeps_one_score_per_criterion_per_review(assigned) -> None:
    application, member, _browser = assigned
    review(application, member, all_scores(3), submit=False)
    stored = _stored(application, member)
    db.session.add(ReviewScore(review_id=stored.id, criterion="difference", score=5))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_database_keeps_one_review_per_reviewer(assigned) -> None:
    application, member, _browser = assigned
    review(application, member, all_scores(3), submit=False)
    db.session.add(Review(application_id=application.id, reviewer_id=member.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_review_saved_twice_at_once_asks_to_check_not_an_error_page(
    assigned, monkeypatch
) -> None:
    application, member, browser = assigned
    review(application, member, all_scores(3), submit=False)
    # The other tab's save read the reviewer's review before this one was written: none yet.
    # The unique constraint on (application, reviewer) refuses its second row.
    monkeypatch.setattr("app.panel.services.review_of", lambda *args: None)
    response = browser.submit(_url(application), {"difference_score": "2", "action": "draft"})
    assert response.headers["Location"] == _url(application)
    assert (
        "at the same time" in browser.get_page(_url(application)).select_one(".notice").get_text()
    )
    kept = _stored(application, member)
    assert {row.criterion: row.score for row in kept.scores}["difference"] == 3
