"""Configuration classes, read from the environment and the instance folder.

`create_app()` picks one by `APP_ENV` (development, production, test) unless a config is given.
Secrets come from the environment (`SECRET_KEY`) or, in development, from a key generated once
into `instance/secret_key`; they are never written to the repository.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs however they are written."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    ENV_NAME = "base"
    DEBUG = False
    TESTING = False

    # Filled in by create_app(): environment, instance/config.py or instance/secret_key.
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")

    SQLALCHEMY_DATABASE_URI: str | None = (
        normalise_database_url(os.environ["DATABASE_URL"])
        if os.environ.get("DATABASE_URL")
        else None
    )
    # SQL parameters hold applicants' answers: never put them in exception text or logs.
    # pool_pre_ping: a pooled connection is checked as it is handed out and replaced if the
    # server has gone (restarted, failed over, or an idle connection cut by the network).
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, object]] = {
        "hide_parameters": True,
        "pool_pre_ping": True,
    }

    # Rate limits (Flask-Limiter, a decorator on each limited route): counters in Redis when
    # REDIS_URL is set, so every worker and host shares them.
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    # Keeps this service's counters apart when several services share one Redis.
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "partner-select")
    # If Redis is unreachable, each worker counts in its own memory (a warning is logged) and
    # goes back to Redis when it answers again: applicants and sign-ins are never refused because
    # the counter store blinked. Short timeouts: a Redis that hangs delays the request that finds
    # it down by about two seconds (measured) and each later health check by one, not five each.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS: ClassVar[dict[str, object]] = {
        "socket_connect_timeout": 1,
        "socket_timeout": 1,
    }
    # No X-RateLimit-* headers: no browser uses them. A refused request still says when to come
    # back: app/errors.py puts Retry-After on the 429 page.
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_STRATEGY = "moving-window"
    APPLY_DRAFT_RATE_LIMIT = os.environ.get("APPLY_DRAFT_RATE_LIMIT", "30 per hour")
    APPLY_SUBMIT_RATE_LIMIT = os.environ.get("APPLY_SUBMIT_RATE_LIMIT", "20 per hour")
    APPLY_EMAIL_LINK_RATE_LIMIT = os.environ.get("APPLY_EMAIL_LINK_RATE_LIMIT", "10 per hour")
    # A limit Flask-Limiter cannot read would be logged and ignored: check_rate_limits() stops
    # the start instead.

    # Emails to one address in a day (resume links; confirmations count towards it), whatever
    # the IP address asking: the service cannot be used to flood someone's inbox.
    APPLY_EMAILS_PER_ADDRESS_PER_DAY = int(os.environ.get("APPLY_EMAILS_PER_ADDRESS_PER_DAY", "5"))
    # After sending, the resume link shows the answers sent for this many days; then a page
    # saying how to ask for a copy.
    APPLY_SUBMITTED_COPY_DAYS = int(os.environ.get("APPLY_SUBMITTED_COPY_DAYS", "30"))

    # Spam: from the first eligibility question to saving the first page takes at least this
    # long (seconds).
    MIN_FILL_SECONDS = float(os.environ.get("MIN_FILL_SECONDS", "3"))

    # A long CSRF lifetime: people write long answers; an expired token still keeps answers.
    WTF_CSRF_TIME_LIMIT = int(os.environ.get("WTF_CSRF_TIME_LIMIT", str(4 * 3600)))
    # CSRF is checked for every POST by a before_request hook (see app/security.py).
    WTF_CSRF_CHECK_DEFAULT = False

    SESSION_COOKIE_NAME = "partner_select_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    # An applicant's session (a draft resumed by its link) is permanent: Flask signs it again on
    # every response (SESSION_REFRESH_EACH_REQUEST, on by default), so its expiry moves on.
    PERMANENT_SESSION_LIFETIME = timedelta(days=int(os.environ.get("SESSION_DAYS", "30")))

    # argon2id cost: the library's defaults (RFC 9106 low-memory profile) outside tests.
    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", "3"))
    ARGON2_MEMORY_COST_KIB = int(os.environ.get("ARGON2_MEMORY_COST_KIB", "65536"))
    # A signed-in session ends after this much inactivity, and this long after signing in
    # however busy it is (app/access.py).
    IDLE_TIMEOUT_MINUTES = int(os.environ.get("IDLE_TIMEOUT_MINUTES", "30"))
    SESSION_LIFETIME_HOURS = int(os.environ.get("SESSION_LIFETIME_HOURS", "12"))
    # A browser someone signed in from is trusted by their account for this long after their
    # last sign-in there: a lockout of the account does not apply to it (app/auth/devices.py).
    TRUSTED_DEVICE_DAYS = int(os.environ.get("TRUSTED_DEVICE_DAYS", "90"))

    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024)))
    MAX_FORM_MEMORY_SIZE = MAX_CONTENT_LENGTH

    # Retention (`flask retention`): drafts never sent are deleted this many days after their
    # round closes; personal data is erased this many days after the round's decision.
    RETENTION_DRAFT_DAYS = int(os.environ.get("RETENTION_DRAFT_DAYS", "30"))
    RETENTION_PERSONAL_DATA_DAYS = int(os.environ.get("RETENTION_PERSONAL_DATA_DAYS", "365"))

    # Outgoing mail. With no MAIL_SERVER, messages are written as .eml files to instance/outbox/.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "10"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "Partner Select <partners@example.org>")
    MAIL_OUTBOX_DIR: str | None = os.environ.get("MAIL_OUTBOX_DIR") or None

    # The public address every absolute link is built on (emailed and shown: resume, invitation
    # and password links). Required in production; its host is the only one requests may name
    # there (TRUSTED_HOSTS, see trusted_hosts below). It also gives Flask's SERVER_NAME,
    # PREFERRED_URL_SCHEME and APPLICATION_ROOT, so links can be built outside a request (an
    # email composed by `flask send-mail`). Without it links use the request's host.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL") or None

    # Where pg_dump and pg_restore live, if not on the PATH or under /usr/lib/postgresql/*/bin.
    PG_BIN_DIR = os.environ.get("PG_BIN_DIR") or None

    # Number of proxies in front of the app whose X-Forwarded-* headers are trusted.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    # The centre's contact details, shown for people who apply by phone or post instead.
    CENTRE_NAME = os.environ.get("CENTRE_NAME", "the Care Improvement Centre")
    CENTRE_PHONE = os.environ.get("CENTRE_PHONE", "0808 157 0192")
    CENTRE_EMAIL = os.environ.get("CENTRE_EMAIL", "partners@example.org")
    CENTRE_POSTAL_ADDRESS = os.environ.get(
        "CENTRE_POSTAL_ADDRESS",
        "Partner Sites Team, Care Improvement Centre, PO Box 1234, Leeds, LS1 1AA",
    )


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    # Links in emails composed by `flask send-mail` (outside any request) need an address: the
    # development server's own, on the port `make run` serves.
    PUBLIC_BASE_URL = (
        os.environ.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
    )


class ProductionConfig(Config):
    ENV_NAME = "production"


# Where the development server and the tests are reached without any settings.
LOCAL_HOSTS = ("localhost", "127.0.0.1")


def trusted_hosts(config: Mapping[str, Any]) -> list[str]:
    """Flask's TRUSTED_HOSTS when it is not set: PUBLIC_BASE_URL's host and, outside production,
    the local ones. A request naming any other host is refused with 400, so a link built on the
    request's host can never point at a host a client made up (a poisoned reset link)."""
    hosts = list(LOCAL_HOSTS) if config.get("ENV_NAME") != "production" else []
    base = config.get("PUBLIC_BASE_URL")
    host = _host_of(base) if base else None
    if host:
        hosts.insert(0, host)
    return hosts


