"""Outcome letters (issue 24): rendered for every decision across the pool, each says only the
applicant's own things (no other application's reference, name or score), gives feedback on all
four criteria to those not selected and reserves, always gives the contact, quotes the feedback
a reviewer wrote for the applicant and never their internal note; sent once per confirmed
decision after a check page, and again, saying what changed, when the decision changes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    AnswerPage,
    Application,
    Letter,
    OutboxMessage,
    OutcomeLetter,
    Review,
    ReviewScore,
    utcnow,
)
from app.staff.applications.services import withdraw_application
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client, errors_of, press
from tests.app.panel.conftest import assign_to
from tests.app.runs.helpers import decisions, run_id_from
from tests.app.world import CRITERIA, POOL, Pool, build_pool

# Distinctive names, so a letter quoting another application's is caught by a plain search.
NAMES = {
    "Wales One": "Zephyrine Carers Cooperative",
    "Wales Two": "Quillon Day Opportunities",
    "Wales Three": "Marrowby Befriending Circle",
    "Wales Four": "Thistlegate Home Support",
    "Scotland One": "Cairnholt Respite Trust",
    "Scotland Two": "Vexley Peer Network",
    "Scotland Three": "Brindlemoor Advocacy",
    "England One": "Ottering Community Kitchen",
    "England Two": "Yarrowfield Carers Voice",
    "England Three": "Pendlewick Disability Forum",
}
CONTACTS = [f"Contact{chr(65 + i)}x Surname{chr(75 + i)}q" for i in range(len(POOL))]
CHANNELS = ["email", "post", "phone"]
TITLES = {
    "difference": "Makes a real difference",
    "inequalities": "Tackles inequalities",
    "resources": "Makes good use of scarce resources",
    "evidence": "Has enough evidence",
}
# The bands as the issue describes them, written here independently of app/labels.py.
BANDS = [(4.5, "excellent"), (3.75, "strong"), (3.0, "good"), (2.0, "developing")]


def words(mean: float) -> str:
    return next((w for low, w in BANDS if mean >= low), "at an early stage")


def note(i: int, criterion: str) -> str:
    return f"INTNOTE{i:02d}{criterion}: not for the applicant"


def shared(i: int, criterion: str) -> str:
    return f"SHARE{i:02d}{criterion}: your plan is clear."


@pytest.fixture
def planted(app: Any, make_user: Any) -> Pool:
    """The test pool with distinctive names, a contact each, an internal note and feedback for
    the applicant on every criterion of the first review, and one application screened out."""
    pool = build_pool(make_user, **NAMES)
    for i, application in enumerate(pool.applications):
        page = db.session.scalars(
            select(AnswerPage).where(
                AnswerPage.application_id == application.id, AnswerPage.page_id == "contact"
            )
        ).one()
        page.answers = {
            **page.answers,
            "contact_name": CONTACTS[i],
            "preferred_contact": CHANNELS[i % 3],
        }
        if CHANNELS[i % 3] == "post":  # those who prefer post give an address to post to
            page.answers = {
                **page.answers,
                "address_line_1": f"{i + 1} High Street",
                "address_town": "Leeds",
                "address_postcode": "LS1 1AA",
            }
        first = db.session.scalars(
            select(Review).where(Review.application_id == application.id).order_by(Review.id)
        ).first()
        for row in first.scores:
            row.comment = note(i, row.criterion)
            row.feedback = shared(i, row.criterion)
    ineligible = pool.by_name(NAMES["England Three"])
    ineligible.screening = "ineligible"
    ineligible.screening_reason = "not-adult-social-care"
    db.session.commit()
    return pool


@pytest.fixture
def staff(client: Client, make_user: Any) -> Any:
    user = make_user("staff", name="Sam Staff")
    sign_in_as(client, user)
    return user


def confirmed_run(client: Client, pool: Pool) -> int:
    response = client.submit(f"/staff/rounds/{pool.round.id}/runs", {"reserves": "2"})
    run_id = run_id_from(response.headers["Location"])
    assert (
        press(client, f"/staff/runs/{run_id}/confirm", f"/staff/runs/{run_id}/confirm").status_code
        == 302
    )
    return run_id


def send(client: Client, run_id: int) -> Any:
    return press(client, f"/staff/runs/{run_id}/outcomes", f"/staff/runs/{run_id}/outcomes")


def outcome_messages() -> dict[int, list[OutboxMessage | Letter]]:
    """Every outcome message, emailed (the outbox) or to post (the print queue)."""
    found: dict[int, list[OutboxMessage | Letter]] = {}
    for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "outcome").order_by(OutboxMessage.id)
    ):
        found.setdefault(m.application_id, []).append(m)
    for letter in db.session.scalars(
        select(Letter).where(Letter.kind == "outcome").order_by(Letter.id)
    ):
        found.setdefault(letter.application_id, []).append(letter)
    return found


def letters() -> dict[int, list[OutcomeLetter]]:
    found: dict[int, list[OutcomeLetter]] = {}
    for letter in db.session.scalars(select(OutcomeLetter).order_by(OutcomeLetter.id)):
        found.setdefault(letter.application_id, []).append(letter)
    return found


def test_every_letter_says_only_its_own_things_and_has_what_the_reader_needs(
    client: Client, planted: Pool, staff: Any, app: Any
) -> None:
    run_id = confirmed_run(client, planted)
    # A selected site withdraws after the decision: it gets the withdrawn letter.
    stored = decisions(run_id)
    leaving = next(a for a in planted.applications if stored[a.id].decision == "selected")
    withdraw_application(db.session, leaving, "Asked to withdraw", staff, utcnow())
    db.session.commit()

    assert send(client, run_id).status_code == 302
    messages = outcome_messages()
    sent = letters()
    assert set(messages) == {a.id for a in planted.applications}
    kinds = {sent[i][0].decision for i in sent}
    assert kinds == {"selected", "reserve", "not_selected", "ineligible", "withdrawn"}

    everyone = {
        i: (a.reference, a.organisation_name, CONTACTS[i])
        for i, a in enumerate(planted.applications)
    }
    for i, application in enumerate(planted.applications):
        (message,) = messages[application.id]
        body, decision = message.body, sent[application.id][0].decision
        text = message.subject + "\n" + body
        # Nothing of any other application: reference, name, contact, notes or feedback.
        for j, (reference, organisation, contact) in everyone.items():
            if j == i:
                continue
            assert reference not in text and organisation not in text and contact not in text
            assert f"SHARE{j:02d}" not in text and f"INTNOTE{j:02d}" not in text
        # No score of anyone's as a number (scores are given in words).
        assert not re.search(r"\d\.\d", body), body
        # Never an internal note, even its own.
        assert "INTNOTE" not in text
        # The greeting to the named contact; the decision in the first sentence.
        assert body.startswith(f"Dear {CONTACTS[i]},\n\n")
        first = body.split("\n\n")[1].split(". ")[0]
        expected = {
            "selected": "has been selected as a partner site",
            "reserve": "on our reserve list",
            "not_selected": "has not been selected",
            "ineligible": "not eligible",
            "withdrawn": "has withdrawn",
        }[decision]
        assert expected in first, (decision, first)
        # The contact: a named person, the phone and the email; an offer of a call.
        assert "Priya Shah" in body
        assert app.config["CENTRE_PHONE"] in body and app.config["CENTRE_EMAIL"] in body
        assert "arrange a call" in body
        assert application.reference in message.subject
        if decision in ("not_selected", "reserve"):
            means = planted.means(application)
            for c in CRITERIA:
                assert f"{TITLES[c]}: {words(means[c])}." in body, (c, body)
                assert shared(i, c) in body  # the reviewer's feedback for the applicant
        if decision in ("not_selected", "ineligible"):
            assert "network" in body  # the network route for those not selected
        if decision == "reserve":
            assert "reserve list stays open until" in body
        if decision == "selected":
            assert "What happens next" in body and "within 4 weeks" in body
        if decision == "ineligible":
            assert "provide or support adult social care" in body
            assert "not-adult-social-care" not in body


def test_the_check_page_shows_counts_channels_and_samples_and_sending_is_once(
    client: Client, planted: Pool, staff: Any
) -> None:
    run_id = confirmed_run(client, planted)
    assert not outcome_messages()  # confirming sends nothing
    page = client.get_page(f"/staff/runs/{run_id}/outcomes")
    counts = {
        row.select("td")[0].get_text(strip=True): int(row.select("td")[1].get_text(strip=True))
        for row in page.select("#letter-counts tbody tr")
    }
    assert sum(counts.values()) == len(planted.applications)
    assert counts["Not eligible"] == 1
    channels = {
        row.select("td")[0].get_text(strip=True): int(row.select("td")[1].get_text(strip=True))
        for row in page.select("#letter-channels tbody tr")
    }
    assert channels == {"Email": 4, "Post": 3, "Phone": 3}
    routes = {
        row.select("td")[0].get_text(strip=True): int(row.select("td")[1].get_text(strip=True))
        for row in page.select("#letter-routes tbody tr")
    }
    # Those who prefer post are written to by post; the rest (phone included) have an email.
    assert routes == {"By email": 7, "By post: printed from Letters to post": 3}
    phone_rows = page.select("#phone-calls tbody tr")
    assert len(phone_rows) == 3 and "01632 960 001" in phone_rows[0].get_text()
    samples = page.select("pre.letter-text")
    assert len(samples) == len(counts)  # one sample per decision
    assert not outcome_messages()  # the check page sends nothing

    form = page.select_one(f"form[action='/staff/runs/{run_id}/outcomes']")
    body = {t["name"]: t.get("value", "") for t in form.select("input[type=hidden]")}
    assert body["expected"] == str(len(planted.applications))
    for _ in range(2):  # a double click: the second press sends nothing new
        response = client.client.post(f"/staff/runs/{run_id}/outcomes", data=body)
        assert response.status_code == 302
    assert sum(len(v) for v in outcome_messages().values()) == len(planted.applications)
    posted = db.session.scalars(select(Letter).where(Letter.kind == "outcome")).all()
    assert len(posted) == 3  # in the print queue, not the outbox
    # The print queue says what each is (found walking the demo: it said just "Decision").
    queue = client.get_page("/staff/letters")
    kinds = [row.select("td")[1].get_text(" ", strip=True) for row in queue.select("tbody tr")]
    assert sum(1 for kind in kinds if kind.startswith("Outcome letter ")) == 3, kinds
    # Printed, each greets and signs off once (found walking the demo: the print page added its
    # own "Dear ..." and "Yours sincerely" around a letter that has both).
    for letter in posted:
        printed = client.get_page(f"/staff/letters/{letter.id}").select_one("article.letter")
        words = printed.get_text("\n", strip=True)
        assert words.count("Dear ") == 1 and words.count("Yours sincerely") == 1, words
    emailed = db.session.scalars(
        select(OutboxMessage.application_id).where(OutboxMessage.kind == "outcome")
    ).all()
    assert not {letter.application_id for letter in posted} & set(emailed)
    page = client.get_page(f"/staff/runs/{run_id}/outcomes")
    assert page.select_one("#nothing-to-send") is not None

    # The database itself refuses a second letter for the same decision.
    first = db.session.scalars(select(OutcomeLetter)).first()
    db.session.add(
        OutcomeLetter(
            run_id=first.run_id,
            application_id=first.application_id,
            basis=first.basis,
            decision=first.decision,
            channel="email",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_stale_check_page_sends_nothing(client: Client, planted: Pool, staff: Any) -> None:
    run_id = confirmed_run(client, planted)
    page = client.get_page(f"/staff/runs/{run_id}/outcomes")
    form = page.select_one(f"form[action='/staff/runs/{run_id}/outcomes']")
    body = {t["name"]: t.get("value", "") for t in form.select("input[type=hidden]")}
    body["expected"] = str(int(body["expected"]) + 1)
    response = client.client.post(f"/staff/runs/{run_id}/outcomes", data=body)
    assert response.status_code == 302 and not outcome_messages()
    assert "changed since you checked" in client.get_page(response.headers["Location"]).text


def test_a_replacement_after_a_withdrawal_sends_new_letters_saying_what_changed(
    client: Client, planted: Pool, staff: Any
) -> None:
    run_id = confirmed_run(client, planted)
    send(client, run_id)
    stored = decisions(run_id)
    gone = next(
        a
        for a in planted.applications
        if stored[a.id].decision == "selected" and a.nation == "wales"
    )
    response = press(
        client,
        f"/staff/runs/{run_id}/replace?withdrawn={gone.id}",
        f"/staff/runs/{run_id}/replace",
    )
    assert response.status_code == 302
    before = {i: len(v) for i, v in outcome_messages().items()}
    send(client, run_id)
    after = outcome_messages()
    changed = [i for i, v in after.items() if len(v) > before[i]]
    assert len(changed) == 2  # the site that withdrew, and the one brought in
    incoming = next(i for i in changed if i != gone.id)
    new = after[incoming][-1].body
    assert "has been selected as a partner site" in new
    earlier = {"reserve": "was on our reserve list", "not_selected": "had not been selected"}
    assert earlier[stored[incoming].decision] in new
    assert "a selected site has withdrawn" in new
    assert gone.organisation_name not in new and gone.reference not in new
    left = after[gone.id][-1].body
    assert "has withdrawn" in left and "had been selected as a partner site" in left
    # and still once per decision: nothing more to send
    page = client.get_page(f"/staff/runs/{run_id}/outcomes")
    assert page.select_one("#nothing-to-send") is not None


def test_moderation_edits_the_feedback_and_only_it_reaches_the_letter(
    client: Client, planted: Pool, staff: Any
) -> None:
    target = planted.by_name(NAMES["England Two"])
    i = planted.applications.index(target)
    url = f"/staff/applications/{target.id}/moderation"
    page = client.get_page(url)
    box = page.select_one("#feedback_resources")
    assert box.get_text().strip() == shared(i, "resources")  # starts as the reviewer's
    assert note(i, "resources") not in box.get_text()
    edited = "Moderated: tell us more about the time you could give."
    response = press(
        client,
        url,
        f"{url}/feedback",
        {
            **{f"feedback_{c}": shared(i, c) for c in CRITERIA},
            "feedback_resources": edited,
            "feedback_evidence": "",
        },
    )
    assert response.status_code == 302
    run_id = confirmed_run(client, planted)
    send(client, run_id)
    (message,) = outcome_messages()[target.id]
    assert edited in message.body
    assert shared(i, "resources") not in message.body  # replaced by moderation's words
    assert shared(i, "evidence") not in message.body  # moderation removed it
    assert shared(i, "difference") in message.body  # unchanged: the reviewer's own


def test_a_reviewers_feedback_box_is_separate_from_their_internal_note(
    app: Any, planted: Pool, make_user: Any
) -> None:
    reviewer = make_user("reviewer", email="rhian@example.org", name="Rhian Reviewer")
    target = planted.applications[0]
    assign_to(target, reviewer)
    panel = Client(app.test_client())
    sign_in_as(panel, reviewer)
    url = f"/panel/applications/{target.id}/review"
    data = {"action": "submit", "overall_comment": ""}
    for c in CRITERIA:
        data[f"{c}_score"] = "4"
        data[f"{c}_comment"] = f"note on {c}"
        data[f"{c}_feedback"] = f"for you on {c}"
    assert press(panel, url, url, data).status_code == 302
    rows = db.session.scalars(
        select(ReviewScore)
        .join(Review, Review.id == ReviewScore.review_id)
        .where(Review.reviewer_id == reviewer.id)
    ).all()
    assert {r.criterion: (r.comment, r.feedback) for r in rows} == {
        c: (f"note on {c}", f"for you on {c}") for c in CRITERIA
    }


def test_a_letter_with_a_mistake_is_not_saved_and_what_was_typed_stays(
    client: Client, planted: Pool, staff: Any
) -> None:
    url = f"/staff/rounds/{planted.round.id}/letters/not_selected"
    cases = {
        "Dear {{ contact_nam }},\n\nKeep this text.": "does not exist: “contact_nam”",
        "Dear {{ contact_name ,\n\nKeep this text.": "mistake in its placeholders",
        "{% if mix %}Keep this text.": "mistake in its placeholders",
        "{{ config }} Keep this text.": "“config”",
        "{{ ''.__class__.__mro__ }} Keep this text.": "cannot do",
        "{{ organisation|attr('__class__') }} Keep this text.": "cannot use",
    }
    for typed, message in cases.items():
        response = press(client, url, url, {"subject": "Hello", "body": typed, "action": "save"})
        assert response.status_code == 200
        page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        assert message in errors_of(page), errors_of(page)
        assert page.select_one("textarea#body").get_text().strip() == typed.strip()
        assert page.select_one("input#subject")["value"] == "Hello"
    saved = client.get_page(url).select_one("textarea#body").get_text()
    assert "Keep this text" not in saved  # nothing was saved


def test_a_saved_letter_is_previewed_for_an_application_and_sent(
    client: Client, planted: Pool, staff: Any
) -> None:
    url = f"/staff/rounds/{planted.round.id}/letters/not_selected"
    body = (
        "Dear {{ contact_name }},\n\nOur answer for {{ organisation }}: {{ decision }}.\n\n"
        "{% for item in feedback %}{{ item.title }} was {{ item.score_words }}.\n{% endfor %}\n"
        "Call {{ centre_contact_name }} on {{ centre_phone }} or email {{ centre_email }}."
    )
    target = planted.by_name(NAMES["England Two"])
    response = press(
        client,
        url,
        url,
        {
            "subject": "Custom {{ reference }}",
            "body": body,
            "action": "preview",
            "application": str(target.id),
        },
    )
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    preview = page.select_one("pre.letter-text").get_text()
    assert f"Our answer for {NAMES['England Two']}: Not selected." in preview
    assert client.get_page(url).select_one("textarea#body").get_text().strip() != body  # unsaved
    response = press(
        client, url, url, {"subject": "Custom {{ reference }}", "body": body, "action": "save"}
    )
    assert response.status_code == 302
    run_id = confirmed_run(client, planted)
    send(client, run_id)
    stored = decisions(run_id)
    for application in planted.applications:
        if stored[application.id].decision == "not_selected":
            (message,) = outcome_messages()[application.id]
            assert message.body.startswith("Dear ")
            assert f"Our answer for {application.organisation_name}: Not selected." in message.body
            assert message.subject.startswith(f"Custom {application.reference}")


def test_an_unknown_letter_is_not_found(client: Client, planted: Pool, staff: Any) -> None:
    response = client.client.get(f"/staff/rounds/{planted.round.id}/letters/approved")
    assert response.status_code == 404


def test_letters_across_the_demo_pool_say_only_their_own_things(app: Any) -> None:
    """The demo data's pool (made-up organisations, several reviewers each, moderation, merged
    duplicates, screening): every letter of a confirmed run names no other application, gives
    feedback on all four criteria to those not selected and reserves, and has the contact."""
    from app.demo import MIN_APPLICATIONS, seed_demo
    from app.models import Round, SelectionRun, User
    from app.staff.runs.decisions import confirm_run
    from app.staff.runs.outcomes import planned_letters
    from app.staff.runs.services import start_run

    seed_demo(db.session, utcnow(), applications=MIN_APPLICATIONS)
    db.session.commit()
    round_ = db.session.scalars(
        select(Round).join(Application, Application.round_id == Round.id).limit(1)
    ).one()
    staff = db.session.scalars(select(User).where(User.role == "staff")).first()
    run = start_run(db.session, round_, staff, utcnow(), seed=5)
    assert run.status == "done"
    confirm_run(db.session, run, staff, utcnow())
    db.session.commit()
    plan = planned_letters(db.session, db.session.get(SelectionRun, run.id))
    everyone = {
        a.id: (a.reference, a.organisation_name)
        for a in db.session.scalars(select(Application).where(Application.round_id == round_.id))
        if a.reference
    }
    kinds = {letter.decision for letter in plan.letters}
    assert {"selected", "reserve", "not_selected"} <= kinds
    with_feedback = 0
    for letter in plan.letters:
        text = letter.subject + "\n" + letter.body
        own = letter.application.id
        for other, (reference, organisation) in everyone.items():
            if other != own:
                assert reference not in text
                # The demo's duplicates (one organisation sent twice) share their own name.
                if organisation and organisation != letter.application.organisation_name:
                    assert organisation not in text, (organisation, text)
        assert not re.search(r"\d\.\d", letter.body)
        assert app.config["CENTRE_PHONE"] in letter.body
        assert app.config["CENTRE_EMAIL"] in letter.body
        if letter.decision in ("reserve", "not_selected"):
            for title in TITLES.values():
                assert re.search(
                    rf"^{re.escape(title)}: "
                    r"(excellent|strong|good|developing|at an early stage)\.$",
                    letter.body,
                    re.M,
                ), (title, letter.body)
            with_feedback += "\n\n" in letter.body.split("What the panel said")[1]
    assert with_feedback
