"""Reviewers, staff and admins in a real browser: each clicks through their work as a person would
(fill fields, press buttons), with axe-core (WCAG 2.0, 2.1 and 2.2, A and AA) run on every page in
every state on the way, including the error states. axe must find nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from app.applications.rubric import RUBRIC
from app.extensions import db
from app.models import Application, Review, SelectionDecision, SelectionRun, User
from tests.app.world import SITES
from tests.browser.axe import report
from tests.browser.server import browser_app, serve
from tests.browser.walk import Walk
from tests.browser.workspace_seed import Person, Workspace, seed_workspace

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 900}


@dataclass
class Site:
    url: str
    app: Flask
    data: Workspace


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    app = browser_app(tmp_path_factory.mktemp("workspace"))
    with app.app_context():
        data = seed_workspace()
    with serve(app) as url:
        yield Site(url, app, data)


@pytest.fixture
def walk_as(browser: Any, site: Site) -> Iterator[Any]:
    """walk_as(person): a fresh browser window, signed in as that person on the sign-in page."""
    contexts = []

    def start(person: Person, *, check_sign_in: bool = False) -> Walk:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(10_000)
        contexts.append(context)
        walk = Walk(context.new_page(), site.url, check_axe=True)
        sign_in(walk, person, check=check_sign_in)
        return walk

    yield start
    for context in contexts:
        context.close()


def sign_in(walk: Walk, person: Person, *, check: bool) -> None:
    """Sign in on the sign-in page; with `check`, first check it empty, sent empty and after a
    wrong password."""
    walk.goto("/sign-in")
    if check:
        walk.checkpoint("sign in")
        walk.click("Sign in")
        assert walk.errors() == ["Enter your email address", "Enter your password"]
        walk.checkpoint("sign in (sent empty: errors)")
    walk.fill("Email address", person.email)
    if check:
        walk.fill("Password", "not the password at all")
        walk.click("Sign in")
        assert walk.errors() == ["Enter a correct email address and password"]
        walk.checkpoint("sign in (wrong password)")
    walk.fill("Password", person.password)
    walk.click("Sign in")
    assert not walk.errors(), walk.errors()


def heading(walk: Walk) -> str:
    return str(walk.page.locator("h1").inner_text()).strip()


def row_of(walk: Walk, table: str, text: str) -> Any:
    return walk.page.locator(f"{table} tbody tr").filter(has_text=text)


# --- Panel reviewer --------------------------------------------------------------------------


def test_a_reviewer_declares_a_conflict_and_scores_an_application(walk_as: Any, site: Site) -> None:
    data = site.data
    walk = walk_as(data.reviewer, check_sign_in=True)
    page = walk.page
    assert heading(walk) == "Your reviews"
    walk.checkpoint("reviews (two assigned)")
    references = page.locator("table tbody tr td:first-child").all_inner_texts()
    assert sorted(references) == sorted([data.to_review, data.to_decline])

    # A conflict with one application: the note is required, then it leaves the list.
    walk.follow(f"Declare a conflict of interest with {data.to_decline}")
    walk.checkpoint("conflict")
    walk.click("Declare a conflict of interest")
    assert walk.errors() == ["Describe your conflict of interest"]
    walk.checkpoint("conflict (errors)")
    walk.fill("Describe your conflict of interest", "I am a trustee of this organisation.")
    walk.click("Declare a conflict of interest")
    assert any(data.to_decline in notice for notice in walk.notices())
    walk.checkpoint("reviews (after the conflict)")
    assert page.locator("table tbody tr td:first-child").all_inner_texts() == [data.to_review]

    walk.follow("Shortlists shared with the panel")
    walk.checkpoint("shared shortlists (none)")
    page.go_back()

    # The review form: four criteria, each with the rubric's descriptor of every score.
    walk.follow(f"Review {data.to_review}")
    walk.checkpoint("review (not started)")
    for criterion in RUBRIC:
        group = page.get_by_role("group", name=f"Score for “{criterion.title}”")
        assert group.get_by_role("radio").count() == 5
        for level in criterion.levels:
            assert group.get_by_text(level.descriptor, exact=True).is_visible()

    walk.click("Submit review")
    assert walk.errors() == [
        f"Select a score for “{criterion.title}” to submit your review" for criterion in RUBRIC
    ]
    assert page.title().startswith("Error:")
    walk.checkpoint("review (submitted empty: errors)")

    first, second = RUBRIC[0], RUBRIC[1]
    score_for(walk, first.title, "4 – Good")
    walk.fill(f"Internal note on “{first.title}” (optional)", "Clear about who benefits.")
    walk.click("Save as draft")
    assert any("draft has been saved" in notice for notice in walk.notices())
    walk.checkpoint("review (draft saved)")
    assert page.locator(".tag").first.inner_text() == "Draft"
    assert checked_score(walk, first.title) == "4"
    assert page.get_by_label(f"Internal note on “{first.title}” (optional)").input_value() == (
        "Clear about who benefits."
    )

    score_for(walk, second.title, "3 – Adequate")
    walk.click("Submit review")
    assert len(walk.errors()) == 2  # the two criteria still without a score
    walk.checkpoint("review (partly scored: errors)")

    for criterion, level in zip(RUBRIC[2:], ("5 – Excellent", "2 – Limited"), strict=True):
        score_for(walk, criterion.title, level)
    walk.fill("Overall comment (optional)", "A strong, well-evidenced proposal.")
    walk.click("Submit review")
    assert any("has been submitted" in notice for notice in walk.notices())
    walk.checkpoint("reviews (review submitted)")
    assert row_of(walk, "table", data.to_review).locator(".tag").inner_text() == "Submitted"

    walk.follow(f"See your review {data.to_review}")
    walk.checkpoint("review (submitted, editable)")

    with site.app.app_context():
        review = db.session.scalars(
            select(Review)
            .join(Application, Application.id == Review.application_id)
            .join(User, User.id == Review.reviewer_id)
            .where(Application.reference == data.to_review, User.email == data.reviewer.email)
        ).one()
        assert review.status == "submitted"
        assert review is not None
        assert {s.criterion: s.score for s in review.scores} == {
            "difference": 4,
            "inequalities": 3,
            "resources": 5,
            "evidence": 2,
        }
    assert walk.problems == {}, report(walk.problems)


def score_for(walk: Walk, title: str, level: str) -> None:
    group = walk.page.get_by_role("group", name=f"Score for “{title}”")
    group.get_by_label(level, exact=True).check()


def checked_score(walk: Walk, title: str) -> str:
    group = walk.page.get_by_role("group", name=f"Score for “{title}”")
    return str(group.locator("input:checked").get_attribute("value"))


# --- Staff -------------------------------------------------------------------------------------


def test_staff_screen_moderate_set_up_and_run_a_selection(
    walk_as: Any, site: Site, tmp_path: Any
) -> None:
    data = site.data
    walk = walk_as(data.staff)
    page = walk.page
    assert heading(walk) == "Rounds"
    walk.checkpoint("rounds")

    # The applications list, then filtered to one nation.
    walk.follow(data.round_title, exact=True)
    walk.checkpoint("applications")
    page.get_by_label("Nation", exact=True).select_option(label="Wales")
    walk.click("Show applications")
    walk.checkpoint("applications (filtered to Wales)")
    assert heading(walk) == "Applications"
    found = f"{data.welsh} application{'s' if data.welsh != 1 else ''} found"
    assert page.locator("#results-heading").inner_text() == found
    nations = page.locator("#applications tbody tr td:nth-child(3)").all_inner_texts()
    assert nations and set(nations) == {"Wales"}, nations

    # An application's page, then screening: empty (errors), then not eligible with a reason.
    walk.follow(data.unscreened)
    walk.checkpoint("application")
    walk.follow("Screen for eligibility")
    walk.checkpoint("screening")
    walk.click("Save screening")
    assert walk.errors() == ["Select whether the application is eligible"]
    walk.checkpoint("screening (errors)")
    # Not eligible needs a reason (an eligible one would join the run without any review).
    walk.choose("Not eligible")
    walk.click("Save screening")
    assert walk.errors() == ["Select why the application is not eligible"]
    walk.checkpoint("screening (no reason)")
    walk.choose("Duplicate of another application")
    walk.fill("Note (optional)", "Sent twice; the other one is complete.")
    walk.click("Save screening")
    assert any("now marked not eligible" in n for n in walk.notices()), walk.notices()
    walk.checkpoint("application (screened)")

    # Moderation: the queue and one application's reviews, with the empty form's errors.
    walk.goto("/staff/")
    walk.follow(f"Moderation for {data.round_title}")
    walk.checkpoint("moderation queue")
    walk.follow(f"Moderate {data.too_few_reviews}")
    walk.checkpoint("moderation of one application")
    walk.click("Record moderated score")
    assert len(walk.errors()) >= 2, walk.errors()
    walk.checkpoint("moderation (errors)")

    # Round settings: a validation error, then a good save.
    walk.goto("/staff/")
    walk.follow(f"Settings for {data.round_title}")
    walk.checkpoint("settings")
    walk.fill("Number of sites wanted", "lots")
    walk.fill("Title", "")
    walk.click("Save settings")
    assert page.title().startswith("Error:")
    assert len(walk.errors()) == 2, walk.errors()
    walk.checkpoint("settings (errors)")
    assert page.get_by_label("Number of sites wanted").input_value() == "lots"
    walk.fill("Number of sites wanted", "5")
    walk.fill("Title", data.round_title)
    walk.click("Save settings")
    assert any("settings are saved" in notice for notice in walk.notices()), walk.notices()
    walk.checkpoint("settings (saved)")
    walk.follow("Quota table", exact=True)
    walk.checkpoint("quota table")

    walk.goto("/staff/")
    walk.follow(f"Reviewers for {data.round_title}")
    walk.checkpoint("reviewer assignment")

    # Selection runs: a bad seed, then a run and its ranked shortlist.
    walk.goto("/staff/")
    walk.follow(f"Selection runs for {data.round_title}")
    walk.checkpoint("selection runs (none yet)")
    walk.fill("Seed (optional)", "not a number")
    walk.click("Start a selection run")
    assert walk.errors(), "a seed that is not a number must be refused"
    walk.checkpoint("selection runs (errors)")
    walk.fill("Seed (optional)", "2027")
    walk.click("Start a selection run")
    status = page.locator("#run-status").inner_text()
    assert status == "Finished", f"{status}: {page.locator('main').inner_text()[:2000]}"
    walk.checkpoint("run: ranked shortlist and mix")

    with site.app.app_context():
        run = db.session.scalars(select(SelectionRun).order_by(SelectionRun.id.desc())).first()
        assert run is not None
        decided = {
            a.reference: d.reason
            for d, a in db.session.execute(
                select(SelectionDecision, Application)
                .join(Application, Application.id == SelectionDecision.application_id)
                .where(SelectionDecision.run_id == run.id)
            )
        }
        sent = set(
            db.session.scalars(
                select(Application.reference).where(
                    Application.round_id == data.round_id, Application.status == "submitted"
                )
            )
        )
    assert set(decided) == sent

    rows = page.locator("#decision-table tbody tr")
    assert rows.count() == len(sent)
    shown = {
        rows.nth(i).get_attribute("data-reference"): rows.nth(i).locator("td.reason").inner_text()
        for i in range(rows.count())
    }
    assert set(shown) == sent
    assert all(reason.strip() for reason in shown.values()), shown
    selected = page.locator('#decision-table tbody tr[data-decision="selected"]')
    assert selected.count() == SITES
    # The mix: a chart for each dimension, with its numbers in a table too.
    charts = page.locator("figure.mix-chart svg[role=img]")
    assert charts.count() >= 1
    assert charts.count() == page.locator("table.mix-table").count()
    nation_mix = page.locator("#mix-nation tbody tr")
    assert nation_mix.count() >= 3
    assert page.locator("#price-of-balance").inner_text().strip()

    page.get_by_label("Decision", exact=True).select_option(label="Selected")
    walk.click("Filter")
    walk.checkpoint("run: shortlist filtered to selected")
    assert page.locator("#decision-table tbody tr").count() == SITES

    # The rationale as XLSX: a row on the Decisions sheet for every application.
    with page.expect_download() as download_info:
        walk.click("Selection rationale (XLSX", exact=False)
    download = download_info.value
    assert download.suggested_filename.endswith(f"-run-{run.id}.xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    assert book.sheetnames[0] == "Cover"
    assert {"Decisions", "Mix", "Technical details"} <= set(book.sheetnames)
    sheet = list(book["Decisions"].iter_rows(values_only=True))
    header, body = sheet[0], sheet[1:]
    reference_column = next(i for i, name in enumerate(header) if "reference" in str(name).lower())
    assert sorted(row[reference_column] for row in body) == sorted(sent)
    assert len(body) == len(sent)
    book.close()

    assert walk.problems == {}, report(walk.problems)


# --- Admin -------------------------------------------------------------------------------------


def test_an_admin_invites_a_user_and_reads_the_audit_log(walk_as: Any, site: Site) -> None:
    data = site.data
    walk = walk_as(data.admin)
    page = walk.page
    walk.checkpoint("admin home")
    walk.follow("Users", exact=True)
    walk.checkpoint("users")
    assert row_of(walk, "table", data.reviewer.name).count() == 1

    walk.click("Invite a user")
    walk.checkpoint("invite")
    walk.click("Send invitation")
    assert page.title().startswith("Error:")
    assert len(walk.errors()) == 3, walk.errors()
    walk.checkpoint("invite (errors)")
    walk.fill("Full name", "Nia Newcomer")
    walk.fill("Email address", "nia.newcomer@example.org")
    walk.choose("Panel reviewer")
    walk.choose("Wales")
    walk.click("Send invitation")
    assert "Invitation sent." in walk.notices()
    walk.checkpoint("users (invitation sent)")
    newcomer = row_of(walk, "table", "Nia Newcomer")
    assert newcomer.locator("td").nth(3).inner_text() == "Invited"

    walk.click("Invite a user")
    walk.fill("Full name", "Nia Again")
    walk.fill("Email address", "nia.newcomer@example.org")
    walk.choose("Staff")
    walk.click("Send invitation")
    assert walk.errors(), "the same email twice must be refused"
    walk.checkpoint("invite (email already used)")

    walk.goto("/users")
    walk.follow("Change Nia Newcomer")
    walk.checkpoint("change a user")

    # The audit log: the invitation is on it; a date that does not exist is explained.
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Audit log").click()
    walk.checkpoint("audit log")
    assert heading(walk) == "Audit log"
    assert page.locator("#audit-events tbody tr").count() >= 1
    walk.fill("From", "31/2/2027")
    walk.click("Show events")
    assert page.title().startswith("Error:")
    assert walk.errors() == ["Enter the start date as day/month/year, like 24/3/2027"]
    walk.checkpoint("audit log (errors)")
    walk.fill("From", "1/1/2020")
    walk.click("Show events")
    assert not walk.errors()
    walk.checkpoint("audit log (filtered)")

    assert walk.problems == {}, report(walk.problems)


# --- Reflow: every workspace page at 320 CSS px ------------------------------------------------

NARROW = {"width": 320, "height": 640}
# Links that download a file or end the session: not pages to look at.
NOT_PAGES = (".csv", ".xlsx", "download", "export", "sign-out")


def test_every_workspace_page_reflows_at_320_css_px(browser: Any, site: Site) -> None:
    """WCAG 1.4.10: at 320 CSS px (1280 px at 400% zoom) no page scrolls sideways; a wide table
    scrolls inside its own focusable region instead. Each person follows every link on the
    pages they can reach from their home page (breadth first, same site, GET only)."""
    visited: set[str] = set()
    for person, home in ((site.data.admin, "/staff/"), (site.data.reviewer, "/panel/")):
        context = browser.new_context(viewport=NARROW)
        context.set_default_timeout(10_000)
        walk = Walk(context.new_page(), site.url, check_axe=False)
        sign_in(walk, person, check=False)
        queue, seen = [home, "/users", "/admin/audit"], set()
        while queue and len(seen) < 60:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            try:
                response = walk.goto(path)
            except PlaywrightError as error:  # a link to a file (e.g. subject access JSON)
                assert "Download is starting" in str(error), (path, error)
                continue
            if response is None or response.status != 200:
                continue
            walk.checkpoint(f"{person.email} {path}")  # raises if the page scrolls sideways
            for href in walk.page.eval_on_selector_all(
                "main a[href]", "links => links.map(a => a.getAttribute('href'))"
            ):
                href = href.split("#")[0]
                if href.startswith("/") and not any(part in href for part in NOT_PAGES):
                    queue.append(href)
        visited |= {f"{person.email} {path}" for path in seen}
        context.close()
    # The crawl reached the staff, admin and panel pages, not only the two home pages.
    assert len(visited) >= 15, sorted(visited)
    assert any("/staff/rounds/" in v for v in visited), sorted(visited)
