"""An applicant over real HTTP: one `requests` session (its own cookies) walking the whole journey.

Each page is fetched, its form's hidden fields (CSRF token, spam-check stamp) are read from the
HTML, and the answers are posted with them; each redirect is checked and followed, as a browser
does. Pages are read with a few regular expressions rather than a full HTML parser so that fifty
client threads do not need more CPU than the server they are measuring.
"""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from tests.app.apply.journey import ELIGIBILITY_IDS, PAGE_ORDER, VALID

CHECK_ANSWERS = "/application/check-answers"
CONFIRMATION = "/application/confirmation"
DECLARATION = {"confirm_correct": "yes", "confirm_privacy": "yes"}

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


def answers_for(number: int) -> dict[str, dict[str, Any]]:
    """Valid answers, with an organisation name and email unique to this applicant."""
    answers = {page: dict(data) for page, data in VALID.items()}
    answers["organisation"]["organisation_name"] = f"Load test carers' network {number:05d}"
    answers["contact"]["email"] = f"load-{number:05d}@example.org"
    return answers


@dataclass
class Applicant:
    base_url: str
    number: int
    # Retry a step whose connection broke (the same session, the same form); else raise.
    retry: bool = False
    session: requests.Session = field(default_factory=requests.Session)
    statuses: list[int] = field(default_factory=list)
    connection_errors: int = 0
    reference: str | None = None
    submit_seconds: float | None = None
    final_form: dict[str, str] | None = None

    def _request(
        self, method: str, path: str, data: dict[str, Any] | None = None
    ) -> requests.Response:
        for _attempt in range(10):
            try:
                response = self.session.request(
                    method, self.base_url + path, data=data, allow_redirects=False, timeout=60
                )
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
                self.connection_errors += 1
                if not self.retry:
                    raise ConnectionLost(f"{method} {path}") from error
                time.sleep(0.05)
                continue
            self.statuses.append(response.status_code)
            return response
        raise ConnectionLost(f"{method} {path}: gave up after 10 broken connections")

    def get_page(self, path: str) -> str:
        response = self._request("GET", path)
        if response.status_code != 200:
            raise JourneyError(f"GET {path}: {response.status_code}")
        return response.text

    def post(self, path: str, body: dict[str, Any], *expect: str) -> str:
        """Post a form and return the path it redirects to (one of `expect`, if given)."""
        response = self._request("POST", path, body)
        if response.status_code != 302:
            raise JourneyError(f"POST {path}: {response.status_code}")
        location = urlsplit(response.headers["Location"]).path
        if expect and location not in expect:
            raise JourneyError(f"POST {path} went to {location}, expected one of {expect}")
        return location

    def fill(self, path: str, answers: dict[str, Any], *expect: str) -> str:
        """Open a page and send it with the answers, as a person would."""
        body = {**hidden_fields(self.get_page(path)), **answers}
        return self.post(path, body, *expect)

    def prepare(self) -> None:
        """Everything up to the check answers page: eligibility and every question page."""
        answers = answers_for(self.number)
        for index, question_id in enumerate(ELIGIBILITY_IDS):
            later = ELIGIBILITY_IDS[index + 1 :]
            expect = f"/eligibility/{later[0]}" if later else "/application"
            self.fill(f"/eligibility/{question_id}", {"answer": "yes"}, expect)
        self.get_page("/application")  # the task list
        for index, page_id in enumerate(PAGE_ORDER):
            later = PAGE_ORDER[index + 1 :]
            # The next page of the section, or back to the task list at the section's end.
            expect = (f"/application/{later[0]}", "/application") if later else ("/application",)
            if self.fill(f"/application/{page_id}", answers[page_id], *expect) == "/application":
                self.get_page("/application")
        self.final_form = {**hidden_fields(self.get_page(CHECK_ANSWERS)), **DECLARATION}

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
    """`count` applicants, `concurrency` at a time, each in its own session; errors are kept."""
    lock = threading.Lock()

    def one(number: int) -> Outcome:
        applicant = make(number)
        try:
            work(applicant)
            outcome = Outcome(applicant, None)
        except Exception as error:  # reported by the test with the applicant it belongs to
            outcome = Outcome(applicant, error)
        finally:
            applicant.session.close()
        if on_done is not None:
            with lock:
                on_done(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(count)))
