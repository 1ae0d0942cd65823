"""Rounds: the call's configuration (option lists, word limits, texts) and finding the open one."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Round

LONDON = ZoneInfo("Europe/London")

ENGLISH_REGIONS: list[list[str]] = [
    ["north-east", "North East"],
    ["north-west", "North West"],
    ["yorkshire-humber", "Yorkshire and The Humber"],
    ["east-midlands", "East Midlands"],
    ["west-midlands", "West Midlands"],
    ["east", "East of England"],
    ["london", "London"],
    ["south-east", "South East"],
    ["south-west", "South West"],
]

# Every round starts from these settings; staff may change them per round.
DEFAULT_SETTINGS: dict[str, Any] = {
    "word_limit": 300,
    # Applicant pages offer a switch to Welsh (the translated parts: see README "Translations").
    "welsh_offered": False,
    # When unsent drafts are reminded: so many days before the deadline (`flask send-reminders`).
    "reminder_days": [7, 2],
    # Reviewers are asked to finish this many days after the round closes (the panel's worklist
    # shows the date); 4 weeks leaves time to moderate and decide within the 8 weeks promised.
    "reviewing_days": 28,
    "options": {
        "organisation_type": [
            ["care-provider", "Care provider"],
            ["community-voluntary", "Community or voluntary organisation"],
            ["social-enterprise", "Social enterprise"],
            ["public-body", "Local authority or public body"],
            ["other", "Other"],
        ],
        "led_by": [
            ["user-led", "User-led"],
            ["carer-led", "Carer-led"],
            ["both", "Both user-led and carer-led"],
            ["neither", "Neither"],
        ],
        "staff_band": [
            ["none", "None: run by volunteers"],
            ["1-9", "1 to 9"],
            ["10-49", "10 to 49"],
            ["50-249", "50 to 249"],
            ["250+", "250 or more"],
        ],
        "income_band": [
            ["under-10k", "Under £10,000"],
            ["10k-100k", "£10,000 to £100,000"],
            ["100k-1m", "£100,000 to £1 million"],
            ["1m-10m", "£1 million to £10 million"],
            ["over-10m", "Over £10 million"],
            ["no-accounts", "We do not have annual accounts"],
        ],
        "nation": [
            ["england", "England"],
            ["scotland", "Scotland"],
            ["wales", "Wales"],
            ["northern-ireland", "Northern Ireland"],
        ],
        "region": [*ENGLISH_REGIONS],
        "local_deprivation": [
            ["most-deprived", "Yes, most live in the most deprived areas"],
            ["not-most-deprived", "No"],
            ["not-sure", "Not sure"],
        ],
        "area_type": [
            ["urban", "Mostly urban"],
            ["mixed", "Mixed urban and rural"],
            ["rural", "Mostly rural"],
            ["remote", "Remote rural or island"],
        ],
        "topics": [
            ["prevention", "Prevention and well-being"],
            ["assets-based", "Assets-based and person-centred care"],
            ["carers", "Carers' health and well-being"],
            ["workforce", "Support for people who work in social care"],
            ["other", "Other"],
        ],
        "work_mode": [
            ["embedded", "Hosting an embedded facilitator who leads a change project"],
            ["network", "Joining a local network"],
            ["not-sure", "Not sure yet"],
        ],
        "prior_participation": [
            ["never", "Never"],
            ["once", "Once"],
            ["several", "Several times"],
        ],
        "pressures": [
            ["stable", "Stable"],
            ["stretched", "Stretched"],
            ["struggling", "Really struggling"],
        ],
        "preferred_contact": [
            ["email", "Email"],
            ["phone", "Phone"],
            ["post", "Post"],
        ],
    },
    "texts": {
        "who_for": (
            "Organisations in England, Scotland, Wales and Northern Ireland that provide or "
            "support adult social care: care providers, community and voluntary groups, user-led "
            "and carer-led organisations, social enterprises and public bodies. Small and rural "
            "organisations, and those under pressure, are especially welcome."
        ),
        "offer": (
            "Funding of up to £40,000 over 2 years to release staff time, an embedded facilitator "
            "who leads a change project with you, and a place in a network of organisations "
            "working on the same questions."
        ),
        "ask": (
            "A commitment to co-production with people who draw on care and support and with "
            "unpaid carers, and to sharing what you learn with other organisations."
        ),
        "time_needed": "about 45 minutes; you can save your answers and come back later",
        "next_steps": (
            "A panel that includes people who draw on care and carers will read every expression "
            "of interest. We will tell you the outcome within 8 weeks of the closing date."
        ),
        # How applications are judged and what taking part means (issue 22): shown on the start
        # page and the paper form; the number of sites is the round's own (sites_wanted).
        "how_chosen": (
            "The panel scores every expression of interest against the four questions. We then "
            "choose sites by combining the panel's scores with a mix of places and organisations, "
            "so that the sites together are spread across the UK and include different kinds of "
            "organisation."
        ),
        "decisions": (
            "We will tell every organisation the outcome within 8 weeks of the closing date, in "
            "the way you prefer us to contact you."
        ),
        "site_time": (
            "About 1 day a week of a staff member's time for 2 years, and time from people who "
            "draw on care and support and unpaid carers, which the funding pays for."
        ),
        "funding_paid": (
            "Funding is paid every 6 months in advance, the first payment when the agreement is "
            "signed. It can pay for backfill, so staff can take part without leaving gaps in "
            "care or support."
        ),
        "match_funding": "You do not need match funding or any money of your own to take part.",
        "network_route": (
            "If you join a local network instead of hosting a project, you meet organisations "
            "working on the same topics about every 2 months, share what works, and have your "
            "travel and time paid."
        ),
        # Shown to a service that answers "Not yet, but we want to" on co-production (issue 22).
        "co_production_support": (
            "You do not need experience of co-production to apply. If you are chosen, your "
            "facilitator will help you start: finding people who draw on care and support and "
            "unpaid carers to work with, training for your staff, and payment for everyone's "
            "time. You can also ask us for advice before you apply."
        ),
        "technology": (
            "Taking part never requires your organisation, or the people it supports, to use "
            "technology you do not want. We can meet in person, talk by phone or write by post "
            "instead."
        ),
    },
    # What the outcome letters quote: who applicants can contact, and by when things happen.
    # (Their default templates are templates/emails/outcome_*.txt; staff edit them per round.)
    "letter_settings": {
        "centre_contact_name": "Priya Shah",
        "next_steps_by": "within 4 weeks of this letter",
        "reserve_until": "6 months after the selected sites start",
    },
}


# Each quota dimension in plain words, for applicants: "the mix includes ...".
MIX_IN_WORDS: dict[str, str] = {
    "nation": "the four nations of the UK",
    "region": "the regions of England",
    "area_type": "urban, rural and remote areas",
    "size_band": "small and large organisations",
    "led_by": "user-led and carer-led organisations",
    "first_time": "organisations taking part for the first time",
    "pressures": "services under pressure",
    "local_deprivation": "organisations whose people mostly live in the most deprived areas",
}


def mix_in_words(round_: Round) -> list[str]:
    """The dimensions the round's quota table balances (staff choose them per round), in words."""
    dimensions = dict.fromkeys(str(row.get("dimension")) for row in round_.quotas or [])
    return [MIX_IN_WORDS[d] for d in dimensions if d in MIX_IN_WORDS]


