"""Property-based fuzzing of every form and upload: at least 1,000 hostile bodies per POST endpoint.

For every body: no 5xx; an oversized body gets the 413 page; a refusal is explained (an error
summary or notice on the page, or an error page with its heading); and a refusal writes nothing.
A redirect is the app accepting the body (post/redirect/get): it may write, and must stay on
this site.

Speed: one app and one world per endpoint. The world is built once and each body runs inside a
SAVEPOINT that is rolled back afterwards (the app's session joins the test's connection in
"create_savepoint" mode), so an accepted body cannot change the state the next body meets, and
no body pays for a disk commit. "Nothing written" is SQLite's ``total_changes()`` on that one
connection, which counts every row inserted, updated or deleted, so it sees updates as well as
new rows.

The examples are derandomised so the suite is repeatable; set FUZZ_SEED=<n> to explore others.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from app.errors import PAGES
from app.extensions import db, limiter
from app.security import CSP
from tests.app.apply.journey import pass_eligibility
from tests.app.conftest import sign_in_as
from tests.app.fuzz.bodies import Body, Field, bodies
from tests.app.fuzz.world import CASES, Case
from tests.app.helpers import Client
from tests.app.world import World, reuse_per_database

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
FUZZ_SEED = os.environ.get("FUZZ_SEED")
ERROR_TITLES = {title for title, _ in PAGES.values()} | {"Your session timed out"}


def test_every_post_endpoint_is_fuzzed(app: Flask) -> None:
    posts = {
        rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or set())
    }
    covered = {case.endpoint for case in CASES}
    assert posts - covered == set(), "add these POST endpoints to tests/app/fuzz/world.py CASES"
    assert covered - posts == set(), "these CASES name endpoints that no longer exist"


@contextmanager
def one_transaction(app: Flask) -> Iterator[Connection]:
    """Bind the app's sessions to one connection whose transaction is rolled back at the end."""
    db.session.remove()
    engines = db.engines
    engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    factory = db.session.session_factory
    saved = dict(factory.kw)
    factory.configure(join_transaction_mode="create_savepoint")
    engines[None] = connection  # type: ignore[assignment]
    try:
        yield connection
    finally:
        engines[None] = engine
        factory.kw.clear()
        factory.kw.update(saved)
        db.session.remove()
        outer.rollback()
        connection.close()


def row_counts(connection: Connection) -> dict[str, int]:
    query = " UNION ALL ".join(
        f"SELECT '{t.name}', COUNT(*) FROM {t.name}" for t in db.metadata.sorted_tables
    )
    return {name: count for name, count in connection.exec_driver_sql(query)}


def changes(driver: sqlite3.Connection) -> int:
    """Rows inserted, updated or deleted on this connection so far (SQLite's total_changes(),
    read from the driver without running a statement)."""
    return driver.total_changes


@contextmanager
def savepoint(driver: sqlite3.Connection) -> Iterator[None]:
    """Undo everything one body did. Issued on the driver: SQLAlchemy's begin_nested() cost a
    twentieth of a body, and its rollback leaves the savepoint open, so they piled up."""
    driver.execute("SAVEPOINT fuzz_body")
    try:
        yield
    finally:
        driver.execute("ROLLBACK TO fuzz_body")
        driver.execute("RELEASE fuzz_body")


def form_fields(page: BeautifulSoup, url: str) -> tuple[str, list[Field], str]:
    """(where it posts, its fields, its CSRF token) for the form on `page` posting to `url`."""
    path = urlsplit(url).path
    forms = [
        f
        for f in page.select("form")
        if f.get("method", "get").lower() == "post" and urlsplit(f.get("action", "")).path == path
    ]
    token_tag = page.select_one("input[name=csrf_token]")
    assert token_tag is not None, f"no CSRF token on the page for {url}"
    token = str(token_tag["value"])
    if not forms:
        return url, [Field("csrf_token", (token,), "hidden")], token
    form = forms[0]
    action = str(form["action"])
    fields: dict[str, Field] = {}
    for tag in form.select("input, textarea, select, button[name]"):
        name = tag.get("name")
        if not name:
            continue
        kind = (tag.get("type") or "text").lower()
        if tag.name == "select":
            options = tuple(str(o.get("value", o.get_text())) for o in tag.select("option"))
            fields[name] = Field(name, options, "choice")
        elif tag.name == "button" or kind in ("radio", "checkbox", "submit"):
            previous = fields.get(name)
            options = (*(previous.options if previous else ()), str(tag.get("value", "on")))
            fields[name] = Field(name, options, "choice")
        elif kind == "file":
            fields[name] = Field(name, (), "file")
        elif kind == "hidden":
            fields[name] = Field(name, (str(tag.get("value", "")),), "hidden")
        else:
            fields[name] = Field(name, (), "text")
    return action, list(fields.values()), token


def prepare_client(client: Client, case: Case, world: World) -> None:
    if case.role in ("admin", "staff", "reviewer"):
        sign_in_as(client, getattr(world, case.role))
    elif case.role == "applicant":
        assert client.get(f"/resume/{world.draft_token}").status_code == 302
    elif case.role == "new-applicant":
        pass_eligibility(client)


SUMMARY_ITEM = re.compile(rb'class="error-summary".*?<li>\s*(?:<a [^>]*>)?\s*[^<\s]', re.S)
NOTICE = re.compile(rb'<div class="notice" role="status"><p>\s*[^<\s]')
HEADING = re.compile(rb"<h1[^>]*>(.*?)</h1>", re.S)


