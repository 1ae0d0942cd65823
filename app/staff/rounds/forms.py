"""Forms for a round's settings (dates and times typed as people write them, weights, texts)
and its quota upload."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import Field, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from selection import CRITERIA

from ...applications.rubric import RUBRIC, SCORES, rubric
from ...dates import parse_date, parse_time
from ...forms import CheckboxesField, text_area, text_field
from ...labels import CRITERION_LABELS, TEXT_LABELS
from ...models import Round
from ...rounds import LONDON, london, reminder_days, reviewing_days, text, welsh_offered
from .letters import BODY_MAX, LETTER_SETTING_LABELS, SUBJECT_MAX
from .services import TEXT_KEYS, round_weights

# --- Round settings -------------------------------------------------------------------------


def _date_field(label: str, what: str) -> StringField:
    message = f"Enter the {what} date as day/month/year, like 24/3/2027"

    def valid(form: FlaskForm, field: Field) -> None:
        if field.data and parse_date(field.data) is None:
            raise ValidationError(message)

    return text_field(
        label, 20, too_long=message, required=f"Enter the {what} date", checks=[valid]
    )


def _time_field(label: str, what: str) -> StringField:
    def valid(form: FlaskForm, field: Field) -> None:
        if field.data and parse_time(field.data) is None:
            raise ValidationError(
                f"Enter the {what} time on the 24-hour clock, like 09:00 or 14:30"
            )

    message = f"Enter the {what} time on the 24-hour clock, like 14:30"
    return text_field(
        label, 10, too_long=message, required=f"Enter the {what} time", checks=[valid]
    )


def number(text_value: str | None) -> float | None:
    try:
        value = float((text_value or "").strip())
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def whole_number(text_value: str | None) -> int | None:
    value = (text_value or "").strip()
    return int(value) if value.isdecimal() and len(value) < 7 else None


def _whole_field(
    label: str, what: str, low: int, high: int, *, required: bool = True
) -> StringField:
    message = f"Enter {what} as a whole number from {low} to {high}"

    def valid(form: FlaskForm, field: Field) -> None:
        value = whole_number(field.data)
        if field.data and (value is None or not low <= value <= high):
            raise ValidationError(message)

    return text_field(
        label, 10, too_long=message, required=f"Enter {what}" if required else None, checks=[valid]
    )


def _weight_field(criterion: str) -> StringField:
    label = CRITERION_LABELS[criterion]
    message = f"Enter the weight for {label} as a number more than 0, like 1 or 1.5"

    def valid(form: FlaskForm, field: Field) -> None:
        value = number(field.data)
        if field.data and (value is None or value <= 0 or value > 1000):
            raise ValidationError(message)

    required = f"Enter the weight for {label}"
    return text_field(f"{label} weight", 20, too_long=message, required=required, checks=[valid])


BAND_MESSAGE = (
    "Enter the lottery band as a number of points from 0 to 100, like 0.25, or leave it blank "
    "for no lottery"
)


def _valid_band(form: FlaskForm, field: Field) -> None:
    value = number(field.data)
    if field.data and (value is None or value < 0 or value > 100):
        raise ValidationError(BAND_MESSAGE)


REMINDER_MESSAGE = (
    "Enter the days before the deadline as whole numbers from 1 to 90 separated by commas, "
    "like 7, 2, or leave it blank for no reminders"
)


def reminder_days_of(text_value: str | None) -> list[int] | None:
    """The days before the deadline typed as "7, 2" (commas or spaces), most first; None if any
    part is not a whole number from 1 to 90."""
    parts = [p for p in re.split(r"[,\s]+", text_value or "") if p]
    days = [whole_number(p) for p in parts]
    if len(parts) > 10 or any(d is None or not 1 <= d <= 90 for d in days):
        return None
    return sorted({d for d in days if d is not None}, reverse=True)


def _valid_reminder_days(form: FlaskForm, field: Field) -> None:
    if field.data and reminder_days_of(field.data) is None:
        raise ValidationError(REMINDER_MESSAGE)


def _text_field(key: str) -> StringField:
    label = TEXT_LABELS[key]
    return text_area(label, 3000, called=f"‘{label}’", required=f"Enter the text for ‘{label}’")


class RoundSettingsForm(FlaskForm):
    title = text_field("Title", 200, called="The title", required="Enter the round's title")
    text_who_for = _text_field("who_for")
    text_offer = _text_field("offer")
    text_ask = _text_field("ask")
    text_time_needed = _text_field("time_needed")
    text_next_steps = _text_field("next_steps")
    text_how_chosen = _text_field("how_chosen")
    text_decisions = _text_field("decisions")
    text_site_time = _text_field("site_time")
    text_funding_paid = _text_field("funding_paid")
    text_match_funding = _text_field("match_funding")
    text_network_route = _text_field("network_route")
    text_technology = _text_field("technology")
    text_co_production_support = _text_field("co_production_support")
    opens_date = _date_field("Opening date", "opening")
    opens_time = _time_field("Opening time (UK time)", "opening")
    closes_date = _date_field("Closing date", "closing")
    closes_time = _time_field("Closing time (UK time)", "closing")
    sites_wanted = _whole_field("Number of sites wanted", "the number of sites", 1, 1000)
    weight_difference = _weight_field("difference")
    weight_inequalities = _weight_field("inequalities")
    weight_resources = _weight_field("resources")
    weight_evidence = _weight_field("evidence")
    reviews_required = _whole_field(
        "Reviews needed for each application", "the number of reviews", 1, 20
    )
    reviewing_days = _whole_field(
        "Days reviewers have after the round closes (optional)",
        "the days for reviewing",
        1,
        365,
        required=False,
    )
    lottery_band = text_field(
        "Lottery band (optional)", 20, too_long=BAND_MESSAGE, checks=[_valid_band]
    )
    reminder_days = text_field(
        "Remind unsent drafts this many days before the deadline (optional)",
        60,
        too_long=REMINDER_MESSAGE,
        checks=[_valid_reminder_days],
    )

    welsh_offered = CheckboxesField(
        "Welsh",
        choices=[SelectChoice("yes", "Offer the form in Welsh")],
        invalid_message="Tick the box to offer the form in Welsh, or leave it empty",
    )

    def validate_closes_time(self, field: Field) -> None:
        opens, closes = self.opens_at(), self.closes_at()
        if opens is not None and closes is not None and closes <= opens:
            raise ValidationError("The closing time must be after the opening time")

    def _at(self, day: str | None, clock: str | None) -> datetime | None:
        d, t = parse_date(day or ""), parse_time(clock or "")
        if d is None or t is None:
            return None
        return datetime.combine(d, t, tzinfo=LONDON)

    def opens_at(self) -> datetime | None:
        return self._at(self.opens_date.data, self.opens_time.data)

    def closes_at(self) -> datetime | None:
        return self._at(self.closes_date.data, self.closes_time.data)

    def weights(self) -> dict[str, float]:
        return {c: float(number(self[f"weight_{c}"].data) or 0) for c in CRITERIA}

    def texts(self) -> dict[str, str]:
        return {key: self[f"text_{key}"].data for key in TEXT_KEYS}


def settings_data(round_: Round) -> dict[str, Any]:
    """The form's starting values from the round (times in UK time)."""
    opens, closes = london(round_.opens_at), london(round_.closes_at)
    data: dict[str, Any] = {
        "title": round_.title,
        "opens_date": f"{opens.day}/{opens.month}/{opens.year}",
        "opens_time": opens.strftime("%H:%M"),
        "closes_date": f"{closes.day}/{closes.month}/{closes.year}",
        "closes_time": closes.strftime("%H:%M"),
        "sites_wanted": str(round_.sites_wanted),
        "reviews_required": str(round_.reviews_required),
        "reviewing_days": str(reviewing_days(round_)),
        "lottery_band": "" if round_.lottery_band is None else f"{round_.lottery_band:g}",
        "reminder_days": ", ".join(str(d) for d in reminder_days(round_)),
        "welsh_offered": ["yes"] if welsh_offered(round_) else [],
    }
    for criterion, weight in round_weights(round_).items():
        data[f"weight_{criterion}"] = f"{weight:g}"
    for key in TEXT_KEYS:
        data[f"text_{key}"] = text(round_, key)
    return data


