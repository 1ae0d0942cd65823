"""Downloads of personal data on the audit log: the staff "all applications" export, as the
rationale and audit-log downloads are (see test_run_actions.py and test_audit_page.py)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from openpyxl import load_workbook

from app.models import Round, User
from tests.app.audit.conftest import assert_event, last_id, new_events, one_event
from tests.app.factories import submitted_application
from tests.app.helpers import Client, download, press


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_downloading_all_applications_is_logged(
    round_: Round,
    staff: User,
    panel_member: User,
    browser_for: Callable[[User], Client],
    file_format: str,
) -> None:
    application = submitted_application(round_)
    url = f"/staff/rounds/{round_.id}/applications.{file_format}"

    since = last_id()
    assert download(browser_for(panel_member), url).status_code == 403
    assert new_events(since) == []  # refused, so nothing was downloaded

    response = press(browser_for(staff), f"/staff/rounds/{round_.id}/applications", url)
    assert response.status_code == 200
    if file_format == "csv":
        body = response.get_data(as_text=True)  # streamed after the view returned
    else:
        sheet = load_workbook(io.BytesIO(response.data))["Applications"]
        body = " ".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row)
    assert application.reference in body
    event = one_event(since, "export.downloaded")
    assert_event(event, staff, "round", round_.id, round_.id)
    assert event.detail == {"export": "applications", "format": file_format}
