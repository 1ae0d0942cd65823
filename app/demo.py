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
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Config
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .applications.questions import ELIGIBILITY
from .applications.services import save_page, start_application, submit_application
from .auth.passwords import password_problem
from .auth.services import create_user
from .models import AnswerPage, Application, Assignment, Conflict, OutboxMessage, Round, User
from .panel.rubric import RUBRIC
from .panel.services import declare_conflict, save_review
from .rounds import LONDON, create_round, demo_closing_time, options
from .staff.assignment_services import auto_assign, record_moderation
from .staff.services import (
    check_quota_rows,
    merge_applications,
    record_page_entered,
    record_sent_by_staff,
    save_quotas,
    screen_application,
    start_assisted_application,
    withdraw_application,
)

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


class DemoRefused(Exception):
    """The demo data must not be added here; the message says why."""


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


# --- Fictional names ----------------------------------------------------------------------------

_PLACE_PARTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "england": (
        ("Ash", "Thorn", "Brack", "Mill", "Hollow", "Fern", "Elm", "Hart", "Marl", "Rook", "Wyn"),
        ("ford", "ley", "bury", "wick", "stead", "combe", "ham", "field", "thorpe", "worth"),
    ),
    "scotland": (
        ("Glen", "Kil", "Strath", "Inver", "Auch", "Bal", "Dun", "Kin"),
        ("morrow", "brae", "linnie", "carran", "duie", "achan", "ellan", "torran"),
    ),
    "wales": (
        ("Llan", "Aber", "Cwm", "Pen", "Tre", "Bryn", "Nant", "Pont"),
        ("derwen", "gwynant", "afonydd", "celynen", "maesog", "dulais", "eithin", "rhedyn"),
    ),
    "northern-ireland": (
        ("Bally", "Derry", "Drum", "Lis", "Carrick", "Knock", "Tully"),
        ("keeran", "naghan", "morran", "bragh", "fergal", "lurgan", "cashel"),
    ),
}

_ORGANISATION_NAMES: dict[str, tuple[str, ...]] = {
    "care-provider": (
        "{place} Home Care",
        "{place} Supported Living",
        "{place} Care Partnership",
        "{place} House Residential Care",
        "{place} Enablement Service",
    ),
    "community-voluntary": (
        "{place} Community Association",
        "Friends of {place} Day Centre",
        "{place} Good Neighbours",
        "{place} Age Well Group",
        "{place} Lunch Club and Befriending",
    ),
    "user-led": (
        "{place} Disabled People's Forum",
        "{place} People First",
        "{place} Independent Living Network",
        "{place} Mental Health Voices",
    ),
    "carer-led": (
        "{place} Carers' Network",
        "{place} Carers Together",
        "{place} Young Adult Carers",
        "{place} Dementia Carers' Circle",
    ),
    "social-enterprise": (
        "{place} Care Cooperative",
        "{place} Wellbeing CIC",
        "{place} Community Catering CIC",
    ),
    "public-body": (
        "{place} Council Adult Social Care",
        "{place} Health and Social Care Partnership",
    ),
    "other": (
        "{place} Housing Association",
        "{place} Interfaith Forum",
    ),
}
_OTHER_TYPES = {
    "{place} Housing Association": "Housing association",
    "{place} Interfaith Forum": "Faith-based network",
}

_FIRST_NAMES = (
    "Amira", "Ben", "Catrin", "Dev", "Eilidh", "Fergus", "Grace", "Hamza", "Iona", "Jack",
    "Kiran", "Lowri", "Mairead", "Niall", "Olu", "Priya", "Rhys", "Saoirse", "Tomasz", "Una",
    "Wen", "Yusuf", "Zoe", "Aled", "Bronagh", "Chloe", "Declan", "Esther", "Farah", "Hollie",
)  # fmt: skip
_SURNAMES = (
    "Adeyemi", "Bell", "Campbell", "Davies", "Evans", "Fraser", "Gallagher", "Hughes", "Iqbal",
    "Jones", "Kaur", "Lewis", "McAllister", "Nowak", "O'Neill", "Patel", "Quinn", "Reid",
    "Stewart", "Thomas", "Walsh", "Williams", "Young", "Begum", "Morgan", "Okafor",
)  # fmt: skip
_ROLES = (
    "Chief executive",
    "Manager",
    "Service manager",
    "Coordinator",
    "Development worker",
    "Chair of trustees",
    "Registered manager",
    "Volunteer coordinator",
    "Operations director",
)

