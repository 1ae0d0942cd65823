"""Rate-limit counters in Redis (REDIS_URL), shared by every worker and host."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app import create_app
from app.extensions import limiter
from tests.app.apply.journey import ELIGIBILITY_IDS, VALID
from tests.app.helpers import Client
from tests.conftest import reachable_redis

REDIS_URL = "redis://127.0.0.1:6379/15"


def _app(tmp_path: Path, name: str, prefix: str):  # type: ignore[no-untyped-def]
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "RATELIMIT_KEY_PREFIX": prefix,
            "APPLY_DRAFT_RATE_LIMIT": "2 per hour",
            "INSTANCE_PATH": str(tmp_path / name),
        }
    )


def test_draft_limit_is_counted_in_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With REDIS_URL the counters live in Redis, where every worker and host sees them."""
    reachable_redis(REDIS_URL)
    from datetime import timedelta

    from app.extensions import db
    from app.models import utcnow
    from app.rounds import create_round

    prefix = f"test-{uuid.uuid4().hex}"
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "one"))
    first = _app(tmp_path, "one", prefix)
    with first.app_context():
        upgrade()
        now = utcnow()
        create_round(
            db.session,
            slug="redis",
            title="Redis round",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1),
        )
        db.session.commit()
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "two"))
    second = _app(tmp_path, "two", prefix)

    statuses = []
    try:
        for app in (first, second, first):
            with app.app_context():
                client = Client(app.test_client())
                for question_id in ELIGIBILITY_IDS:
                    client.submit(f"/eligibility/{question_id}", {"answer": "yes"})
                body = client.hidden_fields("/application/organisation")
                body.update(VALID["organisation"])
                statuses.append(
                    client.client.post("/application/organisation", data=body).status_code
                )
        import redis

        keys = redis.Redis.from_url(REDIS_URL).keys(f"*{prefix}*")
    finally:
        with first.app_context():
            limiter.reset()
    # The third draft in an hour from the same address is refused, whichever app took it: with
    # per-process counters the first app would have seen only its second draft and let it through.
    # (Redis keys are not asserted: tests running at the same time reset the shared Redis.)
    assert statuses == [302, 302, 429]
    del keys
