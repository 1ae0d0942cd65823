"""Outcome letters: one per confirmed decision on each application of a confirmed run, written
from the round's letter templates, checked by staff on a check page, then queued once.

`planned_letters` works out the letters still to send (the check page shows them, the queue
sends exactly them); `queue_outcome_messages` records each in `outcome_letters`, whose unique key
(run, application, decision basis) means a decision is written to once, and sends it through
`_deliver`, the one place a letter leaves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from selection import CRITERIA

from ...applications.channels import can_post, channel_for, queue_for_applicant
from ...audit import History, record
from ...labels import LETTER_DECISION_PHRASES, LETTER_LABELS, score_scale
from ...models import (
    Application,
    ApplicationEvent,
    OutcomeLetter,
    Override,
    Round,
    SelectionDecision,
    SelectionRun,
    User,
)
from ...rounds import text
from ..rounds.letters import letter_setting, letter_template, render_letter
from .current import current_reason_codes
from .decisions import lock_run, snapshot
from .engine_input import criterion_scores
from .feedback import feedback_items, mix_effect, screening_reason, shareable_feedback
from .services import RunError
from .shortlist import final_decisions, reserve_numbers, run_overrides

OUTCOME_KIND = "outcome"


def _deliver(session: Session, application: Application, kind: str, subject: str, body: str) -> str:
    """The one place an outcome letter leaves: by email through the outbox, or printed from the
    staff print queue for an applicant who asked for post or gave no email address
    (`queue_for_applicant`). Returns the channel used."""
    return queue_for_applicant(session, application, kind=kind, subject=subject, body=body)


def contact_email(application: Application) -> str:
    return str(application.answers.get("contact", {}).get("email") or "").strip()


def preferred_channel(application: Application) -> str:
    """How the applicant asked to be contacted: "email", "post" or "phone" ("" if not said)."""
    value = str(application.answers.get("contact", {}).get("preferred_contact") or "")
    return value if value in ("email", "post", "phone") else ""


# --- What each letter says ------------------------------------------------------------------


def letter_context(
    round_: Round,
    application: Application,
    decision: str,
    *,
    scores: Mapping[str, float | None],
    feedback: Mapping[str, list[str]],
    mix: str = "",
    reserve_number: int | None = None,
    change: str = "",
) -> dict[str, Any]:
    """Every placeholder's value for one application's letter: plain strings, numbers and lists
    of them, about this application only."""
    config = current_app.config
    contact = application.answers.get("contact", {})
    organisation = application.organisation_name or "your organisation"
    return {
        "contact_name": str(contact.get("contact_name") or "").strip() or organisation,
        "organisation": organisation,
        "reference": application.reference or "",
        "round_title": round_.title,
        "decision": LETTER_LABELS.get(decision, decision),
        "reserve_number": reserve_number if decision == "reserve" else None,
        "reserve_until": letter_setting(round_, "reserve_until"),
        "next_steps_by": letter_setting(round_, "next_steps_by"),
        "feedback": feedback_items(scores, feedback),
        "score_scale": score_scale(),
        "mix": mix,
        "screening_reason": screening_reason(application) if decision == "ineligible" else "",
        "change": change,
        "centre_name": str(config["CENTRE_NAME"]),
        "centre_contact_name": letter_setting(round_, "centre_contact_name"),
        "centre_phone": str(config["CENTRE_PHONE"]),
        "centre_email": str(config["CENTRE_EMAIL"]),
        "network_route": text(round_, "network_route"),
        "site_time": text(round_, "site_time"),
        "funding_paid": text(round_, "funding_paid"),
    }


def change_sentence(organisation: str, previous: str, decision: str, replacement: bool) -> str:
    """What a letter replacing an earlier one says changed."""
    earlier = (
        f"This letter replaces our earlier letter, which told you that {organisation} "
        f"{LETTER_DECISION_PHRASES.get(previous, 'had a different outcome')}."
    )
    if decision == "selected" and replacement:
        return (
            earlier
            + " Since then a selected site has withdrawn, and we can now offer its place to you."
        )
    if decision == "selected":
        return (
            earlier
            + " The selection panel has since made its final decision, and chose your organisation."
        )
    if decision == "withdrawn":
        return earlier + " Since then you have told us that your organisation is withdrawing."
    return earlier + (
        " The selection panel has since made its final decision, and we are sorry that it has "
        "changed."
    )


@dataclass(frozen=True)
class Letter:
    application: Application
    decision: str  # a key of LETTER_LABELS
    basis: int  # 0: the run's own decision; else the override that made it
    previous: str | None  # the decision the last letter gave, when this one replaces it
    channel: str  # the applicant's preference: "email", "post", "phone" or ""
    subject: str
    body: str

    @property
    def address(self) -> str:
        return contact_email(self.application)

    @property
    def route(self) -> str:
        """How it goes: "email" (the outbox) or "post" (the print queue)."""
        return channel_for(self.application)


@dataclass(frozen=True)
class Plan:
    """The letters still to send for a run, and those that cannot be sent."""

    letters: list[Letter]
    no_address: list[Application]  # neither an email nor a postal address (contact them another way)
    already: int  # letters already queued for this run

    def counts(self) -> dict[str, int]:
        found = Counter(letter.decision for letter in self.letters)
        return {d: found[d] for d in LETTER_LABELS if found[d]}

    def channels(self) -> dict[str, list[Letter]]:
        by: dict[str, list[Letter]] = {}
        for letter in self.letters:
            by.setdefault(letter.channel, []).append(letter)
        return by

    def routes(self) -> dict[str, int]:
        """How many letters go by email and how many by post."""
        found = Counter(letter.route for letter in self.letters)
        return {r: found[r] for r in ("email", "post") if found[r]}

    def samples(self) -> dict[str, Letter]:
        """The first letter of each decision, to read before sending."""
        found: dict[str, Letter] = {}
        for letter in self.letters:
            found.setdefault(letter.decision, letter)
        return {d: found[d] for d in LETTER_LABELS if d in found}


def _withdrew(session: Session, ids: list[int]) -> set[int]:
    return set(
        session.scalars(
            select(ApplicationEvent.application_id).where(
                ApplicationEvent.kind == "selection-withdrawal",
                ApplicationEvent.application_id.in_(ids),
            )
        )
    )


def _bases(overrides: list[Override], withdrew: set[int]) -> dict[int, tuple[int, bool]]:
    """Application id -> (the id of the last override that changed its decision, whether that
    was a replacement for a site that withdrew)."""
    found: dict[int, tuple[int, bool]] = {}
    for o in overrides:
        replacement = o.removed_application_id in withdrew
        found[o.removed_application_id] = (o.id, replacement)
        found[o.added_application_id] = (o.id, replacement)
    return found


def planned_letters(session: Session, run: SelectionRun) -> Plan:
    """The letters a confirmed run still owes its applicants, each rendered as it will be sent."""
    if run.confirmed_at is None:
        raise RunError("Confirm the run as the decision before sending outcome letters.")
    round_ = session.get(Round, run.round_id)
    assert round_ is not None
    overrides = run_overrides(session, run)
    finals = final_decisions(run, overrides)
    reserves = reserve_numbers(run)  # as the run now stands, after any change by staff
    reason_codes = current_reason_codes(run)
    ids = list(finals)
    stored = {d.application_id: d for d in run.decisions}
    rows = snapshot(run)
    withdrew = _withdrew(session, ids)
    bases = _bases(overrides, withdrew)
    removed_by_panel = {o.removed_application_id for o in overrides}
    sent: dict[int, list[OutcomeLetter]] = {}
    for letter in session.scalars(
        select(OutcomeLetter).where(OutcomeLetter.run_id == run.id).order_by(OutcomeLetter.id)
    ):
        sent.setdefault(letter.application_id, []).append(letter)
    selected_rows = [rows[i] for i, (d, _) in finals.items() if d == "selected" and i in rows]
    feedback = shareable_feedback(session, ids)
    applications = session.scalars(
        select(Application).where(Application.id.in_(ids)).order_by(Application.reference)
    ).all()
    letters, no_address = [], []
    for application in applications:
        if application.status not in ("submitted", "withdrawn") or application.erased_at:
            continue
        decision = finals[application.id][0]
        if application.status == "withdrawn" or application.id in withdrew:
            decision = "withdrawn"
        basis, replacement = bases.get(application.id, (0, False))
        earlier = sent.get(application.id, [])
        if any(letter.basis == basis for letter in earlier):
            continue
        previous = earlier[-1].decision if earlier else None
        if previous == decision:
            continue  # the decision changed and changed back: nothing new to tell them
        if channel_for(application) == "post" and not can_post(application):
            no_address.append(application)  # neither an email address nor a postal address
            continue
        d = stored.get(application.id)
        organisation = application.organisation_name or "your organisation"
        context = letter_context(
            round_,
            application,
            decision,
            scores={c: getattr(d, c) if d is not None else None for c in CRITERIA},
            feedback=feedback.get(application.id, {}),
            mix=mix_effect(
                round_,
                run,
                decision,
                reason_codes.get(application.id, ""),
                rows.get(application.id, {}),
                selected_rows,
                removed_by_panel=application.id in removed_by_panel,
            ),
            reserve_number=reserves.get(application.id),
            change=(
                change_sentence(organisation, previous, decision, replacement) if previous else ""
            ),
        )
        subject, body = render_letter(letter_template(round_, decision), context)
        letters.append(
            Letter(
                application,
                decision,
                basis,
                previous,
                preferred_channel(application),
                f"{subject} ({application.reference})",
                body,
            )
        )
    return Plan(letters, no_address, sum(len(v) for v in sent.values()))


def queue_outcome_messages(
    session: Session, run: SelectionRun, user: User, now: datetime, *, expected: int | None = None
) -> int:
    """Queue the letters the check page showed: each confirmed decision's letter once.

    `expected` is how many the check page showed; if that has changed (someone else sent them,
    or the decision changed meanwhile) nothing is sent and staff check again.
    """
    lock_run(session, run)  # two presses at once cannot both queue
    plan = planned_letters(session, run)
    if expected is not None and expected != len(plan.letters):
        raise RunError(
            "The letters to send have changed since you checked them. Check them again before "
            "you send them."
        )
    history = []
    for letter in plan.letters:
        session.add(
            OutcomeLetter(
                run_id=run.id,
                application_id=letter.application.id,
                basis=letter.basis,
                decision=letter.decision,
                previous_decision=letter.previous,
                channel=channel_for(letter.application),
                queued_at=now,
                queued_by_id=user.id,
            )
        )
        try:
            session.flush()
        except IntegrityError as error:  # the unique key: this decision's letter already exists
            raise RunError(
                "These letters were sent by someone else at the same moment. Check the run's page."
            ) from error
        _deliver(session, letter.application, OUTCOME_KIND, letter.subject, letter.body)
        label = LETTER_LABELS[letter.decision].lower()
        history.append(
            History(letter.application.id, "outcome-queued", f"Run {run.id}: {label} letter.", now)
        )
    if history:
        record(
            session,
            user,
            "outcomes.queued",
            "run",
            run.id,
            run.round_id,
            history=history,
            messages=len(history),
        )
    session.flush()
    return len(history)


def outcomes_queued(session: Session, run: SelectionRun) -> int:
    """How many of the run's applications have had an outcome letter."""
    return int(
        session.scalar(
            select(func.count(func.distinct(OutcomeLetter.application_id))).where(
                OutcomeLetter.run_id == run.id
            )
        )
        or 0
    )


