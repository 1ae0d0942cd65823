"""Downloads recorded on the audit log are POSTs with a CSRF token (issue 17, point 11): a GET
(a link or an image on another site, sent with the admin's cookie) records nothing and gets 405,
a cross-site POST without the token gets 400 and records nothing, and the page's button downloads
the file and records it once."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, utcnow
from app.staff.runs.services import start_run
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client, press
from tests.app.world import build_pool

# (the page with the button, the download's address) for every audited download; {round},
# {run} and {application} are filled from the pool.
AUDITED = {
    "staff.applications_csv": ("/staff/rounds/{round}/applications", "{page}.csv"),
    "staff.applications_xlsx": ("/staff/rounds/{round}/applications", "{page}.xlsx"),
    "staff.rationale_csv": ("/staff/runs/{run}", "{page}/rationale.csv"),
    "staff.rationale_xlsx": ("/staff/runs/{run}", "{page}/rationale.xlsx"),
    "staff.subject_access": ("/staff/applications/{application}", "{page}/everything.json"),
    "admin.audit_log_csv": ("/admin/audit", "{page}.csv"),
    "admin.audit_log_xlsx": ("/admin/audit", "{page}.xlsx"),
}


def events() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id))) or 0


@pytest.fixture
def admin(app: Flask, client: Client, make_user: Any) -> Client:
    sign_in_as(client, make_user("admin"))
    return client


@pytest.fixture
def addresses(app: Flask, make_user: Any) -> dict[str, tuple[str, str]]:
    pool = build_pool(make_user)
    run = start_run(db.session, pool.round, None, utcnow(), seed=7)
    db.session.commit()
    ids = {"round": pool.round.id, "run": run.id, "application": pool.applications[0].id}
    found = {}
    for endpoint, (page, url) in AUDITED.items():
        page = page.format(**ids)
        found[endpoint] = (page, url.format(page=page))
    return found


def test_every_download_on_the_audit_log_is_listed(app: Flask) -> None:
    """Any view that records "export.downloaded" or "application.exported" is in AUDITED."""
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    downloads = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.endswith((".csv", ".xlsx", ".json"))
        # Counts and the quota table only, no personal data: plain GETs, not audited.
        and rule.endpoint not in ("staff.quotas_download", "staff.reach_csv", "staff.reach_xlsx")
    }
    assert downloads == set(AUDITED)
    assert downloads <= posts


@pytest.mark.parametrize("endpoint", sorted(AUDITED))
def test_a_get_of_an_audited_download_records_nothing(
    admin: Client, addresses: dict[str, tuple[str, str]], endpoint: str
) -> None:
    _page, url = addresses[endpoint]
    before = events()
    response = admin.get(url)
    assert response.status_code == 405
    assert "Content-Disposition" not in response.headers
    assert events() == before


@pytest.mark.parametrize("endpoint", sorted(AUDITED))
def test_a_cross_site_post_without_the_token_records_nothing(
    admin: Client, addresses: dict[str, tuple[str, str]], endpoint: str
) -> None:
    _page, url = addresses[endpoint]
    before = events()
    response = admin.client.post(url, headers={"Origin": "https://attacker.example"})
    assert response.status_code == 400
    assert "timed out" in response.get_data(as_text=True)
    assert events() == before


@pytest.mark.parametrize("endpoint", sorted(AUDITED))
def test_the_pages_button_downloads_the_file_and_records_it_once(
    admin: Client, addresses: dict[str, tuple[str, str]], endpoint: str
) -> None:
    page, url = addresses[endpoint]
    button = admin.get_page(page).select_one(f'form[method=post][action="{url}"]')
    assert button is not None and button.select_one("input[name=csrf_token]")
    assert button.select_one("button[type=submit]").get_text(strip=True)
    before = events()
    response = press(admin, page, url)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    response.get_data()  # a streamed file is read to its end
    assert events() == before + 1
