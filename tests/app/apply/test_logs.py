"""Personal data never appears in logs: not from the journey, the outbox or an unexpected error.

Every logger is turned up to DEBUG (SQLAlchemy's statement log to INFO, as when someone sets
`echo`; its DEBUG level prints result rows by design and is a developer's tool only), the whole
journey runs, and no record may quote what the applicant typed or their private resume token.
"""

from __future__ import annotations

import http.client
import logging
import re
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.models import Round
from app.redaction import RedactSecretLinks
from tests.app.apply.journey import TEXT, VALID, complete_application, send
from tests.app.helpers import Client

EMAIL = VALID["contact"]["email"]
PERSONAL = {
    "email": EMAIL,
    "phone": VALID["contact"]["phone"],
    "postcode as typed": VALID["location"]["postcode"],
    "postcode as stored": "CF37 1AA",
    "contact name": VALID["contact"]["contact_name"],
    **{f"answer {key}": value for key, value in TEXT.items()},
}
LOGGERS = ("app", "werkzeug", "flask", "flask_limiter", "limits", "flask_wtf", "alembic")


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    yield caplog


def logged_text(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Everything a log handler could write: message, exception and stack of every record."""
    formatter = logging.Formatter()
    texts = []
    for record in caplog.records:
        parts = [record.getMessage(), record.exc_text or ""]
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
        if record.stack_info:
            parts.append(record.stack_info)
        texts.append("\n".join(parts))
    return texts


def assert_no_personal_data(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    texts = logged_text(caplog)
    assert texts, "expected the journey to log something (is logging captured?)"
    for label, value in [*PERSONAL.items(), *(("resume token", s) for s in secrets)]:
        leaks = [text for text in texts if value.lower() in text.lower()]
        assert not leaks, f"the {label} appears in the logs: {leaks[:2]}"


def resume_token(client: Client) -> str:
    link = client.get_page("/application").select_one("#resume-link .resume-link a")
    assert link is not None
    match = re.search(r"/resume/([^/?#]+)", link["href"])
    assert match is not None
    return match.group(1)


def test_the_whole_journey_logs_no_personal_data(
    app: Flask, client: Client, open_round: Round, logs: pytest.LogCaptureFixture
) -> None:
    complete_application(client)
    token = resume_token(client)
    assert client.get(f"/resume/{token}").status_code == 302
    client.get_page("/application/check-answers")
    confirmation = send(client)
    client.get_page(confirmation)
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "Sent 2, failed 0" in result.output
    # The outbox and the database did log, so the check below is not vacuous.
    messages = [record.getMessage() for record in logs.records]
    assert any("outbox message" in message and "sent" in message for message in messages)
    assert any("UPDATE applications" in message for message in messages)
    assert_no_personal_data(logs, token)


def test_an_unexpected_error_is_logged_with_an_id_but_not_its_message(
    app: Flask, client: Client, logs: pytest.LogCaptureFixture
) -> None:
    def broken_view() -> str:
        message = EMAIL  # kept off the raise line: the logged frames quote source lines
        raise ValueError(message)

    app.add_url_rule("/test-only/broken", "broken", broken_view)
    response = client.get("/test-only/broken")

    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Sorry, there is a problem" in page
    assert EMAIL not in page
    match = re.search(r"error code ([0-9a-f]{8})", page)
    assert match is not None, "the page should give an error code to quote"
    error_id = match.group(1)

    errors = [r for r in logs.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    message = errors[0].getMessage()
    assert error_id in message
    assert "ValueError" in message
    assert "broken_view" in message  # the traceback's frames locate the fault
    assert_no_personal_data(logs)


def werkzeug_access_record(path: str) -> logging.LogRecord:
    """A record shaped as werkzeug's development server logs a request."""
    return logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        0,
        '127.0.0.1 - - [25/Nov/2026 19:40:00] "%s" %s %s',
        (f"GET {path} HTTP/1.1", "302", "-"),
        None,
    )


def test_the_access_log_filter_redacts_resume_tokens() -> None:
    token = "x7Hq-3kP_mZ9vW2bN4cR8tY6uJ1sA5dF0gL3hK7eQ2w"
    record = werkzeug_access_record(f"/resume/{token}?utm=1")
    assert RedactSecretLinks().filter(record) is True  # the line is kept, only the token goes
    message = record.getMessage()
    assert token not in message
    assert '"GET /resume/[redacted]?utm=1 HTTP/1.1" 302 -' in message

    # The token in the format string itself (a pre-formatted message) is redacted too.
    inline = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 0, f"GET /resume/{token} 302", None, None
    )
    RedactSecretLinks().filter(inline)
    assert token not in inline.getMessage()

    other = werkzeug_access_record("/application/contact")
    RedactSecretLinks().filter(other)
    assert "/application/contact" in other.getMessage()


def test_the_development_server_access_log_has_no_resume_token(
    app: Flask, client: Client, open_round: Round, logs: pytest.LogCaptureFixture
) -> None:
    complete_application(client)
    token = resume_token(client)
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        connection.request("GET", f"/resume/{token}", headers={"Host": "localhost"})
        response = connection.getresponse()
        response.read()
        connection.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    assert response.status == 302
    access = [r.getMessage() for r in logs.records if r.name == "werkzeug"]
    assert any("/resume/[redacted]" in line for line in access), access
    assert_no_personal_data(logs, token)
