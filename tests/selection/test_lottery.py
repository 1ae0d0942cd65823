"""The optional partial lottery: declared, seeded, within the quotas, and replayable."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd

from selection import SelectionOptions, select


def _pool() -> tuple[pd.DataFrame, pd.DataFrame]:
    scores = np.array([4.9, 4.8, 3.6, 3.5, 3.5, 3.4, 3.4, 2.0, 1.5])
    evidence = np.array([5, 5, 2.5, 2, 5, 3, 4, 3, 1.5])
    apps = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(len(scores))],
            "nation": [
                "England",
                "Wales",
                "England",
                "Wales",
                "England",
                "Wales",
                "England",
                "Wales",
                "England",
            ],
            "difference": scores,
            "inequalities": scores,
            # Chosen so that each mean is exactly the score above while evidence varies.
            "resources": 2 * scores - evidence,
            "evidence": evidence,
        }
    )
    quotas = pd.DataFrame([{"dimension": "nation", "category": "Wales", "min": 2, "max": 3}])
    return apps, quotas


def test_lottery_is_off_by_default_and_recorded_when_on() -> None:
    apps, quotas = _pool()
    plain = select(apps, quotas, 4)
    assert plain.audit["lottery_band"] is None
    assert "in_lottery" not in plain.decisions.columns
    drawn = select(apps, quotas, 4, options=SelectionOptions(lottery_band=0.25, seed=7))
    assert drawn.audit["lottery_band"] == 0.25 and drawn.audit["seed"] == 7
    assert len(drawn.audit["inputs_sha256"]) == 64
    assert drawn.audit["version"]
    members = drawn.decisions.loc[drawn.decisions["in_lottery"], "id"].tolist()
    # The cut-off (4th best score) is 3.5; the band takes 3.4 to 3.6.
    assert members == ["p2", "p3", "p4", "p5", "p6"]


def test_band_members_are_drawn_under_the_quotas_and_clear_winners_always_win() -> None:
    apps, quotas = _pool()
    outcomes = set()
    for seed in range(12):
        result = select(apps, quotas, 4, options=SelectionOptions(lottery_band=0.25, seed=seed))
        chosen = result.selected_ids
        assert {"p0", "p1"} <= set(chosen)
        wales = apps.set_index("id").loc[chosen, "nation"].eq("Wales").sum()
        assert 2 <= wales <= 3
        outcomes.add(frozenset(chosen))
    # Without the lottery evidence decides; with it, several different draws occur.
    assert len(outcomes) > 2
    plain = {
        frozenset(select(apps, quotas, 4, options=SelectionOptions(seed=s)).selected_ids)
        for s in range(5)
    }
    assert len(plain) == 1


def test_replay_in_a_fresh_process_is_byte_identical() -> None:
    script = """
import pandas as pd, sys
from selection import SelectionOptions, select
sys.path.insert(0, '.')
from tests.selection.test_lottery import _pool
apps, quotas = _pool()
r = select(apps, quotas, 4, options=SelectionOptions(lottery_band=0.25, seed=12345))
sys.stdout.write(r.decisions.to_csv() + r.audit["inputs_sha256"])
"""
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    apps, quotas = _pool()
    here = select(apps, quotas, 4, options=SelectionOptions(lottery_band=0.25, seed=12345))
    assert runs[0] == here.decisions.to_csv() + here.audit["inputs_sha256"]


def test_exact_ties_only_with_band_zero() -> None:
    apps, quotas = _pool()
    result = select(apps, quotas, 4, options=SelectionOptions(lottery_band=0.0))
    assert np.array_equal(
        result.decisions.loc[result.decisions["in_lottery"], "id"].to_numpy(), ["p3", "p4"]
    )
