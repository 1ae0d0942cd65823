"""Baselines the engine is compared with, each written plainly and independently of `selection`.

* ``plain_milp``: one binary per application, every quota row as a constraint, scipy's HiGHS.
* ``plain_milp_tie_break``: the same model doing the whole task the engine does: the optimum on
  the engine's published points, then its published tie-break (total evidence, then the seeded
  draw) as further solves that hold the totals of the stages before.
* ``reference_optimum``: the same MILP on the best ``k`` of each attribute profile only (the rest
  can never be chosen); used as the exact optimum to measure gaps when the plain MILP times out,
  and cross-checked against the plain MILP wherever that finishes.
* ``greedy_fill``: fill the most urgent minimum with its best member, then take the best remaining.
* ``topk_repair``: take the top ``k``, then swap members in and out until no quota is broken.
* ``sortition_random``: the sortition-algorithms package (score-blind) under the same quotas.

The heuristics work on attribute profiles: within a profile the chosen members are always the best
ones, so the state is one count per profile and every step is a few vector operations.
"""

from __future__ import annotations

import io
import itertools
import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from benchmarks._pools import CRITERIA, POINTS_PER_SCORE, REVIEWERS_PER_APPLICATION, Problem


@dataclass(frozen=True)
class MilpRun:
    """Chosen indices (empty if none found) and whether HiGHS proved optimality."""

    chosen: np.ndarray
    optimal: bool
    status: str


def plain_milp(problem: Problem, time_limit: float, subset: np.ndarray | None = None) -> MilpRun:
    """Maximise total points with one binary per application under every quota row."""
    idx = np.arange(problem.n) if subset is None else subset
    points = problem.points[idx]
    members = problem.members[:, idx]
    ones = sparse.csr_matrix(np.ones((1, len(idx))))
    matrix = sparse.vstack([ones, members], format="csr")
    low = np.concatenate([[problem.k], problem.low])
    high = np.concatenate([[problem.k], problem.high])
    result = milp(
        c=-points.astype(float),
        integrality=np.ones(len(idx)),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(matrix, low, high),
        options={"time_limit": time_limit, "mip_rel_gap": 0.0, "disp": False},
    )
    chosen = idx[np.flatnonzero(result.x > 0.5)] if result.x is not None else idx[:0]
    status = {0: "optimal", 1: "timed out", 2: "infeasible"}.get(result.status, result.message)
    return MilpRun(chosen=chosen, optimal=result.status == 0, status=status)


@dataclass(frozen=True)
class PublishedKey:
    """The engine's published order, recomputed here from its definition (not from its code).

    ``points`` is the equal-weight score and ``evidence`` the evidence mean, both exact (the
    engine compares scores exactly): the pools' criterion means are thirds, so the score is a
    whole number of twelfths and the evidence of thirds.  ``draw`` is the seeded draw:
    ``numpy.random.default_rng(seed).permutation(n)`` dealt to the applications in id order,
    larger wins.  A selection is better when its total points are higher, then its total
    evidence, then its total draw.
    """

    points: np.ndarray
    evidence: np.ndarray
    draw: np.ndarray


def published_key(apps: pd.DataFrame, seed: int) -> PublishedKey:
    """The engine's tie-break key for every application of ``apps`` (all eligible)."""
    values = apps[list(CRITERIA)].to_numpy(dtype=float)
    points = _whole(values.sum(axis=1) / len(CRITERIA) * POINTS_PER_SCORE)
    evidence = _whole(apps["evidence"].to_numpy(dtype=float) * REVIEWERS_PER_APPLICATION)
    order = np.argsort(apps["id"].to_numpy(dtype=str), kind="stable")
    draw = np.empty(len(apps), dtype=np.int64)
    draw[order] = np.random.default_rng(seed).permutation(len(apps))
    return PublishedKey(points, evidence, draw)


def _whole(values: np.ndarray) -> np.ndarray:
    """``values`` as whole numbers; they must be whole for the key to be exact."""
    whole = np.rint(values)
    if not np.allclose(values, whole, rtol=0, atol=1e-6):
        raise ValueError("The scores are not whole twelfths: the key would not be exact.")
    return whole.astype(np.int64)