def default_settings() -> dict[str, Any]:
    return copy.deepcopy(DEFAULT_SETTINGS)


def options(round_: Round, key: str) -> list[tuple[str, str]]:
    """The (value, label) choices for a question, from the round's configuration."""
    configured = round_.settings.get("options", {}).get(key)
    if configured is None:
        configured = DEFAULT_SETTINGS["options"][key]
    return [(str(value), str(label)) for value, label in configured]


def option_label(round_: Round, key: str, value: str) -> str:
    return dict(options(round_, key)).get(value, value)


def text(round_: Round, key: str) -> str:
    return str(round_.settings.get("texts", {}).get(key) or DEFAULT_SETTINGS["texts"][key])


def welsh_offered(round_: Round) -> bool:
    return bool(round_.settings.get("welsh_offered", DEFAULT_SETTINGS["welsh_offered"]))


def word_limit(round_: Round) -> int:
    return int(round_.settings.get("word_limit") or DEFAULT_SETTINGS["word_limit"])


def reminder_days(round_: Round) -> list[int]:
    """The round's reminder schedule: days before the deadline, most first, whole and positive."""
    configured = round_.settings.get("reminder_days")
    if not isinstance(configured, list):
        configured = DEFAULT_SETTINGS["reminder_days"]
    days = {int(d) for d in configured if isinstance(d, int) and not isinstance(d, bool) and d > 0}
    return sorted(days, reverse=True)