# --- Answers to the four questions ---------------------------------------------------------------

_DIFFERENCE = {
    "prevention": (
        "Older people living alone in {place} would get help earlier, before a fall or a "
        "hospital stay turns into a crisis."
    ),
    "assets-based": (
        "People who draw on care in {place} would plan their support around what matters to "
        "them, using the groups, skills and places already in their community."
    ),
    "carers": (
        "Unpaid carers in {place} would get short breaks and someone to talk to, so they can "
        "keep caring without harming their own health."
    ),
    "workforce": (
        "Care workers in {place} would have protected time to learn and to shape how support "
        "is organised, which should help us keep good staff."
    ),
    "other": (
        "People in {place} who fall between health, housing and care services would have one "
        "person to go to."
    ),
}
_DIFFERENCE_MORE = (
    "We would design the work with the people it is for from the first meeting.",
    "Last winter {n} people told us they had nobody to ask until things went wrong.",
    "Success would mean fewer emergency calls and more people saying they have a say in "
    "their care.",
    "The change would outlast the project because volunteers and staff would keep running it.",
    "Families have asked us for this for years and the local authority supports the idea.",
)
_GROUPS = {
    "england": (
        "people on low incomes",
        "people from Black and minority ethnic communities",
        "Deaf people who use British Sign Language",
        "older LGBT+ people",
        "Gypsy, Roma and Traveller families",
    ),
    "scotland": (
        "Gaelic speakers on the islands",
        "people in villages with no bus service",
        "people on low incomes",
        "older men caring for a partner",
    ),
    "wales": (
        "Welsh speakers who want support in Welsh",
        "people in former mining villages",
        "people on low incomes",
        "young adult carers",
    ),
    "northern-ireland": (
        "people in rural townlands far from services",
        "older men caring for a partner",
        "people on low incomes",
        "people with learning disabilities",
    ),
}
_INEQUALITIES_MORE = (
    "They are less likely to be offered an assessment and more likely to reach us in crisis.",
    "Our own records show they make up {pct} per cent of the people we support, far below "
    "their share of the local population.",
    "We would reach them through the groups they already trust rather than expect them to "
    "come to us.",
    "Two members of our steering group have lived experience of this and would lead the outreach.",
)
_RESOURCES = (
    "We could commit {staff} for {days} a week, {volunteers} volunteers and a room in our "
    "{space} at no cost.",
    "We would release {staff} for {days} a week and share transport with a neighbouring "
    "organisation.",
    "Our {space} is free on weekday mornings, and {volunteers} volunteers have offered to help.",
)
_RESOURCES_MORE = (
    "The funding would pay for backfill so that frontline staff can take part.",
    "We already have a small grant for refreshments and travel costs for people with lived "
    "experience.",
    "We would keep the meetings going after the project with our own budget.",
    "A local college has offered two student placements each year.",
)
_EVIDENCE = (
    "Last year we ran a {pilot} with {n} people and wrote up what changed.",
    "We have supported around {n} people a year for {years} years and keep careful records.",
    "Our {pilot} was evaluated by a university partner, who found it reduced isolation.",
)
_EVIDENCE_MORE = (
    "People who used it told us they felt listened to for the first time.",
    "We have a track record of delivering projects on time and within budget.",
    "We collect feedback after every session and change what we do because of it.",
    "This would be our first project of this kind, but our team has done similar work elsewhere.",
)
_PILOTS = ("peer support pilot", "befriending scheme", "carers' café", "hospital discharge pilot")
_SPACES = ("community hub", "day centre", "church hall", "office", "community café")
_ADJUSTMENTS = (
    "Large print papers, please.",
    "Meetings after 10am because of my caring responsibilities.",
    "A British Sign Language interpreter for meetings.",
    "Step-free access to any meeting venue.",
)
_REVIEW_COMMENTS = {
    "low": (
        "Not enough detail to judge.",
        "Hard to see who would benefit.",
        "The plan is vague on this point.",
    ),
    "mid": (
        "A reasonable case, with some gaps.",
        "Plausible, but how it would happen is not clear.",
        "Some good points; would like more detail.",
    ),
    "high": (
        "A clear and specific case.",
        "Convincing, and built with the people affected.",
        "Strong and well evidenced.",
    ),
}


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
        opens_at=now - timedelta(minutes=1),
        closes_at=demo_closing_time(now),
    )
    session.flush()
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


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _name(rng: random.Random, nation: str, org_type: str, taken: set[str]) -> tuple[str, str]:
    """(place, name template): an organisation name not used yet in this round."""
    first, second = _PLACE_PARTS[nation]
    for attempt in range(1000):
        place = rng.choice(first) + rng.choice(second)
        if attempt >= 50:  # many applications: a part of town makes the name unique
            place += " " + rng.choice(("North", "South", "East", "West", "Central", "Upper"))
        template = rng.choice(_ORGANISATION_NAMES[org_type])
        if template.format(place=place) not in taken:
            taken.add(template.format(place=place))
            return place, template
    raise DemoRefused("Too many applications for the demo's fictional names.")


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class _Profile:
    """One fictional organisation and how strong its application is (for the review scores)."""

    answers: dict[str, dict[str, Any]]
    quality: float