def plain_milp_tie_break(problem: Problem, key: PublishedKey, time_limit: float) -> MilpRun:
    """One binary per application, solved three times like the engine's published rule.

    First the best total of ``key.points``; then, holding that total with one more row, the best
    total evidence; then, holding both, the best total draw.  Each stage is an exact MILP
    (``mip_rel_gap=0``) on the same plain model; ``time_limit`` covers all three.
    """
    ones = sparse.csr_matrix(np.ones((1, problem.n)))
    rows = [ones, problem.members]
    low = [np.array([problem.k]), problem.low]
    high = [np.array([problem.k]), problem.high]
    deadline = time.perf_counter() + time_limit
    x: np.ndarray | None = None
    for stage, values in enumerate((key.points, key.evidence, key.draw)):
        if x is not None:
            # Hold the previous stage's optimal total (as a whole number, so exactly).
            previous = (key.points, key.evidence)[stage - 1]
            best = int(previous[x > 0.5].sum())
            rows.append(sparse.csr_matrix(previous.astype(float).reshape(1, -1)))
            low.append(np.array([best]))
            high.append(np.array([np.inf]))
        result = milp(
            c=-values.astype(float),
            integrality=np.ones(problem.n),
            bounds=Bounds(0, 1),
            constraints=LinearConstraint(
                sparse.vstack(rows, format="csr"), np.concatenate(low), np.concatenate(high)
            ),
            options={
                "time_limit": max(deadline - time.perf_counter(), 0.01),
                "mip_rel_gap": 0.0,
                "disp": False,
            },
        )
        if result.status != 0 or result.x is None:
            status = {1: "timed out", 2: "infeasible"}.get(result.status, result.message)
            chosen = np.flatnonzero(x > 0.5) if x is not None else np.empty(0, dtype=np.int64)
            return MilpRun(chosen=chosen, optimal=False, status=f"stage {stage + 1}: {status}")
        x = np.asarray(result.x)
    assert x is not None
    return MilpRun(chosen=np.flatnonzero(x > 0.5), optimal=True, status="optimal")


def best_per_profile(problem: Problem) -> np.ndarray:
    """Indices of the best ``k`` members of each attribute profile (ties: earlier index)."""
    order = np.lexsort((np.arange(problem.n), -problem.points, problem.profile_of))
    profiles = problem.profile_of[order]
    starts = np.searchsorted(profiles, profiles, side="left")
    rank_in_profile = np.arange(problem.n) - starts
    return np.sort(order[rank_in_profile < problem.k])


def reference_optimum(problem: Problem, time_limit: float) -> MilpRun:
    """The exact optimum, on the only applications that can ever be chosen."""
    return plain_milp(problem, time_limit, subset=best_per_profile(problem))


class _Profiles:
    """Per-profile member lists, best first, and the selection as a count per profile."""

    def __init__(self, problem: Problem, count: np.ndarray | None = None) -> None:
        self.problem = problem
        order = np.lexsort((np.arange(problem.n), -problem.points, problem.profile_of))
        bounds = np.searchsorted(
            problem.profile_of[order], np.arange(len(problem.profile_rows) + 1)
        )
        self.members = [order[a:b] for a, b in itertools.pairwise(bounds)]
        self.sizes = np.diff(bounds)
        self.rows = problem.profile_rows  # (profiles x quota rows)
        self._rows_int = self.rows.astype(np.int64)
        self.count = np.zeros(len(self.members), dtype=np.int64) if count is None else count
        self.head = np.full(len(self.members), -np.inf)  # best unchosen member's points
        self.tail = np.full(len(self.members), np.inf)  # worst chosen member's points
        for p in range(len(self.members)):
            self._refresh(p)
        self.counts = self.count @ self._rows_int  # chosen per quota row

    def _refresh(self, p: int) -> None:
        c, m, pts = self.count[p], self.members[p], self.problem.points
        self.head[p] = pts[m[c]] if c < len(m) else -np.inf
        self.tail[p] = pts[m[c - 1]] if c > 0 else np.inf

    def add(self, p: int) -> None:
        self.count[p] += 1
        self.counts += self._rows_int[p]
        self._refresh(p)

    def remove(self, p: int) -> None:
        self.count[p] -= 1
        self.counts -= self._rows_int[p]
        self._refresh(p)

    def can_add(self) -> np.ndarray:
        """Profiles whose next member would not push any quota row above its maximum."""
        full = self.counts >= self.problem.high
        return ~(self.rows[:, full].any(axis=1)) & (self.count < self.sizes)

    def can_remove(self) -> np.ndarray:
        """Profiles whose worst chosen member could go without breaking any minimum."""
        tight = self.counts <= self.problem.low
        return ~(self.rows[:, tight].any(axis=1)) & (self.count > 0)

    def chosen(self) -> np.ndarray:
        parts = [m[:c] for m, c in zip(self.members, self.count, strict=True) if c]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def greedy_fill(problem: Problem) -> np.ndarray:
    """Fill the most urgent minimum with its best member, then the best remaining overall."""
    state = _Profiles(problem)
    # Urgency of a minimum = outstanding need / members still available in its row.
    pool = state.sizes @ state.rows.astype(np.int64)
    for _ in range(problem.k):
        need = problem.low - state.counts
        head = np.where(state.can_add(), state.head, -np.inf)
        if (need > 0).any():
            available = np.maximum(pool - state.counts, 1)
            row = int(np.argmax(np.where(need > 0, need / available, -np.inf)))
            head = np.where(state.rows[:, row], head, -np.inf)
        if not np.isfinite(head.max()):
            break  # stuck: a maximum blocks every remaining candidate
        state.add(int(np.argmax(head)))
    return state.chosen()


