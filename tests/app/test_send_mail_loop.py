"""`flask send-mail --loop` waits for the database when it cannot be reached (down or
restarting) instead of ending; a single run (`flask send-mail`) still fails, with its exit code."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from app import cli


class Stop(Exception):
    """Ends the loop from its sleep."""


def outage_then(results: list[tuple[int, int] | Exception]) -> Any:
    """A send_due that gives each result in turn (raising the exceptions)."""

    def send_due(*args: Any, **kwargs: Any) -> tuple[int, int]:
        result = results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    return send_due


def down() -> OperationalError:
    return OperationalError("SELECT", None, Exception("connection refused"))


def test_the_loop_waits_for_the_database_and_carries_on(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "send_due", outage_then([down(), down(), (2, 0)]))
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            raise Stop()

    monkeypatch.setattr(cli.time, "sleep", sleep)
    result = app.test_cli_runner().invoke(args=["send-mail", "--loop", "--interval", "5"])

    assert isinstance(result.exception, Stop), result.output
    assert result.output.splitlines() == [
        "The database could not be reached; trying again in 5 s.",
        "The database could not be reached; trying again in 5 s.",
        "Sent 2, failed 0.",
    ]
    assert sleeps == [5.0, 5.0, 5.0]


def test_a_single_run_fails_when_the_database_cannot_be_reached(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "send_due", outage_then([down()]))
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert isinstance(result.exception, OperationalError)
    assert result.exit_code != 0


def test_the_loop_reports_only_the_runs_that_sent_or_failed(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make run` runs the loop every second beside the server: idle runs print nothing."""
    monkeypatch.setattr(cli, "send_due", outage_then([(0, 0), (1, 0), (0, 0), (0, 1)]))
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 4:
            raise Stop()

    monkeypatch.setattr(cli.time, "sleep", sleep)
    result = app.test_cli_runner().invoke(args=["send-mail", "--loop", "--interval", "1"])

    assert isinstance(result.exception, Stop), result.output
    assert result.output.splitlines() == ["Sent 1, failed 0.", "Sent 0, failed 1."]
