"""Sign-in and password reset answer the same for known and unknown email addresses: the same
status, the same page (apart from the CSRF token and the address typed), and the same costly
work, so neither the page nor its timing tells whether an account exists."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from app.auth import passwords
from tests.app.helpers import Client

TOKEN = re.compile(rb'name="csrf_token" value="[^"]*"')


def normalised(body: bytes, email: str) -> bytes:
    return TOKEN.sub(b'name="csrf_token" value=""', body).replace(email.encode(), b"EMAIL")


def post(client: Client, url: str, data: dict[str, str]) -> Any:
    return client.client.post(url, data={**client.hidden_fields(url), **data})


@pytest.fixture
def verify_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification, by the hash it checked."""
    calls: list[str] = []
    real = passwords._hasher

    class Spy:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def verify(self, hash_: str, password: str) -> bool:
            calls.append(hash_)
            return real.verify(hash_, password)

    monkeypatch.setattr(passwords, "_hasher", Spy())
    return calls


def test_sign_in_looks_the_same_for_an_unknown_email(
    client: Client, make_user: Any, verify_calls: list[str]
) -> None:
    user = make_user("staff")
    unknown = "nobody-at-all@example.org"
    wrong = post(client, "/sign-in", {"email": user.email, "password": "not the password 1"})
    missing = post(client, "/sign-in", {"email": unknown, "password": "not the password 1"})
    assert wrong.status_code == missing.status_code == 401
    assert normalised(wrong.data, user.email) == normalised(missing.data, unknown)
    # argon2 ran both times: for the unknown address against a dummy hash.
    assert len(verify_calls) == 2
    assert verify_calls[0] == user.password_hash
    assert verify_calls[1].startswith("$argon2") and verify_calls[1] != user.password_hash


def test_password_reset_looks_the_same_for_an_unknown_email(
    app: Flask, client: Client, make_user: Any
) -> None:
    user = make_user("staff")
    unknown = "nobody-at-all@example.org"
    known = post(client, "/forgot-password", {"email": user.email})
    missing = post(client, "/forgot-password", {"email": unknown})
    assert known.status_code == missing.status_code == 200
    assert normalised(known.data, user.email) == normalised(missing.data, unknown)
