"""The demo seed behind `make run`: a newcomer signs in with the README's demo accounts, runs a
selection on the demo round and downloads its rationale as staff, and scores an assigned
application as a reviewer. The seed never runs in production and `--if-empty` keeps its word."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

from click.testing import Result
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.applications.forms import page_form_class
from app.applications.questions import PAGES
from app.demo import DEFAULT_APPLICATIONS, DEMO_REVIEWER_EMAIL, LEFT_FOR_DEMO_REVIEWER
from app.extensions import db
from app.models import (
    Application,
    Assignment,
    OutboxMessage,
    Review,
    Round,
    SelectionRun,
    User,
    utcnow,
)
from app.rounds import current_round
from app.staff.assignment.services import moderation_queue
from tests.app.helpers import Client, press
from tests.app.runs.helpers import every_page, run_id_from

README = Path(__file__).resolve().parents[2] / "README.md"


def seed(app: Flask, *args: str) -> Result:
    result = app.test_cli_runner().invoke(args=["seed-demo", *args])
    db.session.rollback()  # read what the command committed
    return result


def readme_accounts() -> dict[str, tuple[str, str]]:
    """Role -> (email, password), as the README's "Demo accounts" table gives them."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Demo accounts", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\w+) \| `([^`]+)` \| `([^`]+)` \|", section, flags=re.MULTILINE)
    return {role.lower(): (email, password) for role, email, password in rows}


def sign_in(app: Flask, email: str, password: str) -> Client:
    client = Client(app.test_client())
    response = client.submit("/sign-in", {"email": email, "password": password})
    assert "/sign-in" not in response.headers["Location"]
    return client


def demo_round() -> Round:
    return db.session.scalars(select(Round).where(Round.slug.like("demo-review-%"))).one()


def check_counts(round_: Round) -> None:
    roles = Counter(db.session.scalars(select(User.role)))
    assert roles == {"admin": 1, "staff": 1, "reviewer": 6}
    reviewer_nations = set(db.session.scalars(select(User.nation).where(User.role == "reviewer")))
    assert reviewer_nations == {"england", "scotland", "wales", "northern-ireland"}
    applications = list(
        db.session.scalars(select(Application).where(Application.round_id == round_.id))
    )
    sent = [a for a in applications if a.status == "submitted"]
    assert len(sent) >= 250
    assert {a.status for a in applications} == {"submitted", "draft", "withdrawn", "merged"}
    screening = Counter(a.screening for a in sent)
    assert screening["unscreened"] == 0 and 0 < screening["ineligible"] < len(sent) // 10
    assert all(a.screening_reason for a in sent if a.screening == "ineligible")
    for column in ("nation", "area_type", "size_band", "led_by"):
        assert len({getattr(a, column) for a in sent}) >= 4, column
    assert {a.channel for a in sent} >= {"online", "phone", "post"}
    assert len({a.organisation_name for a in sent}) == len(sent)
    assert all(a.answers["contact"]["email"].endswith(".example.org") for a in sent)
    submitted_reviews = db.session.scalar(
        select(func.count(Review.id)).where(Review.status == "submitted")
    )
    eligible = sum(1 for a in sent if a.screening == "eligible")
    assert submitted_reviews >= 2 * eligible - LEFT_FOR_DEMO_REVIEWER
    queue = moderation_queue(db.session, round_)
    assert 0 < sum(1 for item in queue if item.disagreements) < eligible // 10
    # Every confirmation email was sent long ago: `flask send-mail` has nothing to send.
    assert not db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.sent_at.is_(None))
    )
    # The applicant journey still starts from an open round.
    open_round = current_round(db.session, utcnow())
    assert open_round is not None and open_round.is_open(utcnow()) and open_round != round_
    # Its reach page has a real picture: weeks of sent applications, drafts, and a quota that
    # cannot be met yet (no application from Northern Ireland, whose minimum is 1).
    by_status = dict(
        db.session.execute(
            select(Application.status, func.count(Application.id))
            .where(Application.round_id == open_round.id)
            .group_by(Application.status)
        ).all()
    )
    assert by_status["submitted"] >= 30 and by_status["draft"] >= 10
    assert not db.session.scalar(
        select(func.count(Application.id)).where(
            Application.round_id == open_round.id, Application.nation == "northern-ireland"
        )
    )
    assert {"dimension": "nation", "category": "northern-ireland", "min": 1, "max": None} in (
        open_round.quotas
    )


