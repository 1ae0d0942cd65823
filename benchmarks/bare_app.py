"""The benchmark's yardstick: a bare Flask endpoint that does one INSERT of a submitted
application's row, on the same stack as the service (gunicorn, Flask, SQLAlchemy, psycopg,
PostgreSQL), with nothing else: no session, no CSRF, no rate limit, no template.

    DATABASE_URL=... BENCH_ROUND_ID=1 gunicorn benchmarks.bare_app:app

web_bench.py runs it with the same gunicorn settings as the service, against the same database.
"""

from __future__ import annotations

import os
import secrets

from flask import Flask, redirect
from sqlalchemy import create_engine, insert
from werkzeug.wrappers import Response

from app.config import Config, normalise_database_url
from app.models import Application, utcnow

app = Flask(__name__)
# The service's engine options (pool_pre_ping among them).
engine = create_engine(
    normalise_database_url(os.environ["DATABASE_URL"]), **Config.SQLALCHEMY_ENGINE_OPTIONS
)
ROUND_ID = int(os.environ["BENCH_ROUND_ID"])


@app.get("/")
def ready() -> str:
    return "ready"


@app.post("/submit")
def submit() -> Response:
    """The row the real final submit leaves behind: status, reference and mix attributes."""
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            insert(Application).values(
                round_id=ROUND_ID,
                status="submitted",
                token_hash=secrets.token_hex(32),
                reference=f"EOI-{now.year}-{secrets.token_hex(4).upper()}",
                channel="online",
                eligibility={"uk_based": "yes"},
                created_at=now,
                updated_at=now,
                submitted_at=now,
                declaration_at=now,
                organisation_name="Bare endpoint carers' network",
                nation="wales",
                region="wales",
                area_type="rural",
                size_band="1-9",
                led_by="carer-led",
                first_time=True,
                screening="unscreened",
            )
        )
    return redirect("/done")
