"""`make run` as a newcomer runs it: the development server and, beside it, the mail worker, so
an email appears in the instance folder's outbox/ as an .eml file soon after it is queued (the
applicant is told "we have emailed your link")."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.outbox import queue_email
from tests.app.factories import make_round
from tests.app.test_serve import base_env, make_target, stop, wait_ready
from tests.load.server import free_port


@pytest.mark.slow  # about 30 s: make, then three flask commands starting one after another
def test_make_run_writes_each_queued_email_to_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "instance"
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    # A database with a round already, so `flask seed-demo --if-empty` adds nothing (it takes
    # half a minute on the CI machine) and the development server starts at once.
    database = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'partner_select.sqlite3'}"}
    )
    with database.app_context():
        upgrade()
        make_round("make-run")
    port = free_port()
    log = tmp_path / "run.log"
    process = make_target("run", base_env(instance, PORT=str(port)), log)
    try:
        wait_ready(f"http://127.0.0.1:{port}", process, log)
        assert "Emails: each one is written to" in log.read_text()
        with database.app_context():
            queue_email(
                db.session,
                kind="resume_link",
                to_address="someone@example.org",
                subject="Your link to come back to your application",
                body="Use this link to carry on.",
            )
            db.session.commit()
        deadline = time.monotonic() + 20
        while not list((instance / "outbox").glob("*.eml")):
            if time.monotonic() > deadline:
                pytest.fail(f"no .eml file in the outbox within 20 s:\n{log.read_text()}")
            time.sleep(0.2)
    finally:
        stop(process)
    [email] = (instance / "outbox").glob("*.eml")
    text = email.read_text()
    assert "Subject: Your link to come back to your application" in text
    assert "To: someone@example.org" in text
    with pytest.raises(requests.ConnectionError):  # stopping make stopped the server too
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
