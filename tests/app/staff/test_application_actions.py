"""The application page, eligibility screening, withdrawal and merging duplicates."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import (
    Application,
    ApplicationEvent,
    Moderation,
    Review,
    ReviewScore,
    Round,
    utcnow,
)
from tests.app.factories import submitted_application
from tests.app.helpers import Client, errors_of


def history(page: Any) -> list[str]:
    return [tr.select("td")[2].get_text(strip=True) for tr in page.select("#history tbody tr")]


def status_items(page: Any) -> dict[str, str]:
    return {
        row.select_one("dt").get_text(strip=True): row.select_one("dd").get_text(" ", strip=True)
        for row in page.select("#status .summary-list__row")
    }


def test_application_page_shows_answers_status_reviews_and_flags(
    staff_client: Client, round_: Round, make_user: Any
) -> None:
    application = submitted_application(round_)
    application.screening = "eligible"
    reviewer = make_user("reviewer", name="Rita Reviewer")
    review = Review(
        application_id=application.id,
        reviewer_id=reviewer.id,
        status="submitted",
        submitted_at=utcnow(),
        overall_comment="Strong local links.",
    )
    review.scores = [
        ReviewScore(criterion="difference", score=5),
        ReviewScore(criterion="inequalities", score=2),
        ReviewScore(criterion="resources", score=3),
        ReviewScore(criterion="evidence", score=4),
    ]
    db.session.add(review)
    db.session.commit()
    page = staff_client.get_page(f"/staff/applications/{application.id}")
    assert application.reference in page.select_one("h1").get_text()
    answers = {
        row.select_one("dt").get_text(strip=True): row.select_one("dd").get_text(" ", strip=True)
        for row in page.select("#answers .summary-list__row")
    }
    assert answers["Which nation is your organisation based in?"] == "Wales"
    assert answers["Which topics would you like to work on?"] == (
        "Carers' health and well-being Prevention and well-being"
    )
    assert answers["Email address"] == "sian.obrien@example.org"
    items = status_items(page)
    assert items["Status"] == "Sent" and items["Received"] == "Online"
    assert items["Screening"] == "Eligible"
    cells = [td.get_text(strip=True) for td in page.select("#reviews tbody td")]
    assert cells[:5] == ["Rita Reviewer", "5", "2", "3", "4"]
    flags = page.select_one("#flags").get_text(" ", strip=True)
    assert "Too few reviews: 1 of the 2 needed" in flags
    assert "disagree" not in flags

    # A second review, 3 points apart on inequalities: enough reviews, but a disagreement.
    other = Review(
        application_id=application.id,
        reviewer_id=make_user("reviewer", name="Rob Reviewer").id,
        status="submitted",
        submitted_at=utcnow(),
    )
    other.scores = [
        ReviewScore(criterion=c, score=s)
        for c, s in (("difference", 4), ("inequalities", 5), ("resources", 3), ("evidence", 4))
    ]
    db.session.add(other)
    db.session.commit()
    page = staff_client.get_page(f"/staff/applications/{application.id}")
    flags = [li.get_text(strip=True) for li in page.select("#flags li")]
    assert flags == ["Reviewers disagree on inequalities: scores from 2 to 5"]
    assert len(page.select("#reviews tbody tr")) == 2
    assert page.select_one("#moderations") is None

    db.session.add(
        Moderation(
            application_id=application.id,
            criterion="inequalities",
            score=3.5,
            reason="Panel discussion on 4 March",
            user_id=make_user("staff", name="Mo Moderator").id,
            at=utcnow(),
        )
    )
    db.session.commit()
    page = staff_client.get_page(f"/staff/applications/{application.id}")
    cells = [td.get_text(strip=True) for td in page.select("#moderations tbody td")]
    assert cells[:4] == ["Inequalities", "3.5", "Panel discussion on 4 March", "Mo Moderator"]


def test_screening_is_recorded_and_reversible(
    staff_client: Client, round_: Round, staff: Any
) -> None:
    application = submitted_application(round_)
    url = f"/staff/applications/{application.id}/screening"
    # Not eligible needs a reason; the choice is kept.
    page = staff_client.submit_page(url, {"decision": "ineligible", "note": "Checked the site"})
    assert page.select_one("title").get_text().startswith("Error:")
    assert errors_of(page) == "Select why the application is not eligible"
    assert page.select_one("#decision-1")["value"] == "ineligible"
    assert page.select_one("#decision-1").has_attr("checked")
    assert page.select_one("#note").get_text() == "Checked the site"
    # A reason not on the list is refused without a 500.
    page = staff_client.submit_page(url, {"decision": "ineligible", "reason": "bogus"})
    assert errors_of(page) == "Select why the application is not eligible from the list"

    staff_client.submit(
        url, {"decision": "ineligible", "reason": "not-uk", "note": "Based in Eire"}
    )
    page = staff_client.get_page(f"/staff/applications/{application.id}")
    assert status_items(page)["Screening"] == "Not eligible: Not based in the UK"
    assert status_items(page)["Screening note"] == "Based in Eire"

    staff_client.submit(url, {"decision": "eligible"})
    page = staff_client.get_page(f"/staff/applications/{application.id}")
    assert status_items(page)["Screening"] == "Eligible"
    assert "Screening note" not in status_items(page)
    assert history(page)[-2:] == [
        "Not eligible: Not based in the UK. Note: Based in Eire",
        "Eligible",
    ]
    who = [tr.select("td")[1].get_text(strip=True) for tr in page.select("#history tbody tr")]
    assert who[-1] == staff.name

    staff_client.submit(url, {"decision": "unscreened"})
    db.session.expire_all()
    stored = db.session.get(Application, application.id)
    assert stored.screening == "unscreened" and stored.screening_reason is None


def test_withdraw_needs_a_reason_and_is_recorded(staff_client: Client, round_: Round) -> None:
    application = submitted_application(round_)
    url = f"/staff/applications/{application.id}/withdraw"
    page = staff_client.submit_page(url, {"reason": "   "})
    assert errors_of(page) == "Enter why the application is withdrawn"
    assert page.select_one("title").get_text().startswith("Error:")
    staff_client.submit(url, {"reason": "They asked by email on 3 March"})
    page = staff_client.get_page(f"/staff/applications/{application.id}")
    assert status_items(page)["Status"] == "Withdrawn"
    assert status_items(page)["Why withdrawn"] == "They asked by email on 3 March"
    assert history(page)[-1] == "Withdrawn: They asked by email on 3 March"
    # No longer offered, and a second withdrawal does nothing.
    assert page.select_one(f'a[href="{url}"]') is None
    assert staff_client.get(url).status_code == 302


def test_merge_keeps_one_and_marks_the_other(staff_client: Client, round_: Round) -> None:
    first = submitted_application(round_, organisation={"organisation_name": "Same Org"})
    second = submitted_application(round_, organisation={"organisation_name": "same org"})
    page = staff_client.get_page(f"/staff/applications/{second.id}")
    assert f"Possible duplicate: {first.reference}" in page.select_one("#flags").get_text()

    url = f"/staff/applications/{second.id}/merge"
    page = staff_client.submit_page(url, {"reference": "EOI-0000-NOTHERE", "keep": "this"})
    assert errors_of(page) == "There is no application with this reference in this round"
    assert page.select_one("#reference")["value"] == "EOI-0000-NOTHERE"
    page = staff_client.submit_page(url, {"reference": second.reference, "keep": "this"})
    assert errors_of(page) == "Enter the reference of another application, not this one"
    page = staff_client.submit_page(url, {"reference": first.reference})
    assert errors_of(page) == "Select which application to keep"

    # Keep the first (the other one): the second is merged into it.
    response = staff_client.submit(url, {"reference": first.reference.lower(), "keep": "other"})
    assert response.headers["Location"].endswith(f"/staff/applications/{first.id}")
    merged = staff_client.get_page(f"/staff/applications/{second.id}")
    assert status_items(merged)["Status"] == "Merged"
    assert merged.select_one("#merged-into a").get_text() == first.reference
    assert history(merged)[-1] == f"Merged into {first.reference} as a duplicate"
    kept = staff_client.get_page(f"/staff/applications/{first.id}")
    assert status_items(kept)["Status"] == "Sent"
    assert history(kept)[-1] == f"{second.reference} merged into this application"
    db.session.expire_all()
    assert db.session.get(Application, second.id).merged_into_id == first.id
    # A merged application cannot be merged again.
    assert staff_client.get(url).status_code == 302
    assert db.session.query(ApplicationEvent).filter_by(kind="merged").count() == 2


def test_unknown_application_or_round_is_404(staff_client: Client, round_: Round) -> None:
    staff_client.get_page("/staff/applications/999999", status=404)
    staff_client.get_page("/staff/rounds/999999/applications", status=404)
    staff_client.get_page("/staff/rounds/999999/settings", status=404)
