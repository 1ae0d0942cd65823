"""Admin forms: inviting a user, changing a role, and the audit log's filter (read from the query
string, so a filtered view can be linked)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, ValidationError

from ..audit import ACTIONS, RECORD_TYPES
from ..auth.forms import email_field
from ..dates import parse_date
from ..forms import ChoiceRadioField, strip, text_field
from ..labels import NATION_LABELS, ROLE_LABELS
from ..models import ROLES
from ..urls import whole_number_or_none
from .services import AuditFilters


def _date_field(label: str, what: str) -> StringField:
    message = f"Enter the {what} date as day/month/year, like 24/3/2027"

    def valid(form: FlaskForm, field: Field) -> None:
        if parse_date(field.data) is None:
            raise ValidationError(message)

    return text_field(label, 20, too_long=message, checks=[valid])


class AuditFilterForm(FlaskForm):
    """Choices outside the lists are ignored, as on the applications list; dates are checked."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    action = StringField("Action", filters=[strip])
    actor = StringField("Who", filters=[strip])
    record_type = StringField("Record type", filters=[strip])
    date_from = _date_field("From", "start")
    date_to = _date_field("To", "end")

    def validate_date_to(self, field: Field) -> None:
        start, end = parse_date(self.date_from.data or ""), parse_date(field.data or "")
        if start and end and end < start:
            raise ValidationError("The end date must be the same as or after the start date")

    def filters(self, actors: Mapping[str, str], args: Mapping[str, str]) -> AuditFilters:
        """The filters to apply (call after validate): unknown choices count as any."""
        return AuditFilters(
            action=self.action.data if self.action.data in ACTIONS else "",
            actor=self.actor.data if self.actor.data in actors else "",
            record_type=self.record_type.data if self.record_type.data in RECORD_TYPES else "",
            date_from=parse_date(self.date_from.data or ""),
            date_to=parse_date(self.date_to.data or ""),
            page=whole_number_or_none(args.get("page")) or 1,
        )


NATIONS = [SelectChoice(code, label) for code, label in NATION_LABELS.items()]


def _role_field() -> ChoiceRadioField:
    """The user's role: given on invitation, changed later."""
    return ChoiceRadioField(
        "Role",
        choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES],
        validators=[DataRequired(message="Select a role")],
        invalid_message="Select a role from the list",
    )


class InviteForm(FlaskForm):
    name = text_field(
        "Full name", 200, called="Full name", required="Enter their full name", checks=()
    )
    email = email_field(required="Enter their email address")
    role = _role_field()
    nation = ChoiceRadioField(
        "Nation they live or work in (optional)",
        choices=NATIONS,
        validators=[Optional()],
        invalid_message="Select a nation from the list",
    )


class RoleForm(FlaskForm):
    role = _role_field()
    active = ChoiceRadioField(
        "Can they sign in?",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No, suspend the account")],
        validators=[DataRequired(message="Select whether they can sign in")],
        invalid_message="Select yes or no",
    )
