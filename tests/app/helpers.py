"""A test client that reads pages as a person would and checks their hygiene.

`client.get_page(url)` asserts the status, parses the HTML and checks that the page has a title,
unique ids, labels for every input and an action on every form. `client.submit(url, data)` posts
a form with the CSRF token the page gave, as a browser would.
"""

from __future__ import annotations

from collections import Counter
from email.message import EmailMessage
from typing import Any

from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from werkzeug.test import TestResponse


def check_hygiene(page: BeautifulSoup) -> None:
    title = page.select_one("title")
    assert title is not None and title.get_text(strip=True), "every page needs a title"
    h1s = page.select("h1")
    assert len(h1s) == 1, f"expected one h1, found {len(h1s)}"
    ids = [tag["id"] for tag in page.select("[id]")]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates, f"duplicate ids: {duplicates}"
    for form in page.select("form"):
        assert form.get("action"), "every form needs an action"
        if form.get("method", "get").lower() == "post":
            assert form.select_one("input[name=csrf_token]"), "every POST form needs a CSRF token"
            assert form.has_attr("novalidate"), "forms use the server's validation (novalidate)"
    for control in page.select("input:not([type=hidden]), textarea, select"):
        control_id = control.get("id")
        assert control_id and page.select_one(f'label[for="{control_id}"]'), (
            f"input {control.get('name')} has no label"
        )
    for link in page.select(".error-summary a"):
        href = link["href"]
        if href.startswith("#"):
            assert page.select_one(f'[id="{href[1:]}"]'), f"error summary links to missing {href}"


class Client:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.forms: dict[str, dict[str, str]] = {}

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def get_page(self, url: str, status: int = 200) -> BeautifulSoup:
        response = self.client.get(url)
        assert response.status_code == status, (
            f"GET {url}: {response.status_code}, expected {status}; Location "
            f"{response.headers.get('Location')}"
        )
        page = BeautifulSoup(response.data, "html.parser")
        check_hygiene(page)
        return page

    def hidden_fields(self, url: str) -> dict[str, str]:
        """The hidden inputs of the page's main form (CSRF token, spam-check stamp)."""
        page = self.get_page(url)
        form = page.select_one("main form[method=post]")
        assert form is not None, f"no form on {url}"
        return {
            tag["name"]: tag.get("value", "")
            for tag in form.select("input[type=hidden]")
            if tag.get("name")
        }

    def submit(
        self, url: str, data: dict[str, Any] | None = None, *, status: int = 302, **kwargs: Any
    ) -> TestResponse:
        body: dict[str, Any] = self.hidden_fields(url)
        body.update(data or {})
        response = self.client.post(url, data=body, **kwargs)
        assert response.status_code == status, (
            f"POST {url}: {response.status_code}, expected {status}\n"
            + errors_of(BeautifulSoup(response.data, "html.parser"))
        )
        return response

    def submit_page(
        self, url: str, data: dict[str, Any] | None = None, status: int = 200
    ) -> BeautifulSoup:
        response = self.submit(url, data, status=status)
        page = BeautifulSoup(response.data, "html.parser")
        check_hygiene(page)
        return page


def download(client: Client, url: str) -> TestResponse:
    """POST to an audited download as its button does, with this browser's CSRF token (from its
    home page's sign-out form, or the sign-in form), whether or not it may see the button."""
    home = client.client.get("/sign-in", follow_redirects=True)
    token = BeautifulSoup(home.data, "html.parser").select_one("input[name=csrf_token]")
    assert token is not None, "no CSRF token on the home page"
    return client.client.post(url, data={"csrf_token": token["value"]})


def press(client: Client, page_url: str, action: str, data: dict[str, str] | None = None) -> Any:
    """Press a button on a page as a browser would: the form's hidden fields and the button.
    The first POST form whose action starts with ``action`` (its query string included)."""
    page = client.get_page(page_url)
    form = next(f for f in page.select("form[method=post]") if f["action"].startswith(action))
    body = {t["name"]: t.get("value", "") for t in form.select("input[type=hidden]")}
    body.update(data or {})
    return client.client.post(form["action"], data=body)


def errors_of(page: BeautifulSoup) -> str:
    return " | ".join(a.get_text(" ", strip=True) for a in page.select(".error-summary li"))


class RecordingTransport:
    """An SMTP stand-in that keeps what it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    def send(self, message: EmailMessage, *, outbox_id: int) -> None:
        self.messages.append(message)


def deliver_emails() -> list[EmailMessage]:
    """Send every due email as `flask send-mail` does (those composed when sent are composed
    then), to a transport that keeps them; returns them, oldest first."""
    from app.extensions import db
    from app.outbox import send_due

    transport = RecordingTransport()
    send_due(db.session, transport, "Partner Select <partners@example.org>")
    return transport.messages


def body_of(message: EmailMessage) -> str:
    return str(message.get_content())