def heading(html: bytes) -> str:
    """The page's h1 text (parsed with a regular expression: BeautifulSoup would take longer
    than the request on 33,000 pages)."""
    found = HEADING.search(html)
    return BeautifulSoup(found.group(1), "html.parser").get_text(strip=True) if found else ""


def explained(html: bytes, status: int) -> bool:
    """The page says what went wrong: an error summary, a notice, or an error page."""
    if SUMMARY_ITEM.search(html) or NOTICE.search(html):
        return True
    return status >= 400 and heading(html) in ERROR_TITLES


def first_value(body: Any, name: str) -> str | None:
    """The first value of a field in a body (what ``request.form.get`` reads)."""
    if isinstance(body, dict):
        values = body.get(name)
        return values[0] if isinstance(values, list) and values else None
    for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
        if key == name:
            return value
    return None


# Refusals that say nothing on purpose: an unchanged page the person asked for.
QUIET = {
    # "Add another row" re-shows the quota table with a blank row; nothing is refused.
    "staff.quotas": lambda body: first_value(body, "action") == "add",
}


# Endpoints whose every request is slow (the replacement page replays the selection engine):
# fuzzed first, so that pytest-xdist does not leave one of them to the end on one worker.
SLOWEST = ("staff.replacement", "staff.quotas_upload")
ORDERED = sorted(CASES, key=lambda c: (*SLOWEST, c.endpoint).index(c.endpoint))


@pytest.mark.slow
@pytest.mark.parametrize("case", ORDERED, ids=[f"{c.endpoint}[{c.role}]" for c in ORDERED])
def test_fuzz(app: Flask, client: Client, case: Case) -> None:
    world = reuse_per_database(app)
    prepare_client(client, case, world)
    targets = []
    for url in case.urls(world):
        source = case.source(world, url) if case.source else url
        page = client.get_page(source)
        targets.append(form_fields(page, url))
    cookies = dict(client.client._cookies)  # type: ignore[attr-defined]
    limit = app.config["MAX_CONTENT_LENGTH"]
    seen = {"examples": 0, "accepted": 0, "refused": 0, "too large": 0}

    # One strategy for the whole test: a form to post to, and a body for it.
    examples = st.one_of(
        [
            st.tuples(st.just(action), bodies(fields, token, limit))
            for action, fields, token in targets
        ]
    )

    with one_transaction(app) as connection:
        counts = row_counts(connection)
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection), "the fuzz runs on SQLite (see conftest.py)"

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=FUZZ_SEED is None,
            suppress_health_check=list(HealthCheck),
        )
        @given(example=examples)
        def fuzz(example: tuple[str, Body]) -> None:
            action, body = example
            with savepoint(driver):
                client.client._cookies.clear()  # type: ignore[attr-defined]
                client.client._cookies.update(cookies)  # type: ignore[attr-defined]
                # Rate limits would answer 429 after a few dozen bodies; they have their own tests.
                limiter.reset()
                before = changes(driver)
                response = client.client.post(action, **body.request_kwargs())
                check(case, action, body, response, connection, driver, before, counts, seen)

        if FUZZ_SEED is not None:
            fuzz = seed(int(FUZZ_SEED))(fuzz)
        fuzz()
        # Every body was undone: the next one met the world as it was built.
        assert row_counts(connection) == counts
    assert seen["examples"] >= EXAMPLES, seen
    # The fuzz reached the validators: most bodies were refused by them, not by the CSRF check.
    assert seen["refused"] + seen["accepted"] > EXAMPLES // 2, seen


def check(
    case: Case,
    action: str,
    body: Any,
    response: Any,
    connection: Connection,
    driver: sqlite3.Connection,
    before: int,
    counts: dict[str, int],
    seen: dict[str, int],
) -> None:
    seen["examples"] += 1
    status = response.status_code
    where = f"POST {action} ({body.description}): {status}"
    assert status < 500, where
    # Every answer, refusals and error pages included, carries the security headers.
    assert response.headers.get("Content-Security-Policy") == CSP, where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert "no-store" in response.headers.get("Cache-Control", ""), where
    if body.oversized:
        assert status == 413, where
    if status == 200 and response.headers.get("Content-Disposition", "").startswith("attachment"):
        response.get_data()  # a streamed file is read now, inside this body's savepoint
        seen["accepted"] += 1  # a download (recorded on the audit log, like a change)
        return
    if status in (301, 302, 303):
        location = urlsplit(response.headers["Location"])
        assert location.netloc in ("", "localhost"), (where, response.headers["Location"])
        seen["accepted"] += 1
        return
    html = response.data
    if status == 413:
        assert heading(html) == "What you sent is too large", where
        seen["too large"] += 1
    else:
        quiet = QUIET.get(case.endpoint)
        if not (quiet and quiet(body.data)):
            assert explained(html, status), f"{where}: refused without saying why\n{html[:3000]!r}"
        seen["refused"] += 1
    if changes(driver) != before:
        now = row_counts(connection)
        written = {t: (counts[t], now[t]) for t in counts if counts[t] != now[t]}
        assert written and set(written) <= case.writes_when_refused, (
            f"{where}: a refused body wrote to the database: {written or 'updated rows'}"
        )
