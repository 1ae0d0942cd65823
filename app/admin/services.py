"""Reading the audit log for admins: filters, pages of events and the rows of an export."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from ..audit import ACTIONS, RECORD_TYPES, record
from ..auth.services import AccountError
from ..models import ROLES, AuditEvent, User
from ..rounds import LONDON

if TYPE_CHECKING:  # pandas loads when a file is written, not as the app starts
    import pandas as pd

PER_PAGE = 50
SYSTEM = "system"  # the actor filter's value for the command line or the system
EXPORT_COLUMNS = [
    "Event id",
    "When (UTC)",
    "Actor id",
    "Actor",
    "Actor role at the time",
    "Action code",
    "Action",
    "Record type",
    "Record id",
    "Round id",
    "Detail",
]


@dataclass(frozen=True)
class AuditFilters:
    """What the log is narrowed to; empty or None means any. Dates are UK calendar days."""

    action: str = ""
    actor: str = ""  # a user id, SYSTEM, or ""
    record_type: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    @property
    def active(self) -> bool:
        return bool(self.action or self.actor or self.record_type or self.date_from or self.date_to)

    def as_detail(self) -> dict[str, str]:
        """The filters as codes, for the audit record of an export."""
        values = {
            "action": self.action,
            "actor": self.actor,
            "record_type": self.record_type,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        return {f"filter_{key}": value for key, value in values.items() if value}


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    actor_name: str | None

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.event.action, self.event.action)

    @property
    def record_label(self) -> str:
        kind = RECORD_TYPES.get(self.event.record_type, self.event.record_type)
        return kind if self.event.record_id is None else f"{kind} {self.event.record_id}"

    @property
    def who(self) -> str:
        if self.event.actor_id is None:
            return "Command line or system"
        return self.actor_name or f"User {self.event.actor_id}"

    @property
    def detail_text(self) -> str:
        return describe_detail(self.event.detail or {})


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    total: int
    page: int
    pages: int


def actor_choices(session: Session) -> list[tuple[str, str]]:
    """(value, label) for the actor filter: every account, then the command line."""
    users = session.execute(select(User.id, User.name, User.role).order_by(User.name, User.id))
    return [(str(i), f"{name} ({role})") for i, name, role in users] + [
        (SYSTEM, "Command line or system")
    ]


def describe_detail(detail: dict[str, Any]) -> str:
    """'Fields: title, texts.offer; rows: 3' — the stored codes, as plainly as they go."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, list):
            return ", ".join(value(item) for item in v) or "none"
        return "none" if v is None else str(v)

    text = "; ".join(f"{key.replace('_', ' ')}: {value(v)}" for key, v in sorted(detail.items()))
    return text[:1].upper() + text[1:]


def _query(filters: AuditFilters) -> Select[Any]:
    query = select(AuditEvent, User.name).outerjoin(User, User.id == AuditEvent.actor_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.record_type:
        query = query.where(AuditEvent.record_type == filters.record_type)
    if filters.actor == SYSTEM:
        query = query.where(AuditEvent.actor_id.is_(None))
    elif filters.actor:
        query = query.where(AuditEvent.actor_id == int(filters.actor))
    if filters.date_from:
        start = datetime.combine(filters.date_from, time(0), tzinfo=LONDON)
        query = query.where(AuditEvent.occurred_at >= start)
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(0), tzinfo=LONDON)
        query = query.where(AuditEvent.occurred_at < end)
    return query


def _newest_first(query: Select[Any]) -> Select[Any]:
    return query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


def list_events(session: Session, filters: AuditFilters, per_page: int = PER_PAGE) -> AuditPage:
    query = _query(filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(filters.page, 1), pages)
    rows = session.execute(_newest_first(query).limit(per_page).offset((page - 1) * per_page))
    return AuditPage([AuditRow(event, name) for event, name in rows], total, page, pages)


def _export_record(row: AuditRow) -> list[Any]:
    event = row.event
    return [
        event.id,
        event.occurred_at.isoformat(timespec="seconds"),
        event.actor_id,
        row.who,
        event.actor_role or "",
        event.action,
        row.action_label,
        event.record_type,
        event.record_id,
        event.round_id,
        json.dumps(event.detail or {}, sort_keys=True),
    ]


def export_frames(
    session: Session, filters: AuditFilters, chunk: int = 500
) -> Iterator[pd.DataFrame]:
    """The filtered log, newest first, as frames of at most ``chunk`` rows (at least one frame,
    so an empty export still has its header). Each frame is a query of its own, continuing after
    the last row sent, so no cursor stays open between frames (see ``csv_stream_response``)."""
    import pandas as pd

    after: tuple[datetime, int] | None = None
    sent = False
    while True:
        query = _query(filters)
        if after is not None:
            at, last = after
            query = query.where(
                or_(
                    AuditEvent.occurred_at < at,
                    and_(AuditEvent.occurred_at == at, AuditEvent.id < last),
                )
            )
        rows = session.execute(_newest_first(query).limit(chunk)).all()
        if not rows:
            break
        sent = True
        after = (rows[-1][0].occurred_at, rows[-1][0].id)
        yield pd.DataFrame(
            [_export_record(AuditRow(event, name)) for event, name in rows],
            columns=EXPORT_COLUMNS,
            dtype=object,  # ids stay whole numbers, missing ones stay empty
        )
        if len(rows) < chunk:
            break
    if not sent:
        yield pd.DataFrame([], columns=EXPORT_COLUMNS, dtype=object)


def export_frame(session: Session, filters: AuditFilters) -> pd.DataFrame:
    """The whole filtered log in one frame (for XLSX, which is written in one piece)."""
    import pandas as pd

    return pd.concat(list(export_frames(session, filters)), ignore_index=True)


def change_role(session: Session, user: User, role: str, active: bool, by: User | None) -> None:
    if role not in ROLES:
        raise AccountError("Select a role")
    if user.role != role:
        record(session, by, "user.roles_changed", "user", user.id, old=user.role, new=role)
        user.role = role
    if user.active != active:
        user.active = active
        user.session_version += 1
        record(session, by, "user.reactivated" if active else "user.suspended", "user", user.id)
    session.flush()
