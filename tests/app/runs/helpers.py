"""Independent checks for selection tests: brute force over every possible set of sites."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Application, SelectionDecision, SelectionRun


def meets(chosen: Iterable[Application], quotas: list[dict[str, Any]]) -> bool:
    chosen = list(chosen)
    for q in quotas:
        n = sum(1 for a in chosen if getattr(a, q["dimension"]) == q["category"])
        if q["min"] is not None and n < q["min"]:
            return False
        if q["max"] is not None and n > q["max"]:
            return False
    return True


def best_total(
    applications: list[Application],
    score: Any,
    k: int,
    quotas: list[dict[str, Any]],
    keep: Iterable[Application] = (),
    exclude: Iterable[Application] = (),
) -> float:
    """The highest total score of any k applications meeting every quota (brute force)."""
    keep, exclude = list(keep), set(a.id for a in exclude)
    free = [a for a in applications if a not in keep and a.id not in exclude]
    best = float("-inf")
    for extra in combinations(free, k - len(keep)):
        chosen = [*keep, *extra]
        if meets(chosen, quotas):
            best = max(best, sum(score(a) for a in chosen))
    return best


def decisions(run_id: int) -> dict[int, SelectionDecision]:
    return {
        d.application_id: d
        for d in db.session.scalars(
            select(SelectionDecision).where(SelectionDecision.run_id == run_id)
        )
    }


def runs_of(round_id: int) -> list[SelectionRun]:
    return list(
        db.session.scalars(
            select(SelectionRun).where(SelectionRun.round_id == round_id).order_by(SelectionRun.id)
        )
    )


def run_id_from(location: str) -> int:
    return int(location.rstrip("/").rsplit("/", 1)[1])


def post_with_token(
    client: Any, page_url: str, url: str, data: dict[str, str] | None = None
) -> Any:
    """POST to ``url`` with the CSRF token of the page's first form (as a crafted request would)."""
    page = client.get_page(page_url)
    token = page.select_one("input[name=csrf_token]")["value"]
    return client.client.post(url, data={"csrf_token": token, **(data or {})})


def every_page(client: Any, url: str) -> list[Any]:
    """Each page of a paged list (the shortlist) from ``url`` on, following "Next page" links."""
    pages = []
    following: str | None = url
    while following:
        page = client.get_page(following)
        pages.append(page)
        link = page.select_one("nav.pagination a[rel=next]")
        following = link["href"] if link else None
    return pages
