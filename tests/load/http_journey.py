"""An applicant over real HTTP: one client (its own cookies and connection) sending a whole
application, as a browser does but without re-reading pages it already holds.

Each applicant makes 19 requests, all with its own session cookie:

1. GET the first eligibility question: the page gives the CSRF token (one per session, as
   Flask-WTF issues it; every later POST of the session carries it and the server checks it).
2. POST the four eligibility answers, each redirect checked to lead to the next question, then to
   the task list.
3. GET the first question page (organisation): it gives the signed spam-check stamp that only the
   page creating the draft carries; the honeypot field is sent empty, as a person leaves it.
4. POST the ten question pages in order, each with this applicant's own answers (a unique
   organisation name and email address); each redirect is checked to lead to the next page of the
   section or back to the task list.
5. GET check answers: it must show this applicant's organisation, and its declaration form gives
   the token for the final submit.
6. POST the declaration (the final submit, timed), which must redirect to the confirmation page.
7. GET the confirmation page and read the reference from it.

The pages between (each question page before it is posted, the task list after each section)
are not fetched: their forms hold nothing the client does not already have, and rendering them
is covered by the app tests and the browser tests. Pages are read with a few regular expressions
and the client uses `http.client` (keep-alive where the server offers it: werkzeug does, gunicorn's
sync workers close each connection), so that fifty client threads need far less CPU than the
server they are measuring.
"""

from __future__ import annotations

import html
import http.client
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.app.apply.journey import ELIGIBILITY_IDS, PAGE_ORDER, VALID

CHECK_ANSWERS = "/application/check-answers"
CONFIRMATION = "/application/confirmation"
DECLARATION = {"confirm_correct": "yes", "confirm_privacy": "yes"}
FIRST_PAGE = PAGE_ORDER[0]

_MAIN = re.compile(r"<main\b.*?</main>", re.S)
_POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S)
_INPUT = re.compile(r"<input\b[^>]*>")
_ATTRIBUTE = re.compile(r'(\w[\w-]*)="([^"]*)"')
_REFERENCE = re.compile(r'class="reference">([^<]+)<')


class JourneyError(AssertionError):
    """A page answered with something a person would not expect."""


