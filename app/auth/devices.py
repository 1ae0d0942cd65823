"""The trusted-device cookie: a browser that has signed in to an account says so when it signs in
again, so a lock on the account (someone guessing its password) does not keep its owner out.

The cookie is signed with SECRET_KEY (itsdangerous, as Flask signs its session), names the account
by its hash and a random nonce, is sent only to the sign-in page, and lasts TRUSTED_DEVICE_DAYS
from the last sign-in. Failures made with it are counted against it (services.sign_in).
"""

from __future__ import annotations

import secrets

from flask import Request, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from .services import TrustedDevice, account_key

COOKIE = "partner_select_device"
SALT = "trusted-device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)  # type: ignore[arg-type]


def _lifetime_seconds() -> int:
    return int(current_app.config["TRUSTED_DEVICE_DAYS"]) * 24 * 3600


def trusted_device(request: Request) -> TrustedDevice | None:
    """The device this browser's cookie names, if the cookie is genuine and not too old."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        data = _serializer().loads(value, max_age=_lifetime_seconds())
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    key, nonce = data.get("a"), data.get("n")
    if not isinstance(key, str) or not isinstance(nonce, str):
        return None
    return TrustedDevice(key, nonce)


def trust_device(response: Response, email: str) -> None:
    """Mark this browser as one the account's owner signed in from (a new nonce each time)."""
    value = _serializer().dumps({"a": account_key(email), "n": secrets.token_urlsafe(16)})
    response.set_cookie(
        COOKIE,
        value,
        max_age=_lifetime_seconds(),
        path="/sign-in",
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Lax",
    )
