"""The applications list: counts, filters, search, sort and pages, as staff see them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from bs4 import BeautifulSoup

from app.extensions import db
from app.models import Application, Round
from tests.app.factories import submitted_application
from tests.app.helpers import Client

T0 = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


def refs(page: BeautifulSoup) -> list[str]:
    return [a.get_text(strip=True) for a in page.select("#applications tbody tr td:first-child a")]


def organisations(page: BeautifulSoup) -> list[str]:
    return [td.get_text(strip=True) for td in page.select("#applications td.organisation")]


def sent(round_: Round, name: str, day: int, **pages: dict) -> Application:  # type: ignore[type-arg]
    application = submitted_application(round_, organisation={"organisation_name": name}, **pages)
    application.submitted_at = T0 + timedelta(days=day)
    db.session.commit()
    return application


def three(round_: Round) -> dict[str, Application]:
    alpha = sent(round_, "Alpha Care", 2)  # Wales, rural, 1-9, carer-led; carers + prevention
    beta = sent(
        round_,
        "beta support",
        1,
        location={"nation": "england", "area_type": "urban", "postcode": ""},
        region={"region": "north-west"},
        leadership={"led_by": "user-led", "staff_band": "50-249"},
        topics={"topics": ["workforce"]},
    )
    gamma = sent(
        round_,
        "Gamma Network",
        3,
        location={"nation": "scotland", "area_type": "mixed", "postcode": ""},
        leadership={"led_by": "neither", "staff_band": "10-49"},
        # "carers" typed as the other topic must not count as the topic carers.
        topics={"topics": ["other"], "topics_other": "carers"},
    )
    return {"alpha": alpha, "beta": beta, "gamma": gamma}


def url(round_: Round, query: str = "") -> str:
    return f"/staff/rounds/{round_.id}/applications" + (f"?{query}" if query else "")


def test_counts_per_status_and_screening(staff_client: Client, round_: Round) -> None:
    apps = three(round_)
    apps["alpha"].screening = "eligible"
    apps["beta"].screening = "ineligible"
    draft = Application(round_id=round_.id, status="draft", token_hash=uuid.uuid4().hex)
    withdrawn = Application(round_id=round_.id, status="withdrawn", token_hash=uuid.uuid4().hex)
    db.session.add_all([draft, withdrawn])
    db.session.commit()
    page = staff_client.get_page(url(round_))
    status = {td["data-status"]: td.get_text(strip=True) for td in page.select("[data-status]")}
    assert status == {"draft": "1", "submitted": "3", "withdrawn": "1", "merged": "0"}
    screening = {
        td["data-screening"]: td.get_text(strip=True) for td in page.select("[data-screening]")
    }
    assert screening == {"unscreened": "1", "eligible": "1", "ineligible": "1"}
    headings = [th.get_text(strip=True) for th in page.select("#status-counts th")]
    assert headings == ["Draft", "Sent", "Withdrawn", "Merged"]


def test_rows_show_labels_not_codes(staff_client: Client, round_: Round) -> None:
    apps = three(round_)
    page = staff_client.get_page(url(round_, "sort=reference"))
    row = next(
        tr
        for tr in page.select("#applications tbody tr")
        if tr.select_one("a").get_text(strip=True) == apps["beta"].reference
    )
    cells = [td.get_text(strip=True) for td in row.select("td")]
    assert cells[1:7] == [
        "beta support",
        "England",
        "North West",
        "Mostly urban",
        "50 to 249",
        "User-led",
    ]


def test_each_filter_gives_the_right_rows(staff_client: Client, round_: Round) -> None:
    apps = three(round_)
    apps["gamma"].screening = "eligible"
    db.session.commit()
    ref = {k: a.reference for k, a in apps.items()}
    cases = {
        "nation=wales": {ref["alpha"]},
        "region=north-west": {ref["beta"]},
        "region=scotland": {ref["gamma"]},
        "area_type=urban": {ref["beta"]},
        "size_band=10-49": {ref["gamma"]},
        "led_by=carer-led": {ref["alpha"]},
        "topic=carers": {ref["alpha"]},
        "topic=workforce": {ref["beta"]},
        "screening=eligible": {ref["gamma"]},
        "screening=unscreened": {ref["alpha"], ref["beta"]},
        "status=submitted": set(ref.values()),
        "status=withdrawn": set(),
        "nation=wales&led_by=user-led": set(),
        "nation=nowhere": set(ref.values()),  # an unknown value is ignored, not an error
    }
    for query, expected in cases.items():
        page = staff_client.get_page(url(round_, query))
        assert set(refs(page)) == expected, query
    # The filter form keeps what was chosen.
    page = staff_client.get_page(url(round_, "nation=wales&topic=carers"))
    assert page.select_one("#filter-nation option[selected]")["value"] == "wales"
    assert page.select_one("#filter-topic option[selected]").get_text() == (
        "Carers' health and well-being"
    )


def test_search_by_organisation_or_reference_any_case(staff_client: Client, round_: Round) -> None:
    apps = three(round_)
    assert refs(staff_client.get_page(url(round_, "q=GAMMA"))) == [apps["gamma"].reference]
    assert refs(staff_client.get_page(url(round_, "q=care"))) == [apps["alpha"].reference]
    reference = apps["beta"].reference
    found = refs(staff_client.get_page(url(round_, f"q={reference.lower()}")))
    assert found == [reference]
    welsh = sent(round_, "ŴYRION GOFAL", 4)
    assert refs(staff_client.get_page(url(round_, "q=ŵyrion"))) == [welsh.reference]
    # Wildcards are searched for as typed.
    assert refs(staff_client.get_page(url(round_, "q=%25"))) == []
    assert refs(staff_client.get_page(url(round_, "q=_"))) == []


def test_sorts(staff_client: Client, round_: Round) -> None:
    three(round_)
    by_name = organisations(staff_client.get_page(url(round_, "sort=organisation")))
    assert by_name == ["Alpha Care", "beta support", "Gamma Network"]
    newest = organisations(staff_client.get_page(url(round_)))
    assert newest == ["Gamma Network", "Alpha Care", "beta support"]
    oldest = organisations(staff_client.get_page(url(round_, "sort=submitted")))
    assert oldest == ["beta support", "Alpha Care", "Gamma Network"]
    by_reference = refs(staff_client.get_page(url(round_, "sort=reference")))
    assert by_reference == sorted(by_reference) and len(by_reference) == 3


def test_pages_of_fifty_keep_the_filters(staff_client: Client, round_: Round) -> None:
    for n in range(51):
        db.session.add(
            Application(
                round_id=round_.id,
                status="submitted",
                token_hash=uuid.uuid4().hex,
                reference=f"EOI-2027-P{n:05d}",
                organisation_name=f"Org {n:02d}",
                nation="wales",
                submitted_at=T0 + timedelta(hours=n),
            )
        )
    db.session.add(
        Application(
            round_id=round_.id,
            status="submitted",
            token_hash=uuid.uuid4().hex,
            reference="EOI-2027-SCOT1",
            organisation_name="Org Scotland",
            nation="scotland",
            submitted_at=T0,
        )
    )
    db.session.commit()
    first = staff_client.get_page(url(round_, "nation=wales&sort=reference"))
    assert len(refs(first)) == 50
    assert first.select_one("#results-heading").get_text(strip=True) == "51 applications found"
    assert refs(first)[0] == "EOI-2027-P00000"
    next_link = first.select_one("a[rel=next]")["href"]
    assert "nation=wales" in next_link and "sort=reference" in next_link
    second = staff_client.get_page(next_link)
    assert refs(second) == ["EOI-2027-P00050"]
    assert second.select_one("a[rel=next]") is None
    assert second.select_one("a[rel=prev]") is not None
    # A page number past the end, or not a number, still shows a page.
    assert refs(staff_client.get_page(url(round_, "nation=wales&sort=reference&page=99"))) == [
        "EOI-2027-P00050"
    ]
    assert len(refs(staff_client.get_page(url(round_, "page=abc")))) == 50
    assert len(refs(staff_client.get_page(url(round_, "page=%C2%B2")))) == 50  # "²"


def test_staff_home_links_to_each_rounds_list_and_settings(
    staff_client: Client, round_: Round
) -> None:
    page = staff_client.get_page("/staff/")
    links = {a.get_text(" ", strip=True): a["href"] for a in page.select("main table a")}
    assert links[round_.title] == f"/staff/rounds/{round_.id}/applications"
    assert links[f"Settings for {round_.title}"] == f"/staff/rounds/{round_.id}/settings"
