"""The demo data behind `flask seed-demo` (and so `make run`): accounts, a round under review and
an open round, so a newcomer can sign in and try every part of the service at once.

Everything is made through the services the web pages use (start, save and send an application,
screen, assign, review, moderate, save the quota table), so the data is what real use would leave
behind. The content is drawn from ``random.Random(seed)``: the same seed gives the same
organisations, answers and scores (references and private tokens come from `secrets`, as in real
use). Every organisation, person, email address (example.org) and telephone number (Ofcom's drama
range 07700 900xxx) is fictional. These functions add and flush; the command commits.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Config
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .applications.eligibility import ELIGIBILITY
from .applications.rubric import RUBRIC
from .applications.services import save_page, start_application, submit_application
from .auth.passwords import password_problem
from .auth.services import create_user
from .demo_profiles import APPLICANT_FEEDBACK, REVIEW_COMMENTS, DemoRefused, Profile, pick
from .demo_profiles import profile as make_profile
from .models import AnswerPage, Application, Assignment, Conflict, OutboxMessage, Round, User
from .panel.services import declare_conflict, save_review
from .rounds import LONDON, create_round, demo_closing_time
from .staff.applications.services import (
    merge_applications,
    record_page_entered,
    record_sent_by_staff,
    screen_application,
    start_assisted_application,
    withdraw_application,
)
from .staff.assignment.services import auto_assign, record_moderation
from .staff.rounds.services import check_quota_rows, save_quotas

DEFAULT_SEED = 2027
DEFAULT_APPLICATIONS = 300
# Fewer than this and the demo quota table could not be met.
MIN_APPLICATIONS = 60

ADMIN_PASSWORD = "demo-admin-password-2027"
STAFF_PASSWORD = "demo-staff-password-2027"
REVIEWER_PASSWORD = "demo-reviewer-password-2027"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: str
    password: str
    nation: str | None = None


# The README lists these. The first reviewer is the one left with reviews to do.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("demo.admin@example.org", "Alex Morgan", "admin", ADMIN_PASSWORD),
    DemoAccount("demo.staff@example.org", "Sam Patel", "staff", STAFF_PASSWORD),
    DemoAccount(
        "demo.reviewer@example.org", "Rowan Reid", "reviewer", REVIEWER_PASSWORD, "england"
    ),
    DemoAccount("joy.mensah@example.org", "Joy Mensah", "reviewer", REVIEWER_PASSWORD, "england"),
    DemoAccount(
        "morag.fraser@example.org", "Morag Fraser", "reviewer", REVIEWER_PASSWORD, "scotland"
    ),
    DemoAccount(
        "eilidh.campbell@example.org", "Eilidh Campbell", "reviewer", REVIEWER_PASSWORD, "scotland"
    ),
    DemoAccount("gareth.price@example.org", "Gareth Price", "reviewer", REVIEWER_PASSWORD, "wales"),
    DemoAccount(
        "niamh.doherty@example.org",
        "Niamh Doherty",
        "reviewer",
        REVIEWER_PASSWORD,
        "northern-ireland",
    ),
)
DEMO_REVIEWER_EMAIL = "demo.reviewer@example.org"
# How many of the demo reviewer's assignments are left for them: two not started, one draft.
LEFT_FOR_DEMO_REVIEWER = 3

# A feasible quota table for 12 sites, in the engine's format (an empty cell is "no bound").
DEMO_QUOTAS: tuple[tuple[str, str, str, str], ...] = (
    ("nation", "england", "", "7"),
    ("nation", "scotland", "2", ""),
    ("nation", "wales", "2", ""),
    ("nation", "northern-ireland", "1", ""),
    ("area_type", "rural", "2", ""),
    ("area_type", "remote", "1", ""),
    ("led_by", "user-led", "1", ""),
    ("led_by", "carer-led", "1", ""),
    ("size_band", "none", "1", ""),
    ("first_time", "yes", "4", ""),
    # The seed asks for services that are really struggling, and for places where most people
    # live in the most deprived areas.
    ("pressures", "struggling", "2", ""),
    ("local_deprivation", "most-deprived", "3", ""),
)


def refuse_in_production(config: Config | Mapping[str, Any]) -> None:
    """Demo accounts have published passwords: never in an app configured for production."""
    if config.get("ENV_NAME") == "production":
        raise DemoRefused(
            "This app is configured for production (APP_ENV=production): the demo data, whose "
            "passwords are published in the README, is never added there."
        )


@dataclass(frozen=True)
class DemoSummary:
    review_round: Round
    open_round: Round
    accounts: int
    sent: int
    eligible: int
    ineligible: int
    drafts: int
    reviews: int
    left_for_demo_reviewer: int


# --- Seeding ------------------------------------------------------------------------------------


def seed_demo(
    session: Session,
    now: datetime,
    *,
    applications: int = DEFAULT_APPLICATIONS,
    seed: int = DEFAULT_SEED,
) -> DemoSummary:
    """Add the demo accounts, a round under review with ``applications`` sent applications and
    their reviews, and an open round for the applicant journey."""
    if applications < MIN_APPLICATIONS:
        raise DemoRefused(f"The demo needs at least {MIN_APPLICATIONS} applications.")
    existing = session.scalars(
        select(User.email).where(User.email.in_([a.email for a in DEMO_ACCOUNTS]))
    ).first()
    if existing is not None:
        raise DemoRefused(
            "The demo accounts exist already: run `flask seed-demo --if-empty`, or start from an "
            "empty database."
        )
    rng = random.Random(seed)
    users = _accounts(session)
    staff = next(u for u in users if u.role == "staff")
    reviewers = [u for u in users if u.role == "reviewer"]
    demo_reviewer = next(u for u in reviewers if u.email == DEMO_REVIEWER_EMAIL)

    stamp = f"{now.astimezone(LONDON):%Y%m%d%H%M%S}"
    closes = demo_closing_time(now - timedelta(days=90))  # midday, 30 days ago
    review_round = create_round(
        session,
        slug=f"demo-review-{stamp}",
        title="Partner sites for adult social care improvement 2026 (under review)",
        opens_at=closes - timedelta(days=84),
        closes_at=closes,
        sites_wanted=12,
    )
    review_round.reviews_required = 2
    sent = _applications(session, rng, review_round, staff, applications)
    drafts = _drafts(session, rng, review_round, max(3, applications // 40))
    eligible, ineligible = _screen(
        session, rng, review_round, sent, staff, closes + timedelta(days=2)
    )
    _mark_confirmations_sent(session, review_round)
    _assign(session, rng, review_round, staff, reviewers, demo_reviewer, closes + timedelta(days=5))
    quality = {application.id: profile.quality for application, profile in sent}
    reviews, left = _reviews(
        session, rng, review_round, quality, staff, demo_reviewer, closes + timedelta(days=8), now
    )
    check = check_quota_rows(
        review_round,
        [
            dict(zip(("dimension", "category", "min", "max"), row, strict=True))
            for row in DEMO_QUOTAS
        ],
    )
    save_quotas(review_round, check)  # raises if the table has problems

    open_round = create_round(
        session,
        slug=f"demo-{stamp}",
        title="Partner sites for adult social care improvement 2027",
        opens_at=now - timedelta(days=OPEN_ROUND_DAYS_SO_FAR),
        closes_at=demo_closing_time(now),
    )
    open_round.quotas = list(review_round.quotas)
    session.flush()
    _open_round_so_far(session, rng, open_round, staff, now)
    return DemoSummary(
        review_round=review_round,
        open_round=open_round,
        accounts=len(users),
        sent=len(sent),
        eligible=eligible,
        ineligible=ineligible,
        drafts=drafts,
        reviews=reviews,
        left_for_demo_reviewer=left,
    )


def _accounts(session: Session) -> list[User]:
    users = []
    for account in DEMO_ACCOUNTS:
        problem = password_problem(account.password, email=account.email, name=account.name)
        if problem:  # a guard on the constants above: the sign-in page would refuse them too
            raise DemoRefused(f"Demo password for {account.email}: {problem}")
        user = create_user(
            session,
            email=account.email,
            name=account.name,
            role=account.role,
            password=account.password,
        )
        user.nation = account.nation
        users.append(user)
    session.flush()
    return users


_ELIGIBILITY = {q.id: "yes" for q in ELIGIBILITY}


def _send(
    session: Session,
    round_: Round,
    profile: Profile,
    sent_at: datetime,
    channel: str,
    staff: User,
) -> Application:
    """One application as the journey (or staff's assisted entry) makes it, sent at ``sent_at``.

    Online answers are stored as `save_page` stores them, all pages in one flush: its per-page
    savepoint guards against two tabs saving at once, which a seed never does, and costs most of
    the seeding time. Sending goes through `submit_application`, which checks every page.
    """
    started = sent_at - timedelta(minutes=45)
    if channel == "online":
        application, _token = start_application(session, round_, _ELIGIBILITY, started)
        saved = started + timedelta(minutes=3)
        session.add_all(
            AnswerPage(
                application_id=application.id, page_id=page_id, answers=answers, updated_at=saved
            )
            for page_id, answers in profile.answers.items()
        )
        session.flush()
        session.expire(application, ["pages"])
    else:
        application = start_assisted_application(session, round_, channel, None, staff, started)
        for page_id, answers in profile.answers.items():
            save_page(session, application, page_id, answers, started + timedelta(minutes=3))
            record_page_entered(session, application, page_id, staff, sent_at)
    submit_application(session, application, sent_at)
    if channel != "online":
        record_sent_by_staff(session, application, staff, sent_at)
    return application


def _sent_time(rng: random.Random, round_: Round) -> datetime:
    """Most applications arrive near the closing date (never in its first or last hour)."""
    window = (round_.closes_at - round_.opens_at).total_seconds() - 2 * 3600
    return round_.opens_at + timedelta(seconds=3600 + window * rng.betavariate(2.2, 1.0))


def _applications(
    session: Session, rng: random.Random, round_: Round, staff: User, count: int
) -> list[tuple[Application, Profile]]:
    taken: set[str] = set()
    result = []
    for index in range(count):
        profile = make_profile(rng, round_, index, taken)
        channel = pick(rng, {"online": 94, "phone": 3, "post": 2, "email": 1})
        application = _send(session, round_, profile, _sent_time(rng, round_), channel, staff)
        result.append((application, profile))
    return result


def _drafts(session: Session, rng: random.Random, round_: Round, count: int) -> int:
    """Drafts that were started and never sent (the list shows them as drafts)."""
    taken: set[str] = set()
    for index in range(count):
        profile = make_profile(rng, round_, 900 + index, taken)
        started = _sent_time(rng, round_)
        application, _token = start_application(session, round_, _ELIGIBILITY, started)
        for page_id in list(profile.answers)[: rng.randrange(1, 5)]:
            save_page(session, application, page_id, profile.answers[page_id], started)
    return count


OPEN_ROUND_DAYS_SO_FAR = 35
OPEN_ROUND_SENT = 36
OPEN_ROUND_DRAFTS = 14


def _open_round_so_far(
    session: Session, rng: random.Random, round_: Round, staff: User, now: datetime
) -> None:
    """Five weeks of the open round: applications sent and drafts in progress, none from
    Northern Ireland yet, so the reach page shows a quota (Northern Ireland at least 1) that
    cannot be met yet."""
    taken: set[str] = set()
    profiles: list[Profile] = []
    index = 2000
    while len(profiles) < OPEN_ROUND_SENT + OPEN_ROUND_DRAFTS:
        drawn = make_profile(rng, round_, index, taken)
        index += 1
        if drawn.answers["location"]["nation"] != "northern-ireland":
            profiles.append(drawn)
    window = (now - round_.opens_at).total_seconds() - 2 * 3600
    for drawn in profiles[:OPEN_ROUND_SENT]:
        sent_at = round_.opens_at + timedelta(seconds=3600 + window * rng.random())
        _send(session, round_, drawn, sent_at, "online", staff)
    for number, drawn in enumerate(profiles[OPEN_ROUND_SENT:]):
        started = round_.opens_at + timedelta(seconds=3600 + window * rng.random())
        application, _token = start_application(session, round_, _ELIGIBILITY, started)
        # Some drafts are complete (ready to send), the rest part-way through.
        pages = list(drawn.answers) if number % 3 == 0 else list(drawn.answers)[:4]
        for page_id in pages:
            save_page(session, application, page_id, drawn.answers[page_id], started)
    _mark_confirmations_sent(session, round_)


def _mark_confirmations_sent(session: Session, round_: Round) -> None:
    """The confirmation emails went out when the applications were sent, weeks ago: mark them
    sent, body blanked, as `flask send-mail` leaves them (else it would mail them all now)."""
    for application_id, submitted_at in session.execute(
        select(Application.id, Application.submitted_at).where(
            Application.round_id == round_.id, Application.submitted_at.is_not(None)
        )
    ):
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.application_id == application_id, OutboxMessage.sent_at.is_(None))
            .values(
                created_at=submitted_at,
                next_attempt_at=submitted_at,
                sent_at=submitted_at + timedelta(minutes=1),
                attempts=1,
                body="",
            )
        )
    session.flush()


_INELIGIBLE = (
    ("not-adult-social-care", "Children's services only; no adult social care work."),
    ("incomplete", "The four answers repeat the organisation's name and nothing else."),
    ("other", "A national body applying for every local branch at once."),
    ("not-adult-social-care", "A health service with no link to social care."),
)


def _screen(
    session: Session,
    rng: random.Random,
    round_: Round,
    sent: list[tuple[Application, Profile]],
    staff: User,
    at: datetime,
) -> tuple[int, int]:
    """One withdrawn, two sent twice (the copy merged), a few not eligible with a reason, the
    rest eligible. Returns (eligible, not eligible)."""
    picks = rng.sample(range(len(sent)), 3 + max(4, len(sent) // 30))
    withdraw_application(
        session,
        sent[picks[0]][0],
        "The organisation is closing the service in the spring.",
        staff,
        at,
    )
    for index in picks[1:3]:
        keep, profile = sent[index]
        assert keep.submitted_at is not None
        again = keep.submitted_at + timedelta(hours=3)
        last = round_.closes_at - timedelta(minutes=1)
        copy = _send(session, round_, profile, min(again, last), "online", staff)
        merge_applications(session, keep, copy, staff, at)
    for n, index in enumerate(picks[3:]):
        reason, note = _INELIGIBLE[n % len(_INELIGIBLE)]
        screen_application(session, sent[index][0], "ineligible", reason, note, staff, at)
    eligible = 0
    for application, _profile in sent:
        if application.status == "submitted" and application.screening == "unscreened":
            screen_application(session, application, "eligible", None, "", staff, at)
            eligible += 1
    return eligible, len(picks) - 3


def _active_assignments(session: Session, round_: Round) -> dict[int, list[int]]:
    """Application id -> reviewer ids, for assignments without a declared conflict."""
    conflicts = set(session.execute(select(Conflict.application_id, Conflict.reviewer_id)))
    result: dict[int, list[int]] = defaultdict(list)
    for application_id, reviewer_id in session.execute(
        select(Assignment.application_id, Assignment.reviewer_id)
        .join(Application, Application.id == Assignment.application_id)
        .where(Application.round_id == round_.id)
        .order_by(Assignment.application_id, Assignment.reviewer_id)
    ):
        if (application_id, reviewer_id) not in conflicts:
            result[application_id].append(reviewer_id)
    return result


def _assign(
    session: Session,
    rng: random.Random,
    round_: Round,
    staff: User,
    reviewers: list[User],
    demo_reviewer: User,
    at: datetime,
) -> None:
    """Two reviewers each, from another nation where possible; two conflicts declared and
    topped up by a second automatic assignment, as staff would."""
    auto_assign(
        session, round_, round_.reviews_required, prefer_other_nation=True, by=staff, now=at
    )
    by_id = {u.id: u for u in reviewers}
    pairs = [
        (application_id, reviewer_id)
        for application_id, ids in _active_assignments(session, round_).items()
        for reviewer_id in ids
        if reviewer_id != demo_reviewer.id
    ]
    for application_id, reviewer_id in rng.sample(pairs, 2):
        application = session.get(Application, application_id)
        assert application is not None
        declare_conflict(
            session,
            application,
            by_id[reviewer_id],
            "I was a trustee of this organisation until last year.",
            at + timedelta(days=1),
        )
    auto_assign(
        session,
        round_,
        round_.reviews_required,
        prefer_other_nation=True,
        by=staff,
        now=at + timedelta(days=2),
    )


def _clip(value: float) -> int:
    return min(5, max(1, round(value)))


def _comment(rng: random.Random, score: int) -> str:
    bucket = "low" if score <= 2 else ("mid" if score == 3 else "high")
    return rng.choice(REVIEW_COMMENTS[bucket])


def _feedback(
    application_id: int, reviewer_id: int, reviewer_ids: list[int], given: dict[str, int | None]
) -> dict[str, str]:
    """The first reviewer's feedback for the applicant on each scored criterion: chosen without
    the random generator, so the rest of the demo data stays as the seed makes it."""
    if reviewer_id != reviewer_ids[0]:
        return {}
    found = {}
    for i, (criterion, score) in enumerate(given.items()):
        if score:
            bucket = "low" if score <= 2 else ("mid" if score == 3 else "high")
            lines = APPLICANT_FEEDBACK[bucket]
            found[criterion] = lines[(application_id + i) % len(lines)]
    return found


def _reviews(
    session: Session,
    rng: random.Random,
    round_: Round,
    quality: dict[int, float],
    staff: User,
    demo_reviewer: User,
    start: datetime,
    now: datetime,
) -> tuple[int, int]:
    """Submitted reviews for every active assignment except a few of the demo reviewer's (one
    draft, the rest not started). Returns (submitted reviews, assignments left to the demo
    reviewer)."""
    active = _active_assignments(session, round_)
    severity = {r: rng.uniform(-0.15, 0.15) for ids in active.values() for r in ids}
    mine = [a for a, ids in active.items() if demo_reviewer.id in ids and len(ids) > 1]
    left = set(rng.sample(mine, min(LEFT_FOR_DEMO_REVIEWER, len(mine))))
    draft = min(left) if left else None
    disagree = set(rng.sample(sorted(set(active) - left), max(3, len(active) // 40)))
    span = max((now - timedelta(days=1) - start).total_seconds(), 60.0)
    applications = {
        a.id: a
        for a in session.scalars(select(Application).where(Application.id.in_(list(active))))
    }
    submitted = 0
    moderated = False
    for application_id, reviewer_ids in active.items():
        application = applications[application_id]
        offsets = {c.id: rng.gauss(0, 0.4) for c in RUBRIC}
        base = quality.get(application_id, 3.2)
        scores = {
            r: {
                c.id: _clip(base + offsets[c.id] + severity[r] + rng.gauss(0, 0.25)) for c in RUBRIC
            }
            for r in reviewer_ids
        }
        criterion = rng.choice(RUBRIC).id
        if application_id in disagree and len(reviewer_ids) > 1:
            first, second = reviewer_ids[:2]
            low = scores[first][criterion]
            scores[second][criterion] = low + 2 if low <= 3 else low - 2
        for reviewer_id in reviewer_ids:
            reviewer = session.get(User, reviewer_id)
            assert reviewer is not None
            given: dict[str, int | None] = dict(scores[reviewer_id])
            overall = _comment(rng, round(sum(scores[reviewer_id].values()) / len(RUBRIC)))
            when = start + timedelta(seconds=span * rng.random())
            is_left = reviewer_id == demo_reviewer.id and application_id in left
            if is_left and application_id != draft:
                continue
            if is_left:  # a draft: one score given so far
                given = {c: (s if c == RUBRIC[0].id else None) for c, s in given.items()}
                overall = ""
            save_review(
                session,
                application,
                reviewer,
                scores=given,
                comments={
                    c: _comment(rng, s) for c, s in given.items() if s and rng.random() < 0.5
                },
                overall_comment=overall,
                feedback=_feedback(application_id, reviewer_id, reviewer_ids, given),
                submit=not is_left,
                now=when,
            )
            submitted += 0 if is_left else 1
        if application_id in disagree and not moderated and application_id not in left:
            moderated = True
            values = [scores[r][criterion] for r in reviewer_ids]
            record_moderation(
                session,
                application,
                criterion,
                Decimal(sum(values)) / len(values),
                "Agreed at the moderation meeting after reading both reviews.",
                staff,
                now - timedelta(hours=12),
            )
    return submitted, len(left)
