"""Fictional organisations and their answers for the demo data (app/demo.py): drawn from
``random.Random`` with the canned text and weights of ``demo_data.json``, so the same seed gives
the same organisations and answers."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from .models import Round
from .rounds import options

TEXT: dict[str, Any] = json.loads(
    files(__package__ or "app").joinpath("demo_data.json").read_text(encoding="utf-8")
)
_PLACE_PARTS: dict[str, list[list[str]]] = TEXT["place_parts"]
_ORGANISATION_NAMES: dict[str, list[str]] = TEXT["organisation_names"]
_OTHER_TYPES: dict[str, str] = TEXT["other_types"]
_FIRST_NAMES: list[str] = TEXT["first_names"]
_SURNAMES: list[str] = TEXT["surnames"]
_ROLES: list[str] = TEXT["roles"]
_DIFFERENCE: dict[str, str] = TEXT["difference"]
_DIFFERENCE_MORE: list[str] = TEXT["difference_more"]
_GROUPS: dict[str, list[str]] = TEXT["groups"]
_INEQUALITIES_MORE: list[str] = TEXT["inequalities_more"]
_RESOURCES: list[str] = TEXT["resources"]
_RESOURCES_MORE: list[str] = TEXT["resources_more"]
_EVIDENCE: list[str] = TEXT["evidence"]
_EVIDENCE_MORE: list[str] = TEXT["evidence_more"]
_PILOTS: list[str] = TEXT["pilots"]
_SPACES: list[str] = TEXT["spaces"]
_ADJUSTMENTS: list[str] = TEXT["adjustments"]
_TYPE_LED_BY: dict[str, dict[str, float]] = TEXT["led_by_by_type"]
_TYPE_STAFF: dict[str, dict[str, float]] = TEXT["staff_by_type"]
_STAFF_INCOME: dict[str, dict[str, float]] = TEXT["income_by_staff"]
_NATION_AREA: dict[str, dict[str, float]] = TEXT["area_by_nation"]
_REGIONS: dict[str, float] = TEXT["regions"]
REVIEW_COMMENTS: dict[str, list[str]] = TEXT["review_comments"]
APPLICANT_FEEDBACK: dict[str, list[str]] = TEXT["applicant_feedback"]


# The demo's kinds of organisation as the organisation type question stores them.
_STORED_TYPE = {"user-led": "community-voluntary", "carer-led": "community-voluntary"}


class DemoRefused(Exception):
    """The demo data must not be added here; the message says why."""


def pick(rng: random.Random, weights: Mapping[str, float]) -> str:
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
class Profile:
    """One fictional organisation and how strong its application is (for the review scores)."""

    answers: dict[str, dict[str, Any]]
    quality: float


def profile(rng: random.Random, round_: Round, index: int, taken: set[str]) -> Profile:
    """Answers to every page, as the journey's forms would store them (empty optional as None)."""
    nation = pick(rng, {"england": 70, "scotland": 12, "wales": 10, "northern-ireland": 8})
    region = pick(rng, _REGIONS) if nation == "england" else None
    area = "urban" if region == "london" else pick(rng, _NATION_AREA[nation])
    org_type = pick(
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
    led_by = pick(
        rng, _TYPE_LED_BY.get(org_type, {"neither": 17, "user-led": 1, "carer-led": 1, "both": 1})
    )
    staff_band = pick(rng, _TYPE_STAFF[org_type])
    place, template = _name(rng, nation, org_type, taken)
    topics = [v for v, _ in options(round_, "topics") if v != "other"]
    chosen = sorted(rng.sample(topics, rng.choice((1, 1, 2, 2, 3))), key=topics.index)
    topics_other = None
    if rng.random() < 0.06:
        chosen.append("other")
        topics_other = rng.choice(("Housing and care", "Digital inclusion", "End of life care"))
    prior = pick(rng, {"never": 45, "once": 35, "several": 20})
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

    def more(pool: Sequence[str], k: int) -> str:
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
            # User- and carer-led organisations are asked so once, in "led by": as a type they
            # are community or voluntary organisations.
            "organisation_type": [_STORED_TYPE.get(org_type, org_type)],
            "organisation_type_other": _OTHER_TYPES.get(template) if org_type == "other" else None,
            "registered_number": None,
        },
        "leadership": {
            "led_by": led_by,
            "staff_band": staff_band,
            "income_band": pick(rng, _STAFF_INCOME[staff_band]),
        },
        "location": {
            "nation": nation,
            "postcode": None,
            "area_type": area,
            "local_deprivation": pick(
                rng, {"most-deprived": 3, "not-most-deprived": 5, "not-sure": 2, "": 1}
            )
            or None,
        },
        "topics": {
            "topics": chosen,
            "topics_other": topics_other,
            "work_mode": pick(rng, {"embedded": 6, "network": 3, "not-sure": 1}),
        },
        "experience": {
            "prior_participation": prior,
            "pressures": pick(rng, {"stable": 3, "stretched": 5, "struggling": 2, "": 1}) or None,
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
            "preferred_contact": pick(rng, {"email": 7, "phone": 2, "post": 1}),
            "adjustments": rng.choice(_ADJUSTMENTS) if rng.random() < 0.1 else None,
        },
    }
    if region is not None:
        answers["region"] = {"region": region}
    # Each way of being contacted with its details (no further random draws: the rest of the
    # demo stays as it was). Those who prefer post get their letters in the print queue.
    contact = answers["contact"]
    if contact["preferred_contact"] == "phone" and not contact["phone"]:
        contact["phone"] = f"07700 900{index % 1000:03d}"
    post = contact["preferred_contact"] == "post"
    contact.update(
        address_line_1=f"{index % 90 + 1} Station Road" if post else None,
        address_line_2=None,
        address_town="Leeds" if post else None,
        address_postcode=f"LS{index % 9 + 1} {index % 9 + 1}AB" if post else None,
    )
    # Smaller and rural organisations score a little lower on average: less time to write.
    quality = rng.gauss(3.3, 0.6)
    if staff_band in ("none", "1-9"):
        quality -= 0.3
    if area in ("rural", "remote"):
        quality -= 0.2
    return Profile(answers, quality)
