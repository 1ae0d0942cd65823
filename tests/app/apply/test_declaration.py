"""The final submit's declaration: a wrong CSRF token re-shows the page, nothing is sent."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Application, Round
from tests.app.apply.journey import complete_application
from tests.app.helpers import Client

CHECK_ANSWERS = "/application/check-answers"


def test_a_good_declaration_with_a_forged_token_is_not_sent(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    form = client.hidden_fields(CHECK_ANSWERS)
    form["csrf_token"] = form["csrf_token"][:-4] + "AAAA"
    response = client.client.post(
        CHECK_ANSWERS, data={**form, "confirm_correct": "yes", "confirm_privacy": "yes"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "for your security we could not save it" in page
    for name in ("confirm_correct", "confirm_privacy"):  # the ticks are kept
        assert f'name="{name}" type="checkbox" value="yes" checked>' in page
    db.session.expire_all()
    assert db.session.scalars(select(Application.status)).all() == ["draft"]