_TYPE_LED_BY: dict[str, dict[str, float]] = {
    "user-led": {"user-led": 8, "both": 2},
    "carer-led": {"carer-led": 8, "both": 2},
}
_TYPE_STAFF: dict[str, dict[str, float]] = {
    "care-provider": {"10-49": 4, "50-249": 4, "250+": 2},
    "community-voluntary": {"none": 3, "1-9": 5, "10-49": 2},
    "user-led": {"none": 3, "1-9": 6, "10-49": 1},
    "carer-led": {"none": 2, "1-9": 6, "10-49": 2},
    "social-enterprise": {"1-9": 5, "10-49": 4, "50-249": 1},
    "public-body": {"50-249": 3, "250+": 7},
    "other": {"1-9": 3, "10-49": 4, "50-249": 3},
}
_STAFF_INCOME: dict[str, dict[str, float]] = {
    "none": {"under-10k": 6, "no-accounts": 4},
    "1-9": {"10k-100k": 6, "100k-1m": 4},
    "10-49": {"100k-1m": 6, "1m-10m": 4},
    "50-249": {"1m-10m": 9, "over-10m": 1},
    "250+": {"1m-10m": 3, "over-10m": 7},
}
_NATION_AREA: dict[str, dict[str, float]] = {
    "england": {"urban": 5, "mixed": 3, "rural": 2, "remote": 0.3},
    "scotland": {"urban": 3, "mixed": 2, "rural": 3, "remote": 2},
    "wales": {"urban": 2, "mixed": 3, "rural": 4, "remote": 1},
    "northern-ireland": {"urban": 3, "mixed": 3, "rural": 4, "remote": 0.5},
}
_REGIONS = {
    "north-east": 6,
    "north-west": 14,
    "yorkshire-humber": 11,
    "east-midlands": 9,
    "west-midlands": 11,
    "east": 10,
    "london": 16,
    "south-east": 14,
    "south-west": 9,
}


