"""Asking for a password reset does the same work whether or not the account exists (issue 17,
point 8): the account is looked up, a token made and hashed, and the email with its link
composed, either way; only the rows written differ. Counted, not timed."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import pytest
from flask import Flask

from app.auth import services
from app.extensions import db
from app.models import utcnow


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each token made and each token hashed, in order."""
    done: list[str] = []
    real_token, real_sha = secrets.token_urlsafe, hashlib.sha256

    def token_urlsafe(nbytes: int) -> str:
        done.append(f"token({nbytes})")
        return real_token(nbytes)

    def sha256(data: bytes = b"") -> Any:
        done.append("sha256")
        return real_sha(data)

    monkeypatch.setattr(services.secrets, "token_urlsafe", token_urlsafe)
    monkeypatch.setattr(services.hashlib, "sha256", sha256)
    return done


def asked_for(email: str, work: list[str]) -> list[str]:
    links: list[str] = []

    def link_for(token: str) -> str:
        links.append(token)
        return f"https://partners.example.org/set-password/{token}"

    work.clear()
    services.request_password_reset(db.session, email, link_for, utcnow())
    db.session.rollback()
    return [*work, *(f"link({len(token)})" for token in links)]


def test_a_reset_for_a_missing_account_does_the_same_work(
    app: Flask, make_user: Any, work: list[str]
) -> None:
    user = make_user("staff")
    known = asked_for(user.email, work)
    assert "sha256" in known and any(step.startswith("link(") for step in known)
    assert asked_for("nobody-at-all@example.org", work) == known


def test_a_reset_for_a_suspended_account_does_the_same_work(
    app: Flask, make_user: Any, work: list[str]
) -> None:
    user, suspended = make_user("staff"), make_user("staff")
    suspended.active = False
    db.session.commit()
    assert asked_for(suspended.email, work) == asked_for(user.email, work)
