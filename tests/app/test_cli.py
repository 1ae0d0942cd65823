"""The flask commands that set up rounds: seed-demo (used by `make run`) and create-round."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from click.testing import Result
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Round, utcnow
from app.rounds import current_round, options, word_limit

LONDON = ZoneInfo("Europe/London")


def flask(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def rounds() -> list[Round]:
    db.session.rollback()
    return list(db.session.scalars(select(Round).order_by(Round.id)))


def test_seed_demo_creates_one_open_round_closing_at_midday_in_60_days(app: Flask) -> None:
    before = datetime.now(UTC)
    # The fewest applications the demo takes: the open round does not depend on them.
    result = flask(app, "seed-demo", "--if-empty", "--applications", "60")
    assert result.exit_code == 0, result.output

    now = utcnow()
    [round_] = [r for r in rounds() if r.closes_at > now]  # the other is under review, closed
    assert round_.opens_at <= before <= now < round_.closes_at  # open now
    assert current_round(db.session, now) == round_

    closes = round_.closes_at.astimezone(LONDON)
    assert closes.time() == time(12, 0)  # midday on the London clock, summer or winter
    # 60 days ahead, counted on the London calendar (either way round a clock change).
    expected_days = {
        (before + timedelta(days=60)).astimezone(LONDON).date(),
        (before.astimezone(LONDON) + timedelta(days=60)).date(),
    }
    assert closes.date() in expected_days
    assert "midday" in result.output


def test_seed_demo_if_empty_adds_nothing_the_second_time(app: Flask) -> None:
    assert flask(app, "seed-demo", "--if-empty", "--applications", "60").exit_code == 0
    first_ids = [round_.id for round_ in rounds()]

    result = flask(app, "seed-demo", "--if-empty", "--applications", "60")
    assert result.exit_code == 0, result.output
    assert [round_.id for round_ in rounds()] == first_ids


def create_round(app: Flask, opens: str, closes: str, slug: str = "spring-2027") -> Result:
    return flask(
        app,
        "create-round",
        "--slug",
        slug,
        "--title",
        "Partner sites 2027",
        "--opens",
        opens,
        "--closes",
        closes,
    )


def test_create_round_refuses_a_round_that_closes_before_it_opens(app: Flask) -> None:
    for closes in ("2027-01-01T09:00", "2027-01-10T09:00"):  # before, and at the same moment
        result = create_round(app, "2027-01-10T09:00", closes)
        assert result.exit_code != 0
        assert "must close after it opens" in result.output
    assert rounds() == []


def test_create_round_refuses_dates_it_cannot_read(app: Flask) -> None:
    for opens, closes in (
        ("next Tuesday", "2027-03-24T12:00"),
        ("2027-01-10T09:00", "24/03/2027 noon"),
        ("2027-02-30T09:00", "2027-03-24T12:00"),
    ):
        result = create_round(app, opens, closes)
        assert result.exit_code != 0, (opens, closes)
        assert "use the form 2027-03-24T12:00" in result.output
        assert "Traceback" not in result.output
    assert rounds() == []


def test_create_round_creates_a_round_with_the_default_options(app: Flask) -> None:
    # UK time: 10 January is GMT (UTC+0); 24 June is BST (UTC+1).
    result = create_round(app, "2027-01-10T09:00", "2027-06-24T12:00")
    assert result.exit_code == 0, result.output
    assert "spring-2027" in result.output

    [round_] = rounds()
    assert round_.slug == "spring-2027"
    assert round_.title == "Partner sites 2027"
    assert round_.opens_at == datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
    assert round_.closes_at == datetime(2027, 6, 24, 11, 0, tzinfo=UTC)

    # The option lists of the issue, held in the round's configuration.
    assert "options" in round_.settings
    labels = {key: [label.lower() for _, label in options(round_, key)] for key in SPEC_OPTIONS}
    for key, expected in SPEC_OPTIONS.items():
        assert len(labels[key]) == len(expected), (key, labels[key])
        for label, phrase in zip(labels[key], expected, strict=True):
            assert phrase in label, (key, label, phrase)
    assert word_limit(round_) == 300

    again = create_round(app, "2027-01-10T09:00", "2027-06-24T12:00")
    assert again.exit_code != 0
    assert "exists already" in again.output
    assert len(rounds()) == 1


# From issue 2, in the order it lists them (a phrase each label must contain).
SPEC_OPTIONS: dict[str, list[str]] = {
    "organisation_type": [
        "care provider",
        "community or voluntary",
        "social enterprise",
        "local authority or public body",
        "other",
    ],
    "led_by": ["user-led", "carer-led", "both", "neither"],
    "staff_band": ["none", "1", "10", "50", "250 or more"],
    "income_band": ["under £10", "£10", "£100", "£1", "over £10", "do not have annual accounts"],
    "nation": ["england", "scotland", "wales", "northern ireland"],
    # The nine English ITL1 regions; with the other three nations, the 12 ITL1 regions.
    "region": [
        "north east",
        "north west",
        "yorkshire and the humber",
        "east midlands",
        "west midlands",
        "east of england",
        "london",
        "south east",
        "south west",
    ],
    "area_type": ["mostly urban", "mixed", "mostly rural", "remote rural or island"],
    "topics": [
        "prevention and well-being",
        "assets-based and person-centred care",
        "carers' health and well-being",
        "support for people who work in social care",
        "other",
    ],
    "work_mode": ["embedded facilitator", "local network", "not sure yet"],
    "prior_participation": ["never", "once", "several times"],
    "pressures": ["stable", "stretched", "really struggling"],
    "preferred_contact": ["email", "phone", "post"],
}