def check_answers_pass_the_journeys_validation(app: Flask, round_: Round) -> None:
    """Each saved page, posted to the journey's own form, validates and is stored unchanged."""
    applications = db.session.scalars(
        select(Application).where(Application.round_id == round_.id)
    ).all()
    with app.test_request_context():
        for application in applications:
            for page_id, saved in application.answers.items():
                form_class = page_form_class(PAGES[page_id], round_, first_save=False)
                data = MultiDict()
                for key, value in saved.items():
                    for item in value if isinstance(value, list) else [value]:
                        if item is not None:
                            data.add(key, item)
                form = form_class(formdata=data, meta={"csrf": False})
                assert form.validate(), (page_id, form.errors)
                assert form.answers() == saved, page_id


def staff_runs_a_selection(app: Flask, round_: Round, email: str, password: str) -> None:
    client = sign_in(app, email, password)
    home = client.get_page("/staff/")
    runs_url = next(
        a["href"]
        for a in home.select("a")
        if a.get_text(" ", strip=True) == f"Selection runs for {round_.title}"
    )
    response = client.submit(runs_url, {"reserves": "10"})

    run = db.session.get(SelectionRun, run_id_from(response.headers["Location"]))
    assert run is not None and run.status == "done", run and run.message
    pages = every_page(client, response.headers["Location"])  # the shortlist comes in pages
    page = pages[0]
    rows = [row for shown in pages for row in shown.select("#decision-table tbody tr")]
    pool = db.session.scalar(
        select(func.count(Application.id)).where(
            Application.round_id == round_.id, Application.status == "submitted"
        )
    )
    assert len(rows) == pool
    selected = [r for r in rows if r["data-decision"] == "selected"]
    assert len(selected) == round_.sites_wanted
    for row in rows:  # every decision has its reason
        reason = row.select_one("td.reason")
        assert len(reason.get_text(strip=True)) > (
            20 if row["data-decision"] != "ineligible" else 5
        )
    chart = page.select_one("svg[role=img]")
    assert chart is not None and chart.select_one("title").get_text(strip=True)
    # The quota table is feasible and shapes the choice: the nation minimums are met.
    for quota in round_.quotas:
        if quota["dimension"] == "nation" and quota["min"]:
            chosen = page.select(f'#mix-nation tr[data-category="{quota["category"]}"] td')
            assert int(chosen[0].get_text(strip=True)) >= quota["min"]  # selected, first

    # The mix the seed asks for: a minimum of really struggling services and one of places where
    # most people live in the most deprived areas, met, and shown with their labels.
    wanted = {(q["dimension"], q["category"]): q["min"] for q in round_.quotas}
    for dimension, category, heading, label in (
        ("pressures", "struggling", "Pressures", "Really struggling"),
        (
            "local_deprivation",
            "most-deprived",
            "Local population",
            "Yes, most live in the most deprived areas",
        ),
    ):
        assert wanted[(dimension, category)] >= 1
        table = page.select_one(f"#mix-{dimension}")
        assert heading in table.get_text(" ", strip=True)
        cells = table.select(f'tr[data-category="{category}"] > *')
        assert cells[0].get_text(strip=True) == label
        assert int(cells[1].get_text(strip=True)) >= wanted[(dimension, category)]
        # Each row's "About the site" says it in words too.
        shown = {li.get_text(" ", strip=True) for row in rows for li in row.select("td.about li")}
        assert f"{heading}: {label}" in shown

    button = page.select_one('form[method=post][action$="rationale.xlsx"]')
    download = press(client, response.headers["Location"], button["action"])
    assert download.status_code == 200
    book = load_workbook(io.BytesIO(download.data))
    assert book.sheetnames == [
        "Cover",
        "Decisions",
        "Mix",
        "Reviews summary",
        "Technical details",
    ]
    assert book["Decisions"].max_row == pool + 1
    mix = list(book["Mix"].iter_rows(values_only=True))
    header = mix[0]
    labelled = {(r[header.index("Dimension")], r[header.index("Category")]) for r in mix[1:]}
    assert ("Pressures", "Really struggling") in labelled
    assert ("Local population", "Yes, most live in the most deprived areas") in labelled


