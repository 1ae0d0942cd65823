"""Welsh, for staff: the round setting that offers the applicant pages in Welsh, and the language
of each application on its page and in the list."""

from __future__ import annotations

from app.extensions import db
from app.models import Round, utcnow
from tests.app.apply.journey import answered_draft
from tests.app.helpers import Client
from tests.app.staff.test_settings import VALID_SETTINGS, url


def test_staff_offer_the_form_in_welsh(staff_client: Client, round_: Round, app) -> None:
    page = staff_client.get_page(url(round_))
    box = page.select_one("input[name=welsh_offered]")
    assert box is not None and not box.has_attr("checked")
    applicant = Client(app.test_client())
    assert applicant.get_page("/").select_one(".header__language") is None

    staff_client.submit(url(round_), {**VALID_SETTINGS, "welsh_offered": "yes"})
    db.session.expire_all()
    assert db.session.get(Round, round_.id).settings["welsh_offered"] is True
    assert (
        staff_client.get_page(url(round_))
        .select_one("input[name=welsh_offered]")
        .has_attr("checked")
    )
    link = applicant.get_page("/").select_one(".header__language a")
    assert link is not None and link.get_text(strip=True) == "Cymraeg"

    staff_client.submit(url(round_), VALID_SETTINGS)  # the box left empty: off again
    db.session.expire_all()
    assert db.session.get(Round, round_.id).settings["welsh_offered"] is False


def test_staff_see_the_language_of_an_application(staff_client: Client, round_: Round) -> None:
    draft, _token = answered_draft(round_, utcnow())
    draft.language = "cy"
    db.session.commit()
    page = staff_client.get_page(f"/staff/applications/{draft.id}")
    status = page.select_one("#status").get_text(" ", strip=True)
    assert "Language Welsh" in status
    listing = staff_client.get_page(f"/staff/rounds/{round_.id}/applications")
    headers = [th.get_text(strip=True) for th in listing.select("#applications thead th")]
    cells = [td.get_text(strip=True) for td in listing.select("#applications tbody tr")[0]("td")]
    assert cells[headers.index("Language")] == "Welsh"
