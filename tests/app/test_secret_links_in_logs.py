"""Secret links (a resume link, a set-password link from an invitation or a reset) never reach a
log: each secret-link route is requested through werkzeug's development server with every logger
listening, and the log is read. gunicorn's access log is covered in test_access_log_atoms.py and,
under `make serve`, in test_serve.py.

Every route with a value in its path that is not a public name (tests/app/secret_links.py) is
requested, so a future token URL missing from app/redaction.py's SECRET_LINK_PATHS fails here.
"""

from __future__ import annotations

import http.client
import logging
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from app.redaction import SECRET_LINK_PATHS, redact_secret_links
from tests.app.secret_links import secret_link_urls


def test_every_route_with_a_value_in_its_path_is_public_or_a_secret_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    unlisted = [
        path
        for _method, path in secret_link_urls(app, "x")
        if not path.startswith(SECRET_LINK_PATHS)
    ]
    assert unlisted == [], "a token in a path must be in app/redaction.py SECRET_LINK_PATHS"
    # Each listed secret link is still a route, so the list cannot go stale unnoticed.
    for path in SECRET_LINK_PATHS:
        assert any(rule.rule.startswith(path) for rule in app.url_map.iter_rules()), path


def test_redaction_keeps_the_rest_of_the_line() -> None:
    line = '127.0.0.1 - - [25/Nov/2026] "GET /set-password/abc-DEF_123?next=/x HTTP/1.1" 404 -'
    assert redact_secret_links(line) == (
        '127.0.0.1 - - [25/Nov/2026] "GET /set-password/[redacted]?next=/x HTTP/1.1" 404 -'
    )
    assert redact_secret_links("GET /application/contact") == "GET /application/contact"


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    for name in ("app", "werkzeug", "flask", "flask_limiter", "flask_wtf"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def test_the_development_server_logs_no_secret_link(
    app: Flask, every_log: pytest.LogCaptureFixture
) -> None:
    token = "Tok" + secrets.token_urlsafe(24)
    requested = secret_link_urls(app, token)
    assert {path.split("Tok")[0] for _method, path in requested} == {
        "/resume/",
        "/set-password/",
        "/reminders/opt-out/",
    }
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for method, path in requested:
            connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
            connection.request(method, path, headers={"Host": "localhost"})
            connection.getresponse().read()
            connection.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()

    lines = [record.getMessage() for record in every_log.records]
    access = [line for line in lines if "[redacted]" in line]
    for method, path in requested:
        # Everything after the secret link's prefix goes (the token, and a proof after it).
        redacted = path.split("Tok", 1)[0] + "[redacted]"
        assert any(f"{method} {redacted} HTTP/1.1" in line for line in access), (method, lines)
    assert not [line for line in lines if token in line]
