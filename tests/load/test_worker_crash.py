"""A gunicorn worker killed with SIGKILL in the middle of the load loses no application.

Fifty clients send complete applications to gunicorn + PostgreSQL; once a tenth have been
confirmed, a worker is killed outright (SIGKILL: no cleanup, no graceful shutdown), and again
until at least one client has seen its connection broken (normally the first kill does it: every
worker is busy). The master starts a new worker. A client whose connection broke sends the same
request again with the same session, as a person selects the button again; for the final submit
that is the same declaration form with the same CSRF token.

Then: every reference a client was shown is in the database, for that client's application;
each client ends with exactly one submitted application and one confirmation email, whatever
step its connection broke at. A draft whose first save committed but whose response was lost is
left as an unsent draft (the client never got its cookie); those are counted, not sent.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.load.checks import check_every_application_arrived_once, stored
from tests.load.http_journey import Applicant, run_applicants
from tests.load.server import Server, gunicorn_server, prepare_database, server_env

APPLICATIONS = int(os.environ.get("CRASH_APPLICATIONS", "200"))
CLIENTS = 50
WORKERS = 4
MAX_KILLS = 10

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


class Killer:
    """Kills a worker once enough applications are confirmed, until a connection breaks."""

    def __init__(self, server: Server, applicants: list[Applicant], start_after: int) -> None:
        self.server = server
        self.applicants = applicants
        self.start_after = start_after
        self.killed: list[int] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def confirmed(self) -> int:
        return sum(1 for applicant in list(self.applicants) if applicant.reference)

    def broken(self) -> int:
        return sum(applicant.connection_errors for applicant in list(self.applicants))

    def run(self) -> None:
        while not self.done.is_set() and self.confirmed() < self.start_after:
            time.sleep(0.05)
        while not self.done.is_set() and len(self.killed) < MAX_KILLS and not self.broken():
            workers = self.server.worker_pids()
            if workers:
                os.kill(workers[0], signal.SIGKILL)
                self.killed.append(workers[0])
            time.sleep(1.0)


def test_a_killed_worker_loses_no_confirmed_application(
    postgres_database: str, instance: Path, tmp_path: Path
) -> None:
    env = server_env(instance, postgres_database, "production")
    prepare_database(env, postgres_database)
    applicants: list[Applicant] = []

    def make(number: int) -> Applicant:
        applicant = Applicant(server.url, number, retry=True)
        applicants.append(applicant)
        return applicant

    with gunicorn_server(env, tmp_path / "gunicorn.log", workers=WORKERS) as server:
        killer = Killer(server, applicants, start_after=APPLICATIONS // 10)
        killer.thread.start()
        try:
            outcomes = run_applicants(APPLICATIONS, CLIENTS, make)
        finally:
            killer.done.set()
            killer.thread.join(timeout=30)
        # The master replaced every killed worker.
        deadline = time.monotonic() + 30
        while len(server.worker_pids()) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = server.worker_pids()

    assert killer.killed, "no worker was killed: the load ended first"
    broken = sum(applicant.connection_errors for applicant in applicants)
    assert broken, f"killed {len(killer.killed)} workers but no connection broke"
    assert len(workers) == WORKERS and not set(workers) & set(killer.killed)

    check_every_application_arrived_once(postgres_database, outcomes)
    # Only a lost response to the very first save can leave an extra, unsent draft.
    assert stored(postgres_database).drafts <= broken
