"""The anonymised export's rule: categories merged, then withheld, until no row is unique on
nation + area + size + led-by (app/staff/runs/anonymised.py)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from app.staff.runs.anonymised import KEYS, WITHHELD, coarsen

NATIONS = ["england", "scotland", "wales", "northern-ireland"]
AREAS = ["urban", "mixed", "rural", "remote"]
SIZES = ["none", "1-9", "10-49", "50-249", "250+", ""]
LED = ["user-led", "carer-led", "both", "neither", ""]


def row(nation: str, area: str, size: str, led: str) -> dict[str, str]:
    codes = dict(zip(KEYS, (nation, area, size, led), strict=True))
    return {**{"_" + k: v for k, v in codes.items()}, **{k: v.title() for k, v in codes.items()}}


def combos(rows: list[dict[str, str]]) -> Counter[tuple[str, ...]]:
    return Counter(tuple(r[k] for k in KEYS) for r in rows)


@pytest.mark.parametrize("seed", range(30))
def test_no_row_is_unique_on_the_four_after_the_rule(seed: int) -> None:
    rng = random.Random(seed)
    rows = [
        row(rng.choice(NATIONS), rng.choice(AREAS), rng.choice(SIZES), rng.choice(LED))
        for _ in range(rng.randint(2, 60))
    ]

    coarse, steps = coarsen(rows)

    assert len(coarse) == len(rows)
    assert min(combos(coarse).values()) >= 2, combos(coarse)
    assert steps or min(combos(rows).values()) >= 2
    for before, after in zip(rows, coarse, strict=True):  # the codes behind are kept apart
        assert after["_nation"] == before["_nation"]


def test_rows_already_shared_are_left_as_they_are() -> None:
    rows = [row("wales", "rural", "1-9", "carer-led")] * 2 + [row("england", "urban", "", "")] * 3
    coarse, steps = coarsen(rows)
    assert coarse == rows and steps == []


def test_a_single_row_left_alone_is_withheld_with_the_smallest_group() -> None:
    # After every merge: eight in England urban, two in Scotland rural, one in England rural.
    rows = (
        [row("england", "urban", "1-9", "neither")] * 8
        + [row("scotland", "rural", "1-9", "neither")] * 2
        + [row("england", "rural", "1-9", "neither")]
    )
    coarse, steps = coarsen(rows)
    withheld = [r for r in coarse if r["nation"] == WITHHELD]
    assert len(withheld) == 3  # the lone row and the group of two
    assert all(all(r[k] == WITHHELD for k in KEYS) for r in withheld)
    assert min(combos(coarse).values()) >= 2
    assert steps[-1] == "Nation, area, size and led-by withheld for 3 sites."
