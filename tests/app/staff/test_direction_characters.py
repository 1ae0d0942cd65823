"""An organisation name with a right-to-left override or zero-width characters in it is shown
isolated (<bdi>, or directional isolates where markup cannot go) on staff and panel pages: it
cannot reorder the reference, score or other text around it."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup

from app.extensions import db
from app.models import Assignment, Round
from app.templating import FSI, PDI
from tests.app.conftest import sign_in_as, sign_out
from tests.app.factories import submitted_application
from tests.app.helpers import Client

# Shown with the override, this would read "Care Trust (score 5" backwards after it.
NAME = "Care \u202eTrust\u200b Ltd"


def isolated(page: BeautifulSoup, selector: str) -> None:
    cell = page.select_one(selector)
    assert cell is not None, selector
    names = [tag for tag in cell.select("bdi") if tag.get_text() == NAME]
    assert len(names) == 1, str(cell)
    # Nothing else in the cell sits inside the isolated name.
    assert cell.get_text().replace(NAME, "").strip() == ""


def test_staff_and_panel_lists_isolate_organisation_names(
    client: Client, round_: Round, staff: Any, make_user: Any
) -> None:
    application = submitted_application(round_, organisation={"organisation_name": NAME})
    reviewer = make_user("reviewer")
    db.session.add(Assignment(application_id=application.id, reviewer_id=reviewer.id))
    db.session.commit()

    sign_in_as(client, staff)
    listing = client.get_page(f"/staff/rounds/{round_.id}/applications")
    isolated(listing, "#applications td.organisation")
    detail = client.get_page(f"/staff/applications/{application.id}")
    assert [tag.get_text() for tag in detail.select("h1 bdi")] == [NAME]
    assert f"{FSI}{NAME}{PDI}" in detail.select_one("title").get_text()

    sign_out(client, "/staff/")
    sign_in_as(client, reviewer)
    panel = client.get_page("/panel/")
    rows = [row for row in panel.select("table tbody tr") if application.reference in row.text]
    assert len(rows) == 1
    assert [tag.get_text() for tag in rows[0].select("td bdi")] == [NAME]
