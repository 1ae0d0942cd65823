"""Page weight on a slow rural connection: every applicant page, in every state the journey meets
(start, eligibility, each question page with and without errors, check answers, confirmation,
not suitable, privacy, accessibility, page not found), is at most 30 KB transferred, makes no
third-party request, loads no web font and needs no script.

Compression is the deployment's job, not the app's: neither the app nor werkzeug (nor gunicorn)
compresses, and in production gunicorn runs behind a TLS-terminating proxy (README, "Behind a
TLS-terminating proxy") that gzips text. So each body is measured as that proxy would send it:
gzip at level 1 (nginx's default gzip_comp_level, the least a proxy applies) plus the response
headers; a body the server already compressed is counted as sent. The cache is off, so every page
pays for its stylesheet and script again, as a first visit does. The figures are printed (-s);
uncompressed, the pages are also under the limit today, but that is not asserted because the check
answers page grows with the applicant's answers.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.applicant_journey import Journey

pytestmark = pytest.mark.browser

LIMIT_BYTES = 30_000
GZIP_LEVEL = 1


@dataclass
class Transfer:
    url: str
    kind: str  # Playwright's resource type: document, stylesheet, script, font ...
    status: int
    headers: int
    body: int  # bytes on the wire (compressed as the proxy would)
    raw: int  # bytes before compression


@dataclass
class Load:
    """One navigation: the document (after any redirect from a form post) and what it loads."""

    url: str
    transfers: list[Transfer] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(t.headers + t.body for t in self.transfers)

    @property
    def raw(self) -> int:
        return sum(t.headers + t.raw for t in self.transfers)


class Recorder:
    """Records every request a page makes, grouped by navigation, with its size on the wire."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.loads: list[Load] = []
        self.failed: list[str] = []
        self.owner: dict[Any, Load] = {}
        page.on("request", self._started)
        page.on("requestfinished", self._finished)
        page.on("requestfailed", lambda request: self.failed.append(request.url))

    def _started(self, request: Any) -> None:
        navigation = request.is_navigation_request() and request.frame == self.page.main_frame
        if navigation and request.redirected_from is None:
            self.loads.append(Load(request.url))
        elif navigation:
            self.loads[-1].url = request.url  # the page a form post redirected to
        # A request belongs to the navigation that was current when it started: a page's
        # stylesheet starts before anyone can press its buttons, even if it finishes later.
        self.owner[request] = self.loads[-1]

    def _finished(self, request: Any) -> None:
        response = request.response()
        sizes = request.sizes()
        raw = b"" if 300 <= response.status < 400 else response.body()
        if response.headers.get("content-encoding"):
            body = sizes["responseBodySize"]
        else:
            body = len(gzip.compress(raw, GZIP_LEVEL)) if raw else 0
        self.owner.pop(request).transfers.append(
            Transfer(
                request.url,
                request.resource_type,
                response.status,
                sizes["responseHeadersSize"],
                body,
                len(raw),
            )
        )


def test_every_applicant_page_is_light_and_self_contained(browser: Any, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        recorder = Recorder(page)
        fonts: dict[str, int] = {}
        scripts: dict[str, list[str]] = {}

        class Weighed(Journey):
            def checkpoint(self, name: str) -> None:
                super().checkpoint(name)
                fonts[name] = page.evaluate("document.fonts.size")
                scripts[name] = page.evaluate("Array.from(document.scripts, s => s.src)")

        Weighed(page, live_server, check_axe=False, nation="England").run()
        page.wait_for_load_state("load")
    finally:
        context.close()

    origin = urlsplit(live_server).netloc
    loads = [load for load in recorder.loads if load.transfers]
    lines = [
        f"{load.total / 1000:5.1f} KB ({load.raw / 1000:5.1f} KB uncompressed) "
        f"{urlsplit(load.url).path}: "
        + ", ".join(f"{t.kind} {t.headers + t.body}" for t in load.transfers)
        for load in loads
    ]
    heaviest = max(loads, key=lambda load: load.total)
    print("\n".join(lines))
    print(f"heaviest: {urlsplit(heaviest.url).path} {heaviest.total / 1000:.1f} KB")
    assert len(loads) >= 25, lines
    assert recorder.failed == []
    transfers = [t for load in loads for t in load.transfers]
    assert all(urlsplit(t.url).netloc == origin for t in transfers), [t.url for t in transfers]
    assert {t.kind for t in transfers} <= {"document", "stylesheet", "script"}, transfers
    assert not any(size for size in fonts.values()), fonts
    # Scripts only enhance (the journey works with JavaScript off: test_applicant_browser.py);
    # none is inline, and each is a file from this site.
    sources = [src for srcs in scripts.values() for src in srcs]
    assert all(urlsplit(src).netloc == origin for src in sources), scripts
    heavy = [line for load, line in zip(loads, lines, strict=True) if load.total > LIMIT_BYTES]
    assert heavy == [], heavy