def preview_letter(
    session: Session, round_: Round, application: Application, decision: str, template: Any
) -> tuple[str, str]:
    """One application's letter for a decision, from `template` (being edited, perhaps not
    saved): its scores and feedback as they stand, from the round's confirmed run if it has
    one, else from the reviews now."""
    run = session.scalars(
        select(SelectionRun)
        .where(SelectionRun.round_id == round_.id, SelectionRun.confirmed_at.is_not(None))
        .order_by(SelectionRun.confirmed_at.desc())
    ).first()
    d = None
    mix = ""
    if run is not None:
        d = session.scalars(
            select(SelectionDecision).where(
                SelectionDecision.run_id == run.id,
                SelectionDecision.application_id == application.id,
            )
        ).first()
        if d is not None:
            finals = final_decisions(run, run_overrides(session, run))
            rows = snapshot(run)
            chosen = [rows[i] for i, (f, _) in finals.items() if f == "selected" and i in rows]
            mix = mix_effect(
                round_, run, decision, d.reason_code, rows.get(application.id, {}), chosen
            )
    scores = (
        {c: getattr(d, c) for c in CRITERIA}
        if d is not None
        else current_scores(session, application)
    )
    context = letter_context(
        round_,
        application,
        decision,
        scores=scores,
        feedback=shareable_feedback(session, [application.id]).get(application.id, {}),
        mix=mix if decision in ("reserve", "not_selected") else "",
        reserve_number=(d.reserve_number if d is not None and d.reserve_number else 1),
    )
    return render_letter(template, context)


def current_scores(session: Session, application: Application) -> dict[str, float | None]:
    """The application's criterion scores now: moderated where staff moderated, else the mean of
    the submitted reviews (as the engine's input reads them)."""
    return criterion_scores(session, [application.id]).get(application.id, {})


def outcome_letters_of(session: Session, application_id: int) -> list[OutcomeLetter]:
    return list(
        session.scalars(
            select(OutcomeLetter)
            .where(OutcomeLetter.application_id == application_id)
            .order_by(OutcomeLetter.id)
        )
    )
