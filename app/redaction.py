"""Secret links kept out of every log the service writes.

A resume link opens an applicant's draft and a set-password link (an invitation or a reset, for
up to seven days) opens an account: anyone who reads a log holding one can use it. The paths
below are the routes whose next segment is such a secret; werkzeug's development server log and
gunicorn's access and error logs (app/gunicorn_config.py) show them as `[redacted]`. A new route
with a token in its path belongs here: tests/app/test_secret_links_in_logs.py fails until it is.
"""

from __future__ import annotations

import logging
import re

SECRET_LINK_PATHS = ("/resume/", "/set-password/", "/reminders/opt-out/")

_SECRET_LINK = re.compile(
    "(" + "|".join(re.escape(path) for path in SECRET_LINK_PATHS) + r")[^\s?#\"']+"
)


def redact_secret_links(text: str) -> str:
    """``text`` with the secret in every secret link replaced by ``[redacted]``."""
    return _SECRET_LINK.sub(r"\1[redacted]", text)


class RedactSecretLinks(logging.Filter):
    """Takes the secrets out of a record's message and arguments (werkzeug logs the request line
    as an argument); the record itself is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_secret_links(record.msg)
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                redact_secret_links(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True