def _profile(rng: random.Random, round_: Round, index: int, taken: set[str]) -> _Profile:
    """Answers to every page, as the journey's forms would store them (empty optional as None)."""
    nation = _pick(rng, {"england": 70, "scotland": 12, "wales": 10, "northern-ireland": 8})
    region = _pick(rng, _REGIONS) if nation == "england" else None
    area = "urban" if region == "london" else _pick(rng, _NATION_AREA[nation])
    org_type = _pick(
        rng,
        {
            "care-provider": 22,
            "community-voluntary": 25,
            "user-led": 12,
            "carer-led": 12,
            "social-enterprise": 12,
            "public-body": 9,
            "other": 8,
        },
    )
    led_by = _pick(
        rng, _TYPE_LED_BY.get(org_type, {"neither": 17, "user-led": 1, "carer-led": 1, "both": 1})
    )
    staff_band = _pick(rng, _TYPE_STAFF[org_type])
    place, template = _name(rng, nation, org_type, taken)
    topics = [v for v, _ in options(round_, "topics") if v != "other"]
    chosen = sorted(rng.sample(topics, rng.choice((1, 1, 2, 2, 3))), key=topics.index)
    topics_other = None
    if rng.random() < 0.06:
        chosen.append("other")
        topics_other = rng.choice(("Housing and care", "Digital inclusion", "End of life care"))
    prior = _pick(rng, {"never": 45, "once": 35, "several": 20})
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_SURNAMES)
    domain = re.sub(r"[^a-z]", "", place.lower())
    local = re.sub(r"[^a-z]", "", first.lower()) + "." + re.sub(r"[^a-z]", "", last.lower())
    fill = {
        "place": place,
        "n": rng.randrange(12, 240),
        "pct": rng.randrange(3, 12),
        "staff": rng.choice(("one coordinator", "two coordinators", "our manager", "two staff")),
        "days": rng.choice(("one day", "two days", "half a day")),
        "volunteers": rng.randrange(2, 25),
        "space": rng.choice(_SPACES),
        "pilot": rng.choice(_PILOTS),
        "years": rng.randrange(2, 30),
    }
    groups = _GROUPS[nation]
    first_group, second_group = rng.sample(groups, 2)

    def more(pool: tuple[str, ...], k: int) -> str:
        return " ".join(rng.sample(pool, k))

    difference = _DIFFERENCE[chosen[0]] + " " + more(_DIFFERENCE_MORE, rng.randrange(1, 4))
    inequalities = (
        f"{first_group[:1].upper()}{first_group[1:]} and {second_group} are less well served "
        f"in {place} now. " + more(_INEQUALITIES_MORE, rng.randrange(1, 4))
    )
    resources = rng.choice(_RESOURCES) + " " + more(_RESOURCES_MORE, rng.randrange(1, 3))
    evidence = rng.choice(_EVIDENCE) + " " + more(_EVIDENCE_MORE, rng.randrange(1, 3))
    answers: dict[str, dict[str, Any]] = {
        "organisation": {
            "organisation_name": template.format(place=place),
            "organisation_type": org_type,
            "organisation_type_other": _OTHER_TYPES.get(template) if org_type == "other" else None,
            "registered_number": None,
        },
        "leadership": {
            "led_by": led_by,
            "staff_band": staff_band,
            "income_band": _pick(rng, _STAFF_INCOME[staff_band]),
        },
        "location": {
            "nation": nation,
            "postcode": None,
            "area_type": area,
            "local_deprivation": _pick(
                rng, {"most-deprived": 3, "not-most-deprived": 5, "not-sure": 2, "": 1}
            )
            or None,
        },
        "topics": {
            "topics": chosen,
            "topics_other": topics_other,
            "work_mode": _pick(rng, {"embedded": 6, "network": 3, "not-sure": 1}),
        },
        "experience": {
            "prior_participation": prior,
            "pressures": _pick(rng, {"stable": 3, "stretched": 5, "struggling": 2, "": 1}) or None,
        },
        "difference": {"difference": _words(difference.format(**fill))},
        "inequalities": {"inequalities": _words(inequalities.format(**fill))},
        "resources": {"resources": _words(resources.format(**fill))},
        "evidence": {"evidence": _words(evidence.format(**fill))},
        "contact": {
            "contact_name": f"{first} {last}",
            "contact_role": rng.choice(_ROLES),
            "email": f"{local}@{domain}.example.org",
            "phone": f"07700 900{index % 1000:03d}" if rng.random() < 0.8 else None,
            "preferred_contact": _pick(rng, {"email": 7, "phone": 2, "post": 1}),
            "adjustments": rng.choice(_ADJUSTMENTS) if rng.random() < 0.1 else None,
        },
    }
    if region is not None:
        answers["region"] = {"region": region}
    # Smaller and rural organisations score a little lower on average: less time to write.
    quality = rng.gauss(3.3, 0.6)
    if staff_band in ("none", "1-9"):
        quality -= 0.3
    if area in ("rural", "remote"):
        quality -= 0.2
    return _Profile(answers, quality)


_ELIGIBILITY = {q.id: "yes" for q in ELIGIBILITY}


def _send(
    session: Session,
    round_: Round,
    profile: _Profile,
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
        application = start_assisted_application(session, round_, channel, staff, started)
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
) -> list[tuple[Application, _Profile]]:
    taken: set[str] = set()
    result = []
    for index in range(count):
        profile = _profile(rng, round_, index, taken)
        channel = _pick(rng, {"online": 94, "phone": 3, "post": 2, "email": 1})
        application = _send(session, round_, profile, _sent_time(rng, round_), channel, staff)
        result.append((application, profile))
    return result


def _drafts(session: Session, rng: random.Random, round_: Round, count: int) -> int:
    """Drafts that were started and never sent (the list shows them as drafts)."""
    taken: set[str] = set()
    for index in range(count):
        profile = _profile(rng, round_, 900 + index, taken)
        started = _sent_time(rng, round_)
        application, _token = start_application(session, round_, _ELIGIBILITY, started)
        for page_id in list(profile.answers)[: rng.randrange(1, 5)]:
            save_page(session, application, page_id, profile.answers[page_id], started)
    return count


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
    sent: list[tuple[Application, _Profile]],
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
    return rng.choice(_REVIEW_COMMENTS[bucket])


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
