"""gunicorn's access log, as app/gunicorn_config.py sets it up: only the atoms that hold no
personal data exist, so even a changed log format cannot write client addresses, cookies,
referrers, user agents, query strings or the secrets of secret links (resume, set-password)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from app import create_app, gunicorn_config
from app.gunicorn_config import RedactingLogger
from tests.app.secret_links import secret_link_urls

TOKEN = "k3Jx9-secret-resume-token"
ENVIRON = {
    # As werkzeug's ProxyFix leaves it behind the proxy: the applicant's own address.
    "REMOTE_ADDR": "203.0.113.9",
    "REQUEST_METHOD": "GET",
    "PATH_INFO": f"/resume/{TOKEN}",
    "RAW_URI": f"/resume/{TOKEN}?email=someone%40example.org",
    "QUERY_STRING": "email=someone%40example.org",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "HTTP_COOKIE": "partner_select_session=cookie-value",
    "HTTP_REFERER": "https://example.org/from?postcode=LS1+1AA",
    "HTTP_USER_AGENT": "Browser/1.0 (someone@example.org)",
}
REQUEST = SimpleNamespace(headers=[("COOKIE", "partner_select_session=cookie-value")])
RESPONSE = SimpleNamespace(
    status="302 FOUND", sent=189, headers=[("Set-Cookie", "partner_select_session=new-value")]
)


def access_line(
    access_format: str, caplog: pytest.LogCaptureFixture, environ: dict[str, str] = ENVIRON
) -> str:
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", access_format)
    logger = RedactingLogger(config)
    logger.access_log.propagate = True
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        logger.access(RESPONSE, REQUEST, environ, timedelta(seconds=1, microseconds=234_000))
    return caplog.records[-1].getMessage()


def test_the_service_format_logs_the_request_without_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    line = access_line(gunicorn_config.access_log_format, caplog)
    assert line.startswith("[")  # the time comes first
    assert '"GET /resume/[redacted]" 302 189 1234ms worker=<' in line
    assert TOKEN not in line
    assert "203.0.113.9" not in line


@pytest.mark.parametrize(
    "atom",
    [
        "%(h)s",
        "%(r)s",
        "%(q)s",
        "%(f)s",
        "%(a)s",
        "%({cookie}i)s",
        "%({set-cookie}o)s",
        "%({http_cookie}e)s",
        "%({raw_uri}e)s",
        "%(u)s",
    ],
)
def test_atoms_that_could_hold_personal_data_do_not_exist(
    atom: str, caplog: pytest.LogCaptureFixture
) -> None:
    line = access_line(f"[{atom}]", caplog)
    assert line == "[-]"


def test_every_secret_link_is_redacted_in_the_access_log(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    urls = secret_link_urls(create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}), TOKEN)
    assert {path.split(TOKEN)[0] for _method, path in urls} == {
        "/resume/",
        "/set-password/",
        "/reminders/opt-out/",
    }
    for method, path in urls:
        environ = {**ENVIRON, "REQUEST_METHOD": method, "PATH_INFO": path, "RAW_URI": path}
        line = access_line(gunicorn_config.access_log_format, caplog, environ)
        assert TOKEN not in line, line
        assert f'"{method} {path.split(TOKEN)[0]}[redacted]" 302' in line, line