class ConnectionLost(Exception):
    """The connection broke before a response came (a worker was killed)."""


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of the main POST form of a page."""
    main = _MAIN.search(page)
    form = _POST_FORM.search(main.group(0) if main else page)
    if form is None:
        raise JourneyError("no POST form on the page")
    fields = {}
    for tag in _INPUT.findall(form.group(1)):
        attributes = dict(_ATTRIBUTE.findall(tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            fields[attributes["name"]] = html.unescape(attributes.get("value", ""))
    if not fields.get("csrf_token"):
        raise JourneyError("the form has no CSRF token")
    return fields


def organisation_name(number: int) -> str:
    return f"Load test carers' network {number:05d}"


def answers_for(number: int) -> dict[str, dict[str, Any]]:
    """Valid answers, with an organisation name and email unique to this applicant."""
    answers = {page: dict(data) for page, data in VALID.items()}
    answers["organisation"]["organisation_name"] = organisation_name(number)
    answers["contact"]["email"] = f"load-{number:05d}@example.org"
    return answers


@dataclass
class Response:
    status: int
    location: str  # the path of the Location header, "" if none
    text: str


@dataclass
class Applicant:
    base_url: str
    number: int
    # Retry a step whose connection broke (the same cookies, the same form); else raise.
    retry: bool = False
    cookies: dict[str, str] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)
    connection_errors: int = 0
    reference: str | None = None
    submit_seconds: float | None = None
    final_form: dict[str, str] | None = None
    _connection: http.client.HTTPConnection | None = field(default=None, repr=False)

    def tab(self) -> Applicant:
        """Another tab of the same browser: the same cookies and form, its own connection."""
        return Applicant(
            self.base_url, self.number, cookies=dict(self.cookies), final_form=self.final_form
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value, *attributes = rest.split(";")
            expired = any(a.strip().lower() == "max-age=0" for a in attributes)
            if expired:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()

    def _send_once(self, method: str, path: str, data: dict[str, Any] | None) -> Response:
        if self._connection is None:
            split = urlsplit(self.base_url)
            self._connection = http.client.HTTPConnection(
                split.hostname or "", split.port, timeout=60
            )
        headers = {"Accept-Encoding": "identity"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self._connection.request(method, path, body=body, headers=headers)
        response = self._connection.getresponse()
        text = response.read().decode()
        self._keep_cookies(response)
        if response.will_close:
            self.close()
        return Response(response.status, urlsplit(response.getheader("Location", "")).path, text)

    def request(self, method: str, path: str, data: dict[str, Any] | None = None) -> Response:
        for _attempt in range(10):
            try:
                response = self._send_once(method, path, data)
            except (ConnectionError, http.client.HTTPException) as error:
                self.close()
                self.connection_errors += 1
                if not self.retry:
                    raise ConnectionLost(f"{method} {path}") from error
                time.sleep(0.05)
                continue
            self.statuses.append(response.status)
            return response
        raise ConnectionLost(f"{method} {path}: gave up after 10 broken connections")

    def get_page(self, path: str) -> str:
        response = self.request("GET", path)
        if response.status != 200:
            raise JourneyError(f"GET {path}: {response.status}")
        return response.text

    def post(self, path: str, body: dict[str, Any], *expect: str) -> str:
        """Post a form and return the path it redirects to (one of `expect`, if given)."""
        response = self.request("POST", path, body)
        if response.status != 302:
            raise JourneyError(f"POST {path}: {response.status}")
        if expect and response.location not in expect:
            raise JourneyError(f"POST {path} went to {response.location}, expected {expect}")
        return response.location

    def prepare(self) -> None:
        """Everything up to the check answers page: eligibility and every question page."""
        answers = answers_for(self.number)
        form = hidden_fields(self.get_page(f"/eligibility/{ELIGIBILITY_IDS[0]}"))
        for index, question_id in enumerate(ELIGIBILITY_IDS):
            later = ELIGIBILITY_IDS[index + 1 :]
            expect = f"/eligibility/{later[0]}" if later else "/application"
            self.post(f"/eligibility/{question_id}", {**form, "answer": "yes"}, expect)
        first_page = hidden_fields(self.get_page(f"/application/{FIRST_PAGE}"))
        if not first_page.get("form_started"):
            raise JourneyError("the first question page has no spam-check stamp")
        for index, page_id in enumerate(PAGE_ORDER):
            later = PAGE_ORDER[index + 1 :]
            # The next page of the section, or back to the task list at the section's end.
            expect = (f"/application/{later[0]}", "/application") if later else ("/application",)
            extra = {**first_page, "website": ""} if page_id == FIRST_PAGE else form
            self.post(f"/application/{page_id}", {**extra, **answers[page_id]}, *expect)
        page = self.get_page(CHECK_ANSWERS)
        # Jinja escapes the apostrophe; the number makes the name this applicant's own.
        if html.escape(organisation_name(self.number)).replace("&#x27;", "&#39;") not in page:
            raise JourneyError("check answers does not show this applicant's organisation")
        self.final_form = {**hidden_fields(page), **DECLARATION}

    def send(self) -> str:
        """The final submit (timed), then the confirmation page; returns the reference."""
        assert self.final_form is not None, "prepare() first"
        started = time.perf_counter()
        self.post(CHECK_ANSWERS, self.final_form, CONFIRMATION)
        self.submit_seconds = time.perf_counter() - started
        return self.read_reference()

    def read_reference(self) -> str:
        match = _REFERENCE.search(self.get_page(CONFIRMATION))
        if match is None:
            raise JourneyError("no reference on the confirmation page")
        self.reference = html.unescape(match.group(1)).strip()
        return self.reference

    def apply(self) -> str:
        self.prepare()
        return self.send()


@dataclass
class Outcome:
    applicant: Applicant
    error: BaseException | None


def run_applicants(
    count: int,
    concurrency: int,
    make: Callable[[int], Applicant],
    work: Callable[[Applicant], object] = Applicant.apply,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """`count` applicants, `concurrency` at a time, each with its own cookies; errors are kept."""
    lock = threading.Lock()

    def one(number: int) -> Outcome:
        applicant = make(number)
        try:
            work(applicant)
            outcome = Outcome(applicant, None)
        except Exception as error:  # reported by the test with the applicant it belongs to
            outcome = Outcome(applicant, error)
        finally:
            applicant.close()
        if on_done is not None:
            with lock:
                on_done(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(count)))
