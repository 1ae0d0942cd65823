"""The answers the mix is balanced on: the local population question is asked online, and it and
the pressures answer are copied to the application when it is sent (the engine reads them)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Application, Round
from tests.app.apply.journey import fill_pages, pass_eligibility, send
from tests.app.helpers import Client


def test_pressures_and_local_population_are_written_when_sent(
    client: Client, open_round: Round
) -> None:
    pass_eligibility(client)
    fill_pages(client, ["organisation"])
    page = client.get_page("/application/location")
    fieldset = next(
        f
        for f in page.select("fieldset")
        if "most deprived areas" in f.select_one("legend").get_text()
    )
    hint = fieldset.get_text(" ", strip=True)
    for index in ("IMD", "WIMD", "SIMD", "NIMDM", "deciles 1 to 3"):
        assert index in hint
    labels = [label.get_text(strip=True) for label in fieldset.select("label")]
    assert labels == ["Yes, most live in the most deprived areas", "No", "Not sure"]

    fill_pages(
        client,
        location={"local_deprivation": "most-deprived"},
        experience={"pressures": "struggling"},
    )
    send(client)

    application = db.session.scalars(select(Application)).one()
    assert application.status == "submitted"
    assert (application.pressures, application.local_deprivation) == (
        "struggling",
        "most-deprived",
    )


def test_both_are_optional(client: Client, open_round: Round) -> None:
    pass_eligibility(client)
    fill_pages(client, experience={"pressures": ""})
    send(client)

    application = db.session.scalars(select(Application)).one()
    assert (application.pressures, application.local_deprivation) == (None, None)
