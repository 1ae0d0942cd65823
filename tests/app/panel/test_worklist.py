"""Issue 19 point 7: the reviewer's worklist (to do first, a status filter, the round's name and
reviewing deadline), each answer beside the criterion that scores it, and no applicants' footer
on staff and panel pages."""

from __future__ import annotations

from datetime import timedelta

from app.applications.rubric import RUBRIC
from app.extensions import db
from app.rounds import format_london
from tests.app.panel.conftest import all_scores, assign_to, review


def _references(page, table_id: str) -> list[str]:
    return [row["data-reference"] for row in page.select(f"#{table_id} tbody tr")]


def test_the_worklist_puts_what_is_left_to_do_first_with_the_round_and_deadline(
    round_, eligible, reviewer, client_for
) -> None:
    member = reviewer()
    done = [eligible(name=f"Done {i}") for i in range(3)]
    started = eligible(name="Started")
    untouched = eligible(name="Untouched")
    assign_to(untouched, member)
    for application in [*done, started]:
        assign_to(application, member)
    for application in done:
        review(application, member, all_scores(4))
    review(started, member, {"difference": 3}, submit=False)
    browser = client_for(member)

    page = browser.get_page("/panel/")

    # The round's name, and the deadline: 28 days after it closes (the round setting's default).
    assert page.select_one(f"#round-{round_.id}").get_text(strip=True) == round_.title
    deadline = format_london(round_.closes_at + timedelta(days=28))
    assert deadline in page.select_one(f"#deadline-{round_.id}").get_text(" ", strip=True)
    headings = [h.get_text(strip=True) for h in page.select("h3")]
    assert headings == ["To do (2)", "Submitted (3)"]
    # The draft (started) before the one not started; the submitted ones after both.
    assert _references(page, f"to-do-list-{round_.id}") == [
        started.reference,
        untouched.reference,
    ]
    assert sorted(_references(page, f"submitted-list-{round_.id}")) == sorted(
        a.reference for a in done
    )

    to_do = browser.get_page("/panel/?status=to-do")
    assert [h.get_text(strip=True) for h in to_do.select("h3")] == ["To do (2)"]
    submitted = browser.get_page("/panel/?status=submitted")
    assert [h.get_text(strip=True) for h in submitted.select("h3")] == ["Submitted (3)"]
    anything = browser.get_page("/panel/?status=<script>")  # a status not offered: everything
    assert len(anything.select("h3")) == 2


def test_a_rounds_own_reviewing_days_move_the_deadline(
    round_, eligible, reviewer, client_for
) -> None:
    member = reviewer()
    assign_to(eligible(), member)
    round_.settings = {**round_.settings, "reviewing_days": 10}
    db.session.commit()
    page = client_for(member).get_page("/panel/")
    deadline = format_london(round_.closes_at + timedelta(days=10))
    assert deadline in page.select_one(f"#deadline-{round_.id}").get_text(" ", strip=True)


def test_each_scored_answer_sits_beside_its_criterion(
    round_, eligible, reviewer, client_for
) -> None:
    application = eligible(name="Valley Carers")
    member = reviewer()
    assign_to(application, member)
    page = client_for(member).get_page(f"/panel/applications/{application.id}/review")
    for criterion in RUBRIC:
        pair = page.select_one(f"#pair-{criterion.id}")
        assert pair is not None, criterion.id
        answer = pair.select_one(".review-pair__answer")
        score = pair.select_one(".review-pair__score")
        # The answer first (it comes first on a phone), then the score for that same criterion.
        assert answer.find_next_sibling() is score
        answered = application.answers[criterion.id][criterion.id]
        assert answered.split()[0] in answer.get_text(" ")
        assert len(score.select(f"input[type=radio][name={criterion.id}_score]")) == 5
        assert criterion.title in score.get_text(" ")
    # The buttons stay in reach: inside the form, in the bar that sticks to the screen's foot.
    actions = page.select_one("form .sticky-actions")
    assert [b.get_text(strip=True) for b in actions.select("button")] == [
        "Submit review",
        "Save as draft",
    ]


def test_staff_and_panel_pages_have_no_applicants_footer(
    round_, eligible, reviewer, client_for, make_user
) -> None:
    member = reviewer()
    assign_to(eligible(), member)
    assert client_for(member).get_page("/panel/").select_one("footer") is None
    staff = client_for(make_user("staff"))
    assert staff.get_page("/staff/").select_one("footer") is None
    assert staff.get_page(f"/staff/rounds/{round_.id}/runs").select_one("footer") is None
    public = staff.get_page("/")
    assert public.select_one("footer") is not None


def test_a_passed_reviewing_deadline_is_said_to_have_passed(
    round_, eligible, reviewer, client_for
) -> None:
    """Found walking the demo: two days after the deadline the worklist still asked reviewers
    to "finish your reviews by" a date already gone."""
    from app.models import utcnow

    member = reviewer()
    assign_to(eligible(), member)
    round_.settings = {**round_.settings, "reviewing_days": 1}
    round_.closes_at = utcnow() - timedelta(days=3)
    db.session.commit()
    text = client_for(member).get_page("/panel/").select_one(f"#deadline-{round_.id}")
    words = text.get_text(" ", strip=True)
    assert words.startswith("The deadline for reviews was"), words
    assert "please finish yours as soon as you can" in words
    assert "by" not in words.split()[:4]

    round_.closes_at = utcnow() - timedelta(hours=1)
    round_.settings = {**round_.settings, "reviewing_days": 10}
    db.session.commit()
    words = client_for(member).get_page("/panel/").select_one(f"#deadline-{round_.id}")
    assert words.get_text(" ", strip=True).startswith("Please finish your reviews by")
