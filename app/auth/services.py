"""Business verbs for accounts: sign-in with lockout, invitations, password set and reset."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..audit import record
from ..models import ROLES, SignInFailure, User, UserToken
from ..outbox import queue_email
from .passwords import hash_password, needs_rehash, verify_password

LOCKOUT_WINDOW = timedelta(minutes=15)
MAX_ACCOUNT_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
TOKEN_LIFETIME = {"invite": timedelta(days=7), "reset": timedelta(hours=1)}


class AccountError(Exception):
    """A domain error whose message can be shown to the person."""


def _key(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    locked_until: datetime | None = None


def _locked_until(
    session: Session, account_key: str, address_key: str, now: datetime
) -> datetime | None:
    since = now - LOCKOUT_WINDOW
    for column, limit in (
        (SignInFailure.account_key == account_key, MAX_ACCOUNT_FAILURES),
        (SignInFailure.address_key == address_key, MAX_ADDRESS_FAILURES),
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
    session: Session, email: str, password: str, address: str, now: datetime
) -> SignInResult:
    """Check a password, counting failures per account and per address; the same answer (and the
    same work) whether or not the account exists."""
    account_key, address_key = _key(email), _key(address)
    locked = _locked_until(session, account_key, address_key, now)
    if locked is not None:
        return SignInResult(None, locked)
    user = session.scalars(select(User).where(User.email == normalise_email(email))).first()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        session.add(SignInFailure(account_key=account_key, address_key=address_key, at=now))
        session.flush()
        return SignInResult(None, _locked_until(session, account_key, address_key, now))
    session.execute(delete(SignInFailure).where(SignInFailure.account_key == account_key))
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = now
    session.flush()
    return SignInResult(user)


def _new_token(session: Session, user: User, purpose: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        UserToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            created_at=now,
            expires_at=now + TOKEN_LIFETIME[purpose],
        )
    )
    session.flush()
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
    session.flush()
    token = _new_token(session, user, "invite", now)
    record(session, by, "user.invited", "user", user.id, role=role)
    link = link_for(token)  # type: ignore[operator]
    queue_email(
        session,
        kind="invitation",
        to_address=email,
        subject="You have been invited to Partner Select",
        body=(
            f"Hello {user.name},\n\nYou have been invited to Partner Select as {role}.\n\n"
            f"Set your password with this link, within 7 days:\n\n{link}\n\n"
            "The link works once. If you did not expect this email, you can ignore it.\n"
        ),
    )
    return user


def request_password_reset(session: Session, email: str, link_for: object, now: datetime) -> None:
    """Email a reset link if the account exists; say nothing either way."""
    user = session.scalars(select(User).where(User.email == normalise_email(email))).first()
    if user is None or not user.active or not user.password_hash:
        return
    token = _new_token(session, user, "reset", now)
    queue_email(
        session,
        kind="password-reset",
        to_address=user.email,
        subject="Reset your Partner Select password",
        body=(
            "Use this link within 1 hour to choose a new password:\n\n"
            f"{link_for(token)}\n\n"  # type: ignore[operator]
            "If you did not ask for this, ignore this email: your password has not changed.\n"
        ),
    )


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