def reviewer_scores_an_application(app: Flask, email: str, password: str) -> None:
    reviewer = db.session.scalars(select(User).where(User.email == email)).one()
    assert email == DEMO_REVIEWER_EMAIL
    client = sign_in(app, email, password)
    page = client.get_page("/panel/")
    waiting = [
        row for row in page.select("main table tbody tr") if "Not started" in row.get_text(" ")
    ]
    assert waiting, "the demo reviewer has an application left to review"
    review_url = waiting[0].select_one('a[href$="/review"]')["href"]
    application_id = int(review_url.split("/")[-2])
    assert db.session.scalars(
        select(Assignment).where(
            Assignment.application_id == application_id, Assignment.reviewer_id == reviewer.id
        )
    ).one()
    form = client.get_page(review_url)
    assert form.select("input[type=radio][name=difference_score]")

    scores = {"difference": "4", "inequalities": "3", "resources": "4", "evidence": "2"}
    client.submit(
        review_url,
        {**{f"{c}_score": s for c, s in scores.items()}, "overall_comment": "", "action": "submit"},
    )

    review = db.session.scalars(
        select(Review).where(
            Review.application_id == application_id, Review.reviewer_id == reviewer.id
        )
    ).one()
    assert review.status == "submitted"
    assert {s.criterion: str(s.score) for s in review.scores} == scores


def test_a_newcomer_can_run_a_selection_and_review_on_the_demo_data(app: Flask) -> None:
    result = seed(app, "--if-empty")
    assert result.exit_code == 0, result.output
    round_ = demo_round()
    accounts = readme_accounts()
    assert set(accounts) == {"admin", "staff", "reviewer"}

    check_counts(round_)
    assert (
        db.session.scalar(
            select(func.count(Application.id)).where(
                Application.round_id == round_.id, Application.status != "draft"
            )
        )
        == DEFAULT_APPLICATIONS + 2
    )  # two organisations sent twice (merged)
    check_answers_pass_the_journeys_validation(app, round_)
    staff_runs_a_selection(app, round_, *accounts["staff"])
    reviewer_scores_an_application(app, *accounts["reviewer"])
    # The admin account signs in too, to the staff pages.
    assert sign_in(app, *accounts["admin"]).get_page("/staff/").select_one("h1")


def test_the_seed_is_refused_in_production(app: Flask) -> None:
    app.config["ENV_NAME"] = "production"

    result = seed(app)

    assert result.exit_code != 0
    assert "production" in result.output
    assert db.session.scalar(select(func.count(Round.id))) == 0
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_if_empty_adds_nothing_the_second_time(app: Flask) -> None:
    # The smallest demo: what --if-empty does does not depend on the number of applications.
    assert seed(app, "--if-empty", "--applications", "60").exit_code == 0
    before = _totals()

    result = seed(app, "--if-empty", "--applications", "60")

    assert result.exit_code == 0, result.output
    assert "no demo data added" in result.output
    assert _totals() == before


def test_without_if_empty_a_second_seed_is_refused_with_a_reason(app: Flask) -> None:
    assert seed(app, "--applications", "60").exit_code == 0
    before = _totals()

    result = seed(app, "--applications", "60")

    assert result.exit_code != 0
    assert "demo accounts exist already" in result.output
    assert _totals() == before


def _totals() -> dict[str, Any]:
    return {
        model.__name__: db.session.scalar(select(func.count(model.id)))
        for model in (Round, User, Application, Assignment, Review)
    }
