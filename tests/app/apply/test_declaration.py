"""The final submit checks the declaration without building its form (DeclarationForm.made); it
must agree with the form's own validation on every body, or a bad declaration could be sent (or a
good one refused). The CSRF half is flask-wtf's own check: a wrong token re-shows the page."""

from __future__ import annotations

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.apply.forms import DeclarationForm
from app.extensions import db
from app.models import Application, Round
from tests.app.apply.journey import complete_application
from tests.app.helpers import Client

CHECK_ANSWERS = "/application/check-answers"
VALUES = st.sampled_from(["yes", "no", "", "YES", " yes", "on", "yes\x00", "é"])
FIELD = st.lists(VALUES, max_size=3)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(correct=FIELD, privacy=FIELD, other=st.lists(VALUES, max_size=2))
def test_made_agrees_with_the_form_on_every_body(
    correct: list[str], privacy: list[str], other: list[str]
) -> None:
    body = MultiDict(
        [
            *(("confirm_correct", value) for value in correct),
            *(("confirm_privacy", value) for value in privacy),
            *(("something_else", value) for value in other),
        ]
    )
    with Flask(__name__).test_request_context(method="POST"):
        form = DeclarationForm(formdata=body, meta={"csrf": False})
        assert DeclarationForm.made(body) == form.validate(), (body, form.errors)


def test_made_is_true_only_with_both_boxes() -> None:
    both = MultiDict([("confirm_correct", "yes"), ("confirm_privacy", "yes")])
    assert DeclarationForm.made(both)
    assert not DeclarationForm.made(MultiDict([("confirm_correct", "yes")]))
    assert not DeclarationForm.made(MultiDict([("confirm_privacy", "yes")]))


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
