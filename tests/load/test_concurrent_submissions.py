"""A thousand complete applications from fifty clients at once, over real HTTP, lose nothing.

Each client has its own cookies and sends a whole application over HTTP, as a browser does
(the 19 requests are listed in http_journey.py): the four eligibility answers, the ten question
pages, check answers (which must show the client's own organisation), the declaration and the
final submit, each form posted with the CSRF token of the client's session, then the confirmation
page with the reference. Fifty clients are at work at every moment of the run, each sending its
pages and its final submit while the other forty-nine send theirs. Two setups:

- production: gunicorn (4 sync workers) with PostgreSQL, as `make serve` runs it;
- embedded: `make run`'s server, `flask run` (threaded werkzeug) with the development settings
  and the SQLite file in the instance folder.

All clients come from 127.0.0.1, so the per-address rate limits on new drafts and on sending are
raised through the environment for the run, and the minimum time to fill in the first page is set
to 0 (MIN_FILL_SECONDS): both are settings an operator can change; everything else (CSRF, the
honeypot, the session cookie) is as deployed. See server.LOAD_SETTINGS. The SMTP outage is
proved in test_smtp_outage.py, on a smaller run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.load.checks import (
    check_every_application_arrived_once,
    check_no_personal_data_in_log,
    sqlite_url,
)
from tests.load.http_journey import Applicant, run_applicants
from tests.load.server import (
    flask_run_server,
    gunicorn_server,
    prepare_database,
    server_env,
)

# The figures. LOAD_APPLICATIONS lowers the count for a quick local run; CI uses 1,000.
APPLICATIONS = int(os.environ.get("LOAD_APPLICATIONS", "1000"))
CLIENTS = 50

pytestmark = pytest.mark.slow


@pytest.mark.postgres
def test_gunicorn_and_postgresql_take_1000_applications(
    postgres_database: str, instance: Path, tmp_path: Path
) -> None:
    env = server_env(instance, postgres_database, "production")
    prepare_database(env, postgres_database)
    with gunicorn_server(env, tmp_path / "gunicorn.log") as server:
        outcomes = run_applicants(APPLICATIONS, CLIENTS, lambda n: Applicant(server.url, n))
        log = server.log()

    check_every_application_arrived_once(postgres_database, outcomes)
    check_no_personal_data_in_log(log)


def test_make_run_with_sqlite_takes_1000_applications(instance: Path, tmp_path: Path) -> None:
    env = server_env(instance, None, "development")
    prepare_database(env, sqlite_url(instance))
    with flask_run_server(env, tmp_path / "flask-run.log") as server:
        outcomes = run_applicants(APPLICATIONS, CLIENTS, lambda n: Applicant(server.url, n))
        log = server.log()

    check_every_application_arrived_once(sqlite_url(instance), outcomes)
    check_no_personal_data_in_log(log)