class QuotaUploadForm(FlaskForm):
    file = FileField("Upload a quota table (CSV file)")


# --- Outcome letters ------------------------------------------------------------------------


class LetterForm(FlaskForm):
    """A decision's letter template, and the application to preview it with."""

    subject = text_field(
        "Subject",
        SUBJECT_MAX,
        called="The subject",
        required="Enter the subject",
        checks=(),
    )
    body = text_area(
        "Letter",
        BODY_MAX,
        called="The letter",
        required="Enter the letter",
        checks=(),
    )
    application = SelectField("Preview the letter for", validate_choice=False, default="")


class LetterSettingsForm(FlaskForm):
    centre_contact_name = text_field(
        LETTER_SETTING_LABELS["centre_contact_name"],
        200,
        called="The name",
        required="Enter the name of the person applicants can contact",
    )
    next_steps_by = text_field(
        LETTER_SETTING_LABELS["next_steps_by"],
        200,
        called="When selected sites will hear from you",
        required="Enter when selected sites will hear from you",
    )
    reserve_until = text_field(
        LETTER_SETTING_LABELS["reserve_until"],
        200,
        called="Until when the reserve list stays open",
        required="Enter until when the reserve list stays open",
    )

    def values(self) -> dict[str, str]:
        return {key: self[key].data or "" for key in LETTER_SETTING_LABELS}


# --- The rubric -----------------------------------------------------------------------------


class _RubricFormBase(FlaskForm):
    def words(self) -> dict[str, dict[str, Any]]:
        return {
            c.id: {
                "looks_for": self[f"{c.id}_looks_for"].data or "",
                "levels": [self[f"{c.id}_level_{s}"].data or "" for s in SCORES],
            }
            for c in RUBRIC
        }


def _rubric_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for c in RUBRIC:
        fields[f"{c.id}_looks_for"] = text_area(
            f"What we look for in “{c.title}”",
            1000,
            called=f"What we look for in “{c.title}”",
            required=f"Enter what we look for in “{c.title}”",
        )
        for level in c.levels:
            fields[f"{c.id}_level_{level.score}"] = text_area(
                f"{level.score} – {level.name}",
                1000,
                called=f"The description of {level.score} for “{c.title}”",
                required=f"Enter the description of {level.score} for “{c.title}”",
            )
    return fields


RubricForm = type("RubricForm", (_RubricFormBase,), _rubric_fields())


def rubric_data(round_: Round) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for c in rubric(round_):
        data[f"{c.id}_looks_for"] = c.looks_for
        for level in c.levels:
            data[f"{c.id}_level_{level.score}"] = level.descriptor
    return data
