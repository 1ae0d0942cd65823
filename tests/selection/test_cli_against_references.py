"""``python -m selection`` against the references: the command line's end of the acceptance.

Each drawn pool is written to CSV files as a spreadsheet user would save them and run through
:func:`selection.cli.main`.  Whenever a selection exists it must exit 0 with a decisions file whose
selected sites have the optimal total; when none exists it must exit 2 with advice on standard
error; it must never refuse a feasible input.  Fewer pools are drawn than for the engine alone
(``SELECTION_EXAMPLES`` / 4), as each one writes and reads files.
"""

from __future__ import annotations

import csv
import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from selection import cli
from tests.selection.references import (
    EXAMPLES,
    Pool,
    exact_points,
    meets,
    names_absent,
    pools,
    reference_best,
)


def write_files(pool: Pool, folder: Path) -> list[str]:
    """The pool as apps.csv and quotas.csv in ``folder``; the command line's arguments."""
    pool.applications.to_csv(folder / "apps.csv", index=False)
    with (folder / "quotas.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["dimension", "category", "min", "max"])
        for q in pool.quotas.itertuples(index=False):
            # Whole numbers as a spreadsheet writes them, a blank where there is no bound.
            out.writerow(
                [q.dimension, q.category, *("" if pd.isna(v) else int(v) for v in (q.min, q.max))]
            )
    args = ["--applications", str(folder / "apps.csv"), "--quotas", str(folder / "quotas.csv")]
    args += ["--output", str(folder / "decisions.csv"), "--sites", str(pool.k)]
    args += ["--seed", str(pool.seed)]
    if pool.band is not None:
        args += ["--lottery-band", str(pool.band)]
    return args


def run_main(args: list[str]) -> tuple[int, str, str]:
    """``cli.main(args)``: its exit status, standard output and standard error."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli.main(args)
    return status, out.getvalue(), err.getvalue()


@settings(
    max_examples=max(EXAMPLES // 4, 10),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(pool=pools())
def test_the_command_line_exits_0_with_the_optimum_or_2_with_advice(
    pool: Pool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("cli")
    pts = exact_points(pool)
    best = reference_best(pool, pts)
    status, out, err = run_main(write_files(pool, folder))
    absent = pool.absent_rows()
    if best is None:
        assert status == cli.EXIT_BAD_INPUT
        lines = err.splitlines()
        assert lines[0] == "quotas.csv: The quotas cannot all be met."
        assert len(lines) > 1, "no advice"
        for dim, cat, lo in absent:
            if lo > 0:
                assert any(names_absent(line, dim, cat) for line in lines[1:])
        return
    assert status == cli.EXIT_OK, f"a feasible input was refused: {err}"
    decisions = pd.read_csv(folder / "decisions.csv", dtype=str, keep_default_na=False)
    selected = decisions.loc[decisions["decision"] == "selected", "id"]
    chosen = pool.applications["id"].isin(selected).to_numpy().astype(float)
    assert meets(pool, chosen)
    assert int(pts @ chosen) == best
    for dim, cat, _ in absent:
        assert names_absent(out, dim, cat)