def url_settings(config: Mapping[str, Any]) -> dict[str, str]:
    """Flask's settings for building links outside a request, from PUBLIC_BASE_URL (none if it is
    not set, or if SERVER_NAME is set already). Since Flask 3.1 SERVER_NAME does not restrict
    which hosts are served: TRUSTED_HOSTS does that."""
    base = config.get("PUBLIC_BASE_URL")
    if not base or config.get("SERVER_NAME") or _host_of(base) is None:
        return {}
    parts = urlsplit(base)
    return {
        "SERVER_NAME": parts.netloc,
        "PREFERRED_URL_SCHEME": parts.scheme,
        "APPLICATION_ROOT": parts.path.rstrip("/") or "/",
    }


def _host_of(url: str) -> str | None:
    """The host of a web address like https://partners.example.org, or None if it is not one."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it checks the port: ValueError if it is not a number)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.username or parts.query or parts.fragment:
        return None
    return parts.hostname or None


class ConfigError(RuntimeError):
    """Settings that production needs are missing or wrong; the message says what to set."""


def production_problems(config: Mapping[str, Any]) -> list[str]:
    """What stops the service starting in production, each with what to do."""
    problems = []
    if not config.get("SECRET_KEY"):
        problems.append(
            "SECRET_KEY is not set. Set it to a long random value, the same on every host and "
            "across restarts, for example the output of "
            "`python3 -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    base = config.get("PUBLIC_BASE_URL")
    if not base:
        problems.append(
            "PUBLIC_BASE_URL is not set. Set it to the address people use to reach the service, "
            "for example https://partners.example.org: emailed links are built on it, and "
            "requests for any other host are refused."
        )
    elif _host_of(base) is None:
        problems.append(
            "PUBLIC_BASE_URL is not a web address. Write it like https://partners.example.org."
        )
    url = config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        problems.append(
            "DATABASE_URL is not set. Set it to the PostgreSQL database, for example "
            "postgresql://partner_select@db.internal/partner_select (an SQLite file must be "
            "named explicitly: sqlite:////srv/partner-select/data.sqlite3)."
        )
    else:
        try:
            make_url(url)
        except ArgumentError:
            problems.append(
                "DATABASE_URL is not a database URL. Write it like "
                "postgresql://user:password@host:5432/database."
            )
    return problems


RATE_LIMIT_SETTINGS = (
    "APPLY_DRAFT_RATE_LIMIT",
    "APPLY_SUBMIT_RATE_LIMIT",
    "APPLY_EMAIL_LINK_RATE_LIMIT",
)


def check_rate_limits(config: Mapping[str, Any]) -> None:
    """Refuse to start with a rate limit that cannot be read: Flask-Limiter would log it and
    apply no limit at all."""
    for setting in RATE_LIMIT_SETTINGS:
        value = str(config.get(setting) or "")
        try:
            items = parse_many(value)
        except ValueError:
            items = []
        if not items or any(item.amount < 1 for item in items):
            raise ConfigError(
                f"{setting} = {value!r} is not a rate limit: write, for example, '20 per hour'."
            )


def check_production(config: Mapping[str, Any]) -> None:
    problems = production_problems(config)
    if problems:
        raise ConfigError(
            "The service cannot start in production until these are fixed:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
            + "\nSee 'Production deployment' in README.md."
        )
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://"):
        logging.getLogger(__name__).warning(
            "REDIS_URL is not set: rate limits are counted separately in each worker process, "
            "so with several workers or hosts they let through several times the limit."
        )


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SESSION_COOKIE_SECURE = False
    MIN_FILL_SECONDS = 0.0
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_SERVER = None
    SERVER_NAME = "localhost"
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST_KIB = 1024


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}