def reviewing_deadline(round_: Round) -> datetime:
    """When reviewers are asked to finish: the round's ``reviewing_days`` after it closes, at
    the same time of day as it closed."""
    return round_.closes_at + timedelta(days=reviewing_days(round_))


def reviewing_days(round_: Round) -> int:
    """How many days after closing reviewers are asked to finish (a round setting)."""
    return int(round_.settings.get("reviewing_days") or DEFAULT_SETTINGS["reviewing_days"])


def current_round(session: Session, now: datetime) -> Round | None:
    """The round open now; else the next to open; else the one that closed most recently."""
    open_now = session.scalars(
        select(Round).where(Round.opens_at <= now, Round.closes_at > now).order_by(Round.closes_at)
    ).first()
    if open_now is not None:
        return open_now
    upcoming = session.scalars(
        select(Round).where(Round.opens_at > now).order_by(Round.opens_at)
    ).first()
    if upcoming is not None:
        return upcoming
    return session.scalars(select(Round).order_by(Round.closes_at.desc())).first()


def create_round(
    session: Session,
    *,
    slug: str,
    title: str,
    opens_at: datetime,
    closes_at: datetime,
    sites_wanted: int = 12,
    settings: dict[str, Any] | None = None,
) -> Round:
    if closes_at <= opens_at:
        raise ValueError("a round must close after it opens")
    round_ = Round(
        slug=slug,
        title=title,
        opens_at=opens_at,
        closes_at=closes_at,
        sites_wanted=sites_wanted,
        settings=settings if settings is not None else default_settings(),
    )
    session.add(round_)
    session.flush()
    return round_


def demo_closing_time(now: datetime) -> datetime:
    """Noon, London time, 60 days from now: the demo round's closing time."""
    local = (now + timedelta(days=60)).astimezone(LONDON)
    return local.replace(hour=12, minute=0, second=0, microsecond=0)


def london(dt: datetime) -> datetime:
    return dt.astimezone(LONDON)


def format_london(dt: datetime) -> str:
    """'12pm on Tuesday 24 March 2027' in UK time, as GOV.UK writes times; on a Welsh page
    '12pm ar ddydd Mawrth 24 Mawrth 2027' (Babel's cy names of days and months)."""
    from .language import WELSH, select_locale

    if select_locale() == WELSH:
        return _format_london_welsh(dt)
    local = dt.astimezone(LONDON)
    hour = local.hour % 12 or 12
    if local.hour == 12 and local.minute == 0:
        clock = "midday"
    elif local.hour == 0 and local.minute == 0:
        clock = "midnight"
    else:
        minutes = f":{local.minute:02d}" if local.minute else ""
        clock = f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"
    return f"{clock} on {local.strftime('%A')} {local.day} {local.strftime('%B %Y')}"


def _format_london_welsh(dt: datetime) -> str:
    from babel.dates import format_date

    local = dt.astimezone(LONDON)
    if local.hour == 12 and local.minute == 0:
        clock = "hanner dydd"
    elif local.hour == 0 and local.minute == 0:
        clock = "hanner nos"
    else:
        minutes = f":{local.minute:02d}" if local.minute else ""
        clock = f"{local.hour % 12 or 12}{minutes}{'am' if local.hour < 12 else 'pm'}"
    # "Dydd Gwener 5 Chwefror 2027" after "ar" takes the soft mutation: "ar ddydd Gwener ...".
    day = format_date(local.date(), "EEEE d MMMM y", locale="cy")
    if day.startswith("Dydd "):
        day = "ddydd " + day[len("Dydd ") :]
    return f"{clock} ar {day}"


def format_day(day: date) -> str:
    """'24 March 2027', as GOV.UK writes dates."""
    return f"{day.day} {day.strftime('%B %Y')}"


def closing_day(round_: Round) -> date:
    """The day the round closes, in UK time."""
    return round_.closes_at.astimezone(LONDON).date()
