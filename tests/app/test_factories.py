"""The test factories build what the journey builds."""

from __future__ import annotations

from flask import Flask

from tests.app.factories import make_round, submitted_application


def test_submitted_application_has_mix_attributes(app: Flask) -> None:
    round_ = make_round()
    application = submitted_application(
        round_, location={"nation": "england", "area_type": "urban"}, leadership={"led_by": "both"}
    )
    assert application.status == "submitted" and application.reference
    assert (application.nation, application.region, application.area_type, application.led_by) == (
        "england",
        "north-west",
        "urban",
        "both",
    )
