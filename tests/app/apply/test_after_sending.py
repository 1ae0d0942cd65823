"""After sending: the resume link (and the browser that sent it) shows the answers sent for
APPLY_SUBMITTED_COPY_DAYS, then only how to ask for a copy; "Forget this device" lets an
applicant on a shared computer stop the browser opening their application."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from app.extensions import db
from app.models import Application, Round, utcnow
from tests.app.apply.journey import TEXT, VALID, complete_application, send
from tests.app.apply.test_logs import resume_token
from tests.app.helpers import Client

CONTACT = VALID["contact"]
SHOWN_ONLY_WHILE_READABLE = [*TEXT.values(), CONTACT["contact_name"], CONTACT["email"]]


def sent_days_ago(days: float) -> Application:
    application = db.session.query(Application).one()
    application.submitted_at = utcnow() - timedelta(days=days)
    db.session.commit()
    return application


def sent_with_link(client: Client) -> str:
    complete_application(client)
    token = resume_token(client)
    send(client)
    return token


def assert_shows_no_answers(text: str) -> None:
    for value in SHOWN_ONLY_WHILE_READABLE:
        assert value not in text, value


def test_the_link_shows_the_answers_sent_for_30_days_then_how_to_ask_for_a_copy(
    app: Flask, client: Client, open_round: Round
) -> None:
    token = sent_with_link(client)
    sent_days_ago(29)
    elsewhere = Client(app.test_client())
    assert elsewhere.get(f"/resume/{token}").headers["Location"] == "/application/confirmation"
    assert TEXT["difference"] in elsewhere.get_page("/application/confirmation").get_text()

    application = sent_days_ago(31)
    page = Client(app.test_client()).get_page(f"/resume/{token}")
    assert page.select_one("h1").get_text() == "Your answers are no longer shown here"
    text = page.get_text(" ")
    assert application.reference in text and "0808 157 0192" in text
    assert "partners@example.org" in text
    assert_shows_no_answers(text)

    # The browsers that held it (the one that sent it, the one that resumed it) now show the
    # same, and let go of the token.
    for browser in (client, elsewhere):
        page = browser.get_page("/application/confirmation")
        assert page.select_one("h1").get_text() == "Your answers are no longer shown here"
        assert_shows_no_answers(page.get_text(" "))
        with browser.client.session_transaction() as session:
            assert "token" not in session
        assert browser.get("/application/confirmation").headers["Location"] == "/"


def test_how_long_the_answers_stay_readable_is_a_setting(
    app: Flask, client: Client, open_round: Round
) -> None:
    app.config["APPLY_SUBMITTED_COPY_DAYS"] = 5
    token = sent_with_link(client)
    sent_days_ago(4)
    assert Client(app.test_client()).get(f"/resume/{token}").status_code == 302
    sent_days_ago(6)
    page = Client(app.test_client()).get_page(f"/resume/{token}")
    assert "for 5 days after they are sent" in page.get_text()


def test_forget_this_device_stops_the_browser_opening_the_application(
    app: Flask, client: Client, open_round: Round
) -> None:
    complete_application(client)
    token = resume_token(client)
    form = client.get_page("/application").select_one("#forget-device form")
    assert form["method"] == "post" and form["action"] == "/application/forget-device"
    assert form.select_one("button").get_text(strip=True) == "Forget this device"

    # Without its CSRF token (a link on another site), nothing is forgotten.
    assert client.client.post("/application/forget-device").status_code == 400
    assert client.get("/application").status_code == 200

    body = {"csrf_token": form.select_one("input[name=csrf_token]")["value"]}
    response = client.client.post("/application/forget-device", data=body)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    start = client.get_page("/")
    assert "This device no longer opens your expression of interest" in start.get_text()
    with client.client.session_transaction() as session:
        assert not {"token", "eligibility", "form_session"} & set(session)
    assert client.get("/application").headers["Location"].startswith("/eligibility/")

    # The private link still opens it, here or anywhere.
    assert client.get(f"/resume/{token}").headers["Location"] == "/application"
    assert CONTACT["contact_name"] in client.get_page("/application/check-answers").get_text()


def test_the_confirmation_page_offers_to_forget_the_device(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    send(client)
    page = client.get_page("/application/confirmation")
    assert page.select_one("#forget-device form")["action"] == "/application/forget-device"


def test_the_applicant_cookie_is_http_only_and_same_site(client: Client, open_round: Round) -> None:
    complete_application(client)
    token = resume_token(client)
    cookies = Client(client.client.application.test_client()).get(f"/resume/{token}")
    [cookie] = [c for c in cookies.headers.getlist("Set-Cookie") if "partner_select_session" in c]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
