"""The print queue's queries and its one business verb, marking a letter posted (audited, and
in the application's history). Services add and flush; the view commits once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from ...audit import Actor, record_for_application
from ...errors import DomainError
from ...labels import LETTER_KINDS
from ...models import Application, Letter

POSTED_SHOWN = 100  # the most recent posted letters listed


class AlreadyPosted(DomainError):
    """The letter was marked posted already (by someone else, or in another tab)."""

    def __init__(self) -> None:
        super().__init__("This letter was already marked as posted.")


@dataclass(frozen=True)
class PrintQueue:
    to_post: list[Letter]  # oldest first: the order to print them in
    posted: list[Letter]  # most recently posted first


def kind_label(letter: Letter) -> str:
    return LETTER_KINDS.get(letter.kind, letter.kind.replace("-", " ").capitalize())


def _letters() -> Select[Letter]:
    return select(Letter).options(joinedload(Letter.application).joinedload(Application.round))


def letters_to_post(session: Session) -> list[Letter]:
    return list(
        session.scalars(
            _letters().where(Letter.posted_at.is_(None)).order_by(Letter.queued_at, Letter.id)
        )
    )


def print_queue(session: Session) -> PrintQueue:
    posted = session.scalars(
        _letters()
        .where(Letter.posted_at.is_not(None))
        .order_by(Letter.posted_at.desc(), Letter.id.desc())
        .limit(POSTED_SHOWN)
    )
    return PrintQueue(letters_to_post(session), list(posted))


def mark_posted(session: Session, letter: Letter, actor: Actor, now: datetime) -> None:
    """Record that `letter` went in the post, by whom and when; AlreadyPosted if it had."""
    if letter.posted_at is not None:
        raise AlreadyPosted()
    letter.posted_at = now
    letter.posted_by_id = actor.id
    record_for_application(
        session,
        actor,
        "letter.posted",
        letter.application,
        "letter",
        f"Letter posted: {kind_label(letter).lower()}",
        now,
        letter=letter.id,
        letter_kind=letter.kind,
    )
    session.flush()
