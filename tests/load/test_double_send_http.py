"""Ten copies of the same final submit, sent at the same moment over real HTTP, send once.

tests/app/apply/test_double_send.py proves this through the test client; here the ten requests
go to real servers, where they are handled by different gunicorn worker processes (or werkzeug
threads) with their own database connections: one application, one confirmation email, and
the same confirmation page for all ten.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.load.checks import sqlite_url, stored
from tests.load.http_journey import CHECK_ANSWERS, CONFIRMATION, Applicant
from tests.load.server import (
    Server,
    flask_run_server,
    gunicorn_server,
    prepare_database,
    server_env,
)

COPIES = 10


def send_ten_at_once(server: Server) -> tuple[Applicant, list[tuple[int, str]]]:
    applicant = Applicant(server.url, 1)
    applicant.prepare()
    assert applicant.final_form is not None
    # Ten tabs of one browser: the same cookie and form, each with its own connection.
    tabs = [applicant.tab() for _ in range(COPIES)]
    barrier = threading.Barrier(COPIES)
    results: list[tuple[int, str] | BaseException | None] = [None] * COPIES

    def post(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            response = tabs[index].request("POST", CHECK_ANSWERS, applicant.final_form)
            results[index] = (response.status, response.location)
        except BaseException as error:  # reported below
            results[index] = error

    threads = [threading.Thread(target=post, args=(i,)) for i in range(COPIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    errors = [result for result in results if not isinstance(result, tuple)]
    assert not errors, f"requests failed: {errors!r}"

    references = set()
    for tab in tabs:
        references.add(tab.read_reference())
        tab.close()
    assert references == {applicant.read_reference()}, references
    applicant.close()
    return applicant, [result for result in results if isinstance(result, tuple)]


def check_sent_once(url: str, applicant: Applicant, results: list[tuple[int, str]]) -> None:
    assert [status for status, _ in results] == [302] * COPIES
    assert {location for _, location in results} == {CONFIRMATION}
    result = stored(url)
    assert result.submitted == [(applicant.reference, "Load test carers' network 00001")]
    assert result.outbox["confirmation"] == 1


@pytest.mark.postgres
def test_ten_copies_to_gunicorn_and_postgresql_send_once(
    postgres_database: str, instance: Path, tmp_path: Path
) -> None:
    env = server_env(instance, postgres_database, "production")
    prepare_database(env, postgres_database)
    with gunicorn_server(env, tmp_path / "gunicorn.log") as server:
        applicant, results = send_ten_at_once(server)
    check_sent_once(postgres_database, applicant, results)


def test_ten_copies_to_make_run_with_sqlite_send_once(instance: Path, tmp_path: Path) -> None:
    env = server_env(instance, None, "development")
    prepare_database(env, sqlite_url(instance))
    with flask_run_server(env, tmp_path / "flask-run.log") as server:
        applicant, results = send_ten_at_once(server)
    check_sent_once(sqlite_url(instance), applicant, results)
