"""Sending twice (double click, refresh, two tabs, ten requests at once) sends exactly once.

The issue: "Sending twice (double click, refresh, two tabs) creates exactly one application and
shows the same confirmation." Two tabs are two clients sharing the session cookie; concurrency is
ten threads, each with its own test client and the same cookie, released by one barrier.
"""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Application, OutboxMessage, Round
from tests.app.apply.journey import complete_application, send
from tests.app.helpers import Client

CHECK_ANSWERS = "/application/check-answers"
DECLARATION = {"confirm_correct": "yes", "confirm_privacy": "yes"}
CONFIRMATION_PATH = "/application/confirmation"
THREADS = 10


def sent_once() -> Application:
    """Exactly one application, submitted with a reference, and one confirmation email queued."""
    db.session.rollback()  # read what the requests committed, not an older snapshot
    application = db.session.scalars(select(Application)).one()
    assert application.status == "submitted"
    assert application.reference
    with_reference = select(func.count(Application.id)).where(Application.reference.is_not(None))
    assert db.session.scalar(with_reference) == 1
    confirmations = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "confirmation")
    ).all()
    assert len(confirmations) == 1
    assert application.reference in confirmations[0].subject
    return application


def reference_on(client: Client, url: str) -> str:
    page = client.get_page(url)
    return page.select_one(".reference").get_text(strip=True)


def second_tab(app: Flask, client: Client) -> Client:
    """Another client (a second tab) carrying the same session cookie as `client`."""
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.client.get_cookie(cookie_name)
    assert cookie is not None, "the journey should have set a session cookie"
    other = app.test_client()
    other.set_cookie(cookie_name, cookie.value, domain=cookie.domain)
    return Client(other)


def test_double_click_sends_once(client: Client, open_round: Round) -> None:
    complete_application(client)
    form = client.hidden_fields(CHECK_ANSWERS)
    body = {**form, **DECLARATION}
    # A double click: the same form posted twice, the second before the first page loads.
    first = client.client.post(CHECK_ANSWERS, data=body)
    second = client.client.post(CHECK_ANSWERS, data=body)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"].endswith(CONFIRMATION_PATH)
    application = sent_once()
    assert reference_on(client, first.headers["Location"]) == application.reference


def test_refresh_after_sending_shows_the_same_confirmation(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    form = client.hidden_fields(CHECK_ANSWERS)
    confirmation = send(client)
    reference = reference_on(client, confirmation)
    # The browser's "resend the form?" after a refresh: the old form posted again.
    again = client.client.post(CHECK_ANSWERS, data={**form, **DECLARATION})
    assert again.status_code == 302
    assert again.headers["Location"] == confirmation
    # And the check answers page itself now leads to the confirmation.
    assert client.get(CHECK_ANSWERS).headers["Location"] == confirmation
    assert reference_on(client, confirmation) == reference
    assert sent_once().reference == reference


def test_two_tabs_send_once_and_share_the_confirmation(
    app: Flask, client: Client, open_round: Round
) -> None:
    complete_application(client)
    other = second_tab(app, client)
    # Both tabs show check answers with the send button before either sends.
    first_form = client.hidden_fields(CHECK_ANSWERS)
    other_form = other.hidden_fields(CHECK_ANSWERS)
    first = client.client.post(CHECK_ANSWERS, data={**first_form, **DECLARATION})
    second = other.client.post(CHECK_ANSWERS, data={**other_form, **DECLARATION})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"].endswith(CONFIRMATION_PATH)
    reference = sent_once().reference
    assert reference_on(client, first.headers["Location"]) == reference
    assert reference_on(other, second.headers["Location"]) == reference


def test_ten_requests_at_the_same_moment_send_once(
    app: Flask, client: Client, open_round: Round
) -> None:
    complete_application(client)
    body = {**client.hidden_fields(CHECK_ANSWERS), **DECLARATION}
    tabs = [second_tab(app, client) for _ in range(THREADS)]
    # The test's own session must hold no transaction or lock while the threads run.
    db.session.rollback()

    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, str | None] | BaseException] = [None] * THREADS  # type: ignore[list-item]

    def post(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            response = tabs[index].client.post(CHECK_ANSWERS, data=body)
            results[index] = (response.status_code, response.headers.get("Location"))
        except BaseException as error:  # reported below, with the thread that raised it
            results[index] = error

    threads = [threading.Thread(target=post, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"

    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, f"requests raised: {errors!r}"
    statuses = [result[0] for result in results]  # type: ignore[index]
    assert statuses == [302] * THREADS, f"every request should redirect: {statuses}"
    locations = {result[1] for result in results}  # type: ignore[index]
    assert len(locations) == 1, locations
    location = locations.pop()
    assert location is not None and location.endswith(CONFIRMATION_PATH)

    application = sent_once()
    for tab in (client, tabs[0], tabs[-1]):
        assert reference_on(tab, location) == application.reference