def topk_repair(problem: Problem, max_swaps: int | None = None) -> np.ndarray:
    """Top ``k`` by score, then swap until no quota is broken (or no swap helps)."""
    top = np.lexsort((np.arange(problem.n), -problem.points))[: problem.k]
    count = np.bincount(problem.profile_of[top], minlength=len(problem.profile_rows))
    state = _Profiles(problem, count.astype(np.int64))
    for _ in range(max_swaps if max_swaps is not None else 4 * problem.k + 100):
        over = state.counts - problem.high
        under = problem.low - state.counts
        if over.max(initial=0) <= 0 and under.max(initial=0) <= 0:
            break
        if over.max(initial=0) > 0:
            # Drop the weakest member of the fullest group, bring in the best from outside it.
            row = int(np.argmax(over))
            out_ok = state.rows[:, row] & (state.count > 0)
            safe = out_ok & state.can_remove()
            state.remove(
                int(np.argmin(np.where(safe if safe.any() else out_ok, state.tail, np.inf)))
            )
            in_mask = state.can_add() & ~state.rows[:, row]
            if not in_mask.any():
                break
            state.add(int(np.argmax(np.where(in_mask, state.head, -np.inf))))
        else:
            # Bring in the best of the shortest group, drop the weakest from outside it.
            row = int(np.argmax(under))
            in_mask = state.can_add() & state.rows[:, row]
            if not in_mask.any():
                break
            state.add(int(np.argmax(np.where(in_mask, state.head, -np.inf))))
            outside = (state.count > 0) & ~state.rows[:, row]
            safe = outside & state.can_remove()
            out_mask = safe if safe.any() else outside
            if not out_mask.any():
                break
            state.remove(int(np.argmin(np.where(out_mask, state.tail, np.inf))))
    return state.chosen()


def sortition_available() -> bool:
    try:
        import sortition_algorithms  # noqa: F401
    except ImportError:
        return False
    return True


class SortitionRun:
    """Score-blind random selection by sortition-algorithms under the same quotas.

    The package wants every category of a quota dimension listed, so unbounded categories get
    min 0 and max k. Loading is done once; only the selection is timed.
    """

    def __init__(self, apps: pd.DataFrame, quotas: pd.DataFrame, k: int, seed: int) -> None:
        from sortition_algorithms import CSVStringDataSource, SelectionData, Settings

        for name in ("sortition_algorithms", "sortition_algorithms_user"):
            logging.getLogger(name).setLevel(logging.WARNING)  # it logs every trial to stdout

        dims = list(dict.fromkeys(quotas["dimension"]))
        rows = []
        for dim in dims:
            bounded = quotas[quotas["dimension"] == dim].set_index("category")
            for category in sorted(apps[dim].unique()):
                low = bounded["min"].get(category, pd.NA)
                high = bounded["max"].get(category, pd.NA)
                low = 0 if pd.isna(low) else int(low)
                high = k if pd.isna(high) else int(high)
                rows.append((dim, category, low, high))
        features_csv = pd.DataFrame(rows, columns=["feature", "value", "min", "max"]).to_csv(
            index=False
        )
        people = io.StringIO()
        apps[["id", *dims]].to_csv(people, index=False)
        self.k = k
        self.settings = Settings(
            id_column="id",
            columns_to_keep=[],
            check_same_address=False,
            selection_algorithm="legacy",
            random_number_seed=seed + 1,  # 0 would mean "use the system's secure randomness"
        )
        data = SelectionData(CSVStringDataSource(features_csv, people.getvalue()))
        self.features, _ = data.load_features(k)
        self.people, _ = data.load_people(self.settings, self.features)
        self.position = {pid: i for i, pid in enumerate(apps["id"])}

    def __call__(self) -> np.ndarray:
        from sortition_algorithms import run_stratification

        ok, committees, _ = run_stratification(self.features, self.people, self.k, self.settings)
        if not ok or not committees:
            return np.empty(0, dtype=np.int64)
        return np.array(sorted(self.position[pid] for pid in committees[0]), dtype=np.int64)
