"""Small random pools and a brute-force reference, shared by the selection tests.

The reference enumerates every set of k applications with itertools, so it shares no code or
idea with the optimiser beyond the definition of the problem.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from selection import CRITERIA

SCALE = 1000
MAX_SUBSETS = 4000


@dataclass(frozen=True)
class Case:
    """A pool, a quota table and k, as the public API takes them."""

    applications: pd.DataFrame
    quotas: pd.DataFrame
    k: int


@st.composite
def cases(draw: st.DrawFn, max_n: int = 22, with_orgs: bool = False, ties: bool = True) -> Case:
    """Pools of up to ``max_n`` applications with 1-3 dimensions and random (maybe infeasible)
    quotas; n and k are kept so the brute force has at most a few thousand subsets."""
    k = draw(st.integers(1, 6))
    n_max = max_n
    while n_max > k and math.comb(n_max, k) > MAX_SUBSETS:
        n_max -= 1
    n = draw(st.integers(k, max(k, n_max)))
    n_dims = draw(st.integers(1, 3))
    dims = {f"d{j}": [f"c{j}{c}" for c in range(draw(st.integers(2, 3)))] for j in range(n_dims)}
    # Few distinct values make ties common, which is where tie-breaking can go wrong.
    levels = [1.0, 2.0, 3.0, 4.0, 5.0] if ties else [1 + x / 6 for x in range(25)]
    rows = []
    for i in range(n):
        row: dict[str, object] = {"id": f"a{i:02d}"}
        for dim, cats in dims.items():
            row[dim] = draw(st.sampled_from(cats))
        for c in CRITERIA:
            row[c] = draw(st.sampled_from(levels))
        if with_orgs:
            row["organisation"] = f"org{draw(st.integers(0, max(1, n // 2)))}"
        rows.append(row)
    apps = pd.DataFrame(rows)
    quota_rows = []
    for dim, cats in dims.items():
        for cat in cats:
            if not (apps[dim] == cat).any() or not draw(st.booleans()):
                continue
            lo = draw(st.one_of(st.none(), st.integers(0, min(3, k))))
            hi = draw(st.one_of(st.none(), st.integers(lo or 0, k)))
            quota_rows.append({"dimension": dim, "category": cat, "min": lo, "max": hi})
    if not quota_rows:
        dim = next(iter(dims))
        quota_rows.append({"dimension": dim, "category": apps[dim].iloc[0], "min": None, "max": k})
    quotas = pd.DataFrame(quota_rows, columns=["dimension", "category", "min", "max"])
    return Case(apps, quotas, k)


def points(apps: pd.DataFrame, scale: int = SCALE) -> np.ndarray:
    """The mean criterion score in whole points of 1 / ``scale``; the engine compares scores
    exactly, so the reference refuses a pool whose scores are not whole at this scale."""
    scaled = apps[list(CRITERIA)].mean(axis=1).to_numpy() * scale
    whole = np.rint(scaled)
    assert np.allclose(scaled, whole, rtol=0, atol=1e-6), "scores are not whole points"
    return whole.astype(np.int64)


def evidence_points(apps: pd.DataFrame) -> np.ndarray:
    """Evidence mean in points: the published secondary key."""
    return np.rint(apps["evidence"].to_numpy(dtype=float) * SCALE).astype(np.int64)


@dataclass(frozen=True)
class Brute:
    """Every feasible k-subset of a pool (rows of application positions) and its totals."""

    subsets: np.ndarray
    total: np.ndarray
    evidence: np.ndarray

    @property
    def feasible(self) -> bool:
        """Whether any subset meets every quota."""
        return len(self.subsets) > 0

    @property
    def best(self) -> int:
        """The optimal total score in points."""
        return int(self.total.max())

    def best_lexicographic(self) -> tuple[int, int]:
        """The best (total, evidence total) pair."""
        top = self.total == self.total.max()
        return self.best, int(self.evidence[top].max())

    def best_with(self, i: int) -> int | None:
        """The best total over feasible subsets that contain position ``i``."""
        has = (self.subsets == i).any(axis=1)
        return int(self.total[has].max()) if has.any() else None

    def best_without(self, i: int) -> int | None:
        """The best total over feasible subsets that leave out position ``i``."""
        has = (self.subsets == i).any(axis=1)
        return int(self.total[~has].max()) if (~has).any() else None


def meets(
    apps: pd.DataFrame, quotas: pd.DataFrame, chosen: np.ndarray, one_per_org: bool = False
) -> np.ndarray:
    """For each row of ``chosen`` (positions), whether it meets every quota row."""
    ok = np.ones(len(chosen), dtype=bool)
    for q in quotas.itertuples(index=False):
        member = (apps[q.dimension] == q.category).to_numpy()
        count = member[chosen].sum(axis=1) if len(chosen) else np.zeros(0)
        if q.min is not None and not pd.isna(q.min):
            ok &= count >= int(q.min)
        if q.max is not None and not pd.isna(q.max):
            ok &= count <= int(q.max)
    if one_per_org and len(chosen):
        codes = pd.factorize(apps["organisation"])[0][chosen]
        ok &= np.array([len(set(row)) == len(row) for row in codes.tolist()], dtype=bool)
    return ok


def brute_force(
    apps: pd.DataFrame, quotas: pd.DataFrame, k: int, one_per_org: bool = False
) -> Brute:
    """Enumerate every k-subset of ``apps`` (all eligible) and keep the feasible ones."""
    combos = np.array(list(itertools.combinations(range(len(apps)), k)), dtype=np.int64)
    combos = combos.reshape(-1, k)
    keep = combos[meets(apps, quotas, combos, one_per_org)]
    return Brute(keep, points(apps)[keep].sum(axis=1), evidence_points(apps)[keep].sum(axis=1))


def selected_positions(result_decisions: pd.DataFrame, apps: pd.DataFrame) -> np.ndarray:
    """Positions in ``apps`` of the selected ids."""
    chosen = set(result_decisions.loc[result_decisions["decision"] == "selected", "id"])
    return np.array([i for i, a in enumerate(apps["id"]) if a in chosen], dtype=np.int64)


def without_bound(quotas: pd.DataFrame, dimension: str, category: str, side: str) -> pd.DataFrame:
    """The quota table with one side of one bound removed."""
    out = quotas.copy().astype(object)
    row = (out["dimension"] == dimension) & (out["category"] == category)
    out.loc[row, side] = None
    return out
