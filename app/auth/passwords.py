"""Password rules (NCSC style: long, any characters, paste allowed, no common passwords) and
argon2 hashing."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256

_hasher = PasswordHasher()


def configure(*, time_cost: int, memory_cost_kib: int) -> None:
    """Set the argon2 cost (from config; tests use a cheap one). Existing hashes are rehashed
    with the new cost when their owners next sign in."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib)
    _dummy_hash.cache_clear()


@cache
def _dummy_hash() -> str:
    """Verified when the account does not exist, so both cases take the same time."""
    return _hasher.hash("not-a-real-password-for-timing")


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """What is wrong with a new password, as a message that says what to do; None if fine."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    lowered = password.lower()
    stripped = lowered.rstrip("0123456789!?.")
    if lowered in _common() or stripped in _common() or len(set(lowered)) < 4:
        return "Choose a password that is harder to guess: this one is too common"
    local = email.lower().split("@")[0]
    if (local and len(local) >= 4 and local in lowered) or (
        name and len(name) >= 4 and name.lower().replace(" ", "") in lowered.replace(" ", "")
    ):
        return "Choose a password that does not contain your name or email address"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
