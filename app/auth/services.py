"""Business verbs for accounts: sign-in with lockout, invitations, password set and reset.

Lockout: failed sign-ins are counted per address (20 in 15 minutes) and per account (5 in 15
minutes). An account's lock holds for browsers that have not signed in to it before; a browser
that has (it holds a trusted-device cookie for the account, OWASP's "device cookies") is counted
on its own instead (5 in 15 minutes), so someone guessing a password cannot lock its owner out
of their usual browser. On a new browser the owner can reset their password: a completed reset
lifts the lock and trusts that browser.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import render_template
from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..audit import record
from ..errors import DomainError
from ..models import ROLES, OutboxMessage, SignInFailure, User, UserToken, utcnow
from ..outbox import composes, queue_email
from ..urls import external_url
from .passwords import hash_password, needs_rehash, verify_password

LOCKOUT_WINDOW = timedelta(minutes=15)
MAX_ACCOUNT_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
MAX_DEVICE_FAILURES = 5
TOKEN_LIFETIME = {"invite": timedelta(days=7), "reset": timedelta(hours=1)}


class AccountError(DomainError):
    """A domain error whose message can be shown to the person."""


def _key(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()


def account_key(email: str) -> str:
    """How failures and trusted devices name an account: a hash, never the address itself."""
    return _key(email)


@dataclass(frozen=True)
class TrustedDevice:
    """A browser that has signed in to the account `account_key` before, as its cookie says."""

    account_key: str
    nonce: str


def normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    locked_until: datetime | None = None


def _locked_until(
    session: Session,
    address_key: str,
    counted: tuple[ColumnElement[bool], int],
    now: datetime,
) -> datetime | None:
    """When the lock on this address, or on the account or trusted device (`counted`: its
    failures and their limit), ends; None if neither is locked."""
    since = now - LOCKOUT_WINDOW
    for column, limit in (
        (SignInFailure.address_key == address_key, MAX_ADDRESS_FAILURES),
        counted,
    ):
        count, oldest = session.execute(
            select(func.count(SignInFailure.id), func.min(SignInFailure.at)).where(
                column, SignInFailure.at > since
            )
        ).one()
        if count >= limit and oldest is not None:
            # Times from SQLite come back naive: they are UTC.
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
            return oldest + LOCKOUT_WINDOW
    return None


def sign_in(
    session: Session,
    email: str,
    password: str,
    address: str,
    now: datetime,
    device: TrustedDevice | None = None,
) -> SignInResult:
    """Check a password, counting failures per address and per account, or per device for a
    browser trusted by this account (see the module's docstring); the same answer (and the same
    work) whether or not the account exists."""
    key, address_key = account_key(email), _key(address)
    device_key = _key(device.nonce) if device and device.account_key == key else None
    counted = (
        (SignInFailure.device_key == device_key, MAX_DEVICE_FAILURES)
        if device_key
        else (SignInFailure.account_key == key, MAX_ACCOUNT_FAILURES)
    )
    locked = _locked_until(session, address_key, counted, now)
    if locked is not None:
        return SignInResult(None, locked)
    user = session.scalars(select(User).where(User.email == normalise_email(email))).first()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        session.add(
            SignInFailure(account_key=key, address_key=address_key, device_key=device_key, at=now)
        )
        session.flush()
        return SignInResult(None, _locked_until(session, address_key, counted, now))
    # This person's own mistakes are forgiven; someone else's failures on the account stay
    # counted (else each sign-in by the owner would give a guesser a fresh allowance).
    mine = SignInFailure.address_key == address_key
    if device_key:
        mine = or_(mine, SignInFailure.device_key == device_key)
    session.execute(delete(SignInFailure).where(SignInFailure.account_key == key, mine))
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = now
    session.flush()
    return SignInResult(user)


def end_sessions(session: Session, user: User) -> None:
    """Sign the account out everywhere: every session cookie issued before now stops working
    (the version is part of the id Flask-Login keeps in the session)."""
    user.session_version += 1
    session.flush()


def _make_token() -> tuple[str, str]:
    """A new single-use token and the hash kept of it."""
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def _store_token(
    session: Session, user: User, purpose: str, token_hash: str, now: datetime
) -> None:
    session.add(
        UserToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + TOKEN_LIFETIME[purpose],
        )
    )
    session.flush()


def _new_token(session: Session, user: User, purpose: str, now: datetime) -> str:
    token, token_hash = _make_token()
    _store_token(session, user, purpose, token_hash, now)
    return token


def invite_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    nation: str | None,
    link_for: object,
    now: datetime,
    by: User | None = None,
) -> User:
    """Create an account without a password and email a single-use link to set one."""
    if role not in ROLES:
        raise AccountError("Select a role")
    email = normalise_email(email)
    if session.scalars(select(User).where(User.email == email)).first():
        raise AccountError("There is already an account with this email address")
    user = User(email=email, name=name.strip(), role=role, nation=nation or None, created_at=now)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as error:  # invited by someone else at the same moment
        raise AccountError("There is already an account with this email address") from error
    token = _new_token(session, user, "invite", now)
    record(session, by, "user.invited", "user", user.id, role=role)
    link = link_for(token)  # type: ignore[operator]
    queue_email(
        session,
        kind="invitation",
        to_address=email,
        subject="You have been invited to Partner Select",
        body=render_template("emails/invitation.txt", name=user.name, role=role, link=link),
    )
    return user


RESET_SUBJECT = "Reset your Partner Select password"


def request_password_reset(session: Session, email: str, now: datetime) -> None:
    """Queue a reset email to the address typed, saying nothing of whether it is an account's.

    The request does the same work either way (one row in the outbox): whether the address
    belongs to an active account is found out when the email is composed, by the send-mail
    worker, which makes the link then or drops the message."""
    queue_email(
        session,
        kind="password-reset",
        to_address=normalise_email(email),
        subject=RESET_SUBJECT,
        body="",  # composed when sent: compose_password_reset
    )


@composes("password-reset")
def compose_password_reset(session: Session, message: OutboxMessage) -> bool:
    """The reset email for an active account with a password, its single-use link made now;
    False (the message is dropped, nothing sent) for any other address."""
    user = session.scalars(select(User).where(User.email == message.to_address)).first()
    if user is None or not user.active or not user.password_hash:
        return False
    token, token_hash = _make_token()
    _store_token(session, user, "reset", token_hash, utcnow())
    link = external_url("auth.set_password", token=token)
    message.body = render_template("emails/password_reset.txt", link=link)
    return True


def find_token(session: Session, token: str, now: datetime) -> UserToken | None:
    if not token or len(token) > 100:
        return None
    row = session.scalars(
        select(UserToken).where(UserToken.token_hash == hashlib.sha256(token.encode()).hexdigest())
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def set_password(session: Session, token_row: UserToken, password: str, now: datetime) -> User:
    user = token_row.user
    user.password_hash = hash_password(password)
    user.session_version += 1
    token_row.used_at = now
    # Proof of the address lifts any lockout: the new password works at once.
    session.execute(
        delete(SignInFailure).where(SignInFailure.account_key == account_key(user.email))
    )
    action = "user.password_set" if token_row.purpose == "invite" else "user.password_reset"
    record(session, user, action, "user", user.id)
    # Any other outstanding links for this account stop working too.
    for other in session.scalars(
        select(UserToken).where(UserToken.user_id == user.id, UserToken.used_at.is_(None))
    ):
        other.used_at = now
    session.flush()
    return user


def create_user(session: Session, *, email: str, name: str, role: str, password: str) -> User:
    """For `flask create-user`: the first admin, with a password set at once."""
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}")
    email = normalise_email(email)
    if session.scalars(select(User).where(User.email == email)).first():
        raise AccountError("There is already an account with this email address")
    user = User(email=email, name=name.strip(), role=role, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user
