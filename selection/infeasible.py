"""When no selection meets the quotas: the smallest relaxation, said in words.

An elastic model gives every bound an integer slack.  Lowering a minimum costs more than raising a
maximum, and lowering a small minimum costs most of all, because a small minimum usually protects
a group that would otherwise be left out entirely.  A deletion filter then names a minimal set of
bounds that cannot all hold together.  Both solve through :func:`selection.solver.milp_solution`,
as the optimiser does, so a false "infeasible" from HiGHS's presolve is asked again without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint

from selection.pool import Pool
from selection.quotas import QuotaBound, QuotaTable
from selection.solver import milp_solution


@dataclass(frozen=True)
class Advice:
    """Sentences saying how to relax the quotas, and a minimal conflicting set of bounds."""

    sentences: list[str]
    conflicting: list[str]
    changes: list[dict[str, object]] = field(default_factory=list)


def _profile_caps(pool: Pool) -> np.ndarray:
    """How many applications each profile can give at most (one per organisation if required)."""
    caps = np.zeros(pool.n_profiles, dtype=np.int64)
    for p, members in enumerate(pool.by_profile):
        orgs = pool.org[members]
        caps[p] = int(np.sum(orgs < 0)) + len(np.unique(orgs[orgs >= 0]))
    return caps


def _feasible(pool: Pool, caps: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
    """Whether some profile counts meet k and the given bounds (a relaxation if organisations
    must differ across profiles, exact otherwise)."""
    n_prof = pool.n_profiles
    counts = milp_solution(
        np.zeros(n_prof),
        np.ones(n_prof),
        Bounds(np.zeros(n_prof), caps.astype(float)),
        [
            LinearConstraint(np.ones((1, n_prof)), pool.k, pool.k),
            LinearConstraint(pool.membership, lo, hi),
        ],
        recheck=True,
    )
    return counts is not None


def can_meet(pool: Pool) -> bool:
    """Whether some k applications of the pool meet every bound (organisations apart)."""
    if pool.n < pool.k:
        return False
    return _feasible(pool, _profile_caps(pool), pool.lo, pool.hi)


def advise(pool: Pool, quotas: QuotaTable, *, conflicting: bool = True) -> Advice:
    """The cheapest relaxation of the bounds that makes a selection of k possible, in words.

    ``conflicting=False`` skips the search for a minimal conflicting set (one solve per bound),
    for callers that want only the relaxation."""
    k = pool.k
    bounds = quotas.bounds
    if pool.n < k:
        return Advice(
            [
                f"Only {pool.n} eligible applications exist for {k} sites: "
                f"select at most {pool.n} sites."
            ],
            [],
        )
    caps = _profile_caps(pool)
    n_prof, n_b = pool.n_profiles, len(bounds)
    lo, hi = pool.lo, pool.hi
    has_lo, has_hi = lo > 0, np.isfinite(hi)
    # Columns: profile counts, slack lowering each minimum, slack raising each maximum.
    lower_cost = np.array([1 + math.ceil(k / max(v, 1)) for v in lo], dtype=float)
    cost = np.concatenate(
        [np.zeros(n_prof), np.where(has_lo, lower_cost, 0.0), np.where(has_hi, 1.0, 0.0)]
    )
    upper = np.concatenate(
        [caps.astype(float), np.where(has_lo, lo, 0.0), np.where(has_hi, float(k), 0.0)]
    )
    eye = sparse.identity(n_b, format="csr")
    rows = [
        LinearConstraint(np.concatenate([np.ones(n_prof), np.zeros(2 * n_b)]).reshape(1, -1), k, k),
        LinearConstraint(
            sparse.hstack([pool.membership, eye, sparse.csr_array((n_b, n_b))]), lo, np.inf
        ),
        LinearConstraint(
            sparse.hstack([pool.membership, sparse.csr_array((n_b, n_b)), -eye]), -np.inf, hi
        ),
    ]
    relaxed = milp_solution(
        cost, np.ones(len(cost)), Bounds(np.zeros(len(cost)), upper), rows, recheck=True
    )
    sentences: list[str] = []
    changes: list[dict[str, object]] = []
    if relaxed is None:
        sentences.append(
            f"Even without any quotas there are not {k} eligible applications from different "
            "organisations: lower the number of sites or allow more than one site per organisation."
        )
        return Advice(sentences, [])
    x = np.rint(relaxed).astype(np.int64)
    n_counts = np.asarray(pool.membership @ caps, dtype=np.int64)
    for b, bound in enumerate(bounds):
        label = quotas.label(bound)
        lowered = int(x[n_prof + b])
        raised = int(x[n_prof + n_b + b])
        if lowered and bound.min is not None:
            new_min = bound.min - lowered
            changes.append(_change(bound, "min", bound.min, new_min))
            available = int(n_counts[b])
            if available < bound.min:
                noun = "application" if available == 1 else "applications"
                verb = "exists" if available == 1 else "exist"
                sentences.append(
                    f"{label} needs at least {bound.min} sites but only {available} eligible "
                    f"{noun} in {label} {verb}: lower the {label} minimum to {new_min}."
                )
            else:
                sentences.append(f"Lower the {label} minimum from {bound.min} to {new_min}.")
        if raised and bound.max is not None:
            changes.append(_change(bound, "max", bound.max, bound.max + raised))
            sentences.append(f"Raise the {label} maximum from {bound.max} to {bound.max + raised}.")
    if not sentences:
        sentences.append(
            "The quotas can only be met by choosing two sites from the same organisation: "
            "allow more than one site per organisation, or relax the quotas."
        )
    return Advice(sentences, _conflicting(pool, caps, quotas) if conflicting else [], changes)


def _change(bound: QuotaBound, side: str, old: int, new: int) -> dict[str, object]:
    """One relaxation as data, for callers that want to apply it."""
    return {
        "dimension": bound.dimension,
        "category": bound.category,
        "side": side,
        "old": old,
        "new": new,
    }


def _conflicting(pool: Pool, caps: np.ndarray, quotas: QuotaTable) -> list[str]:
    """A minimal set of bound sides that cannot all hold (deletion filter over the bounds)."""
    lo, hi = pool.lo.copy(), pool.hi.copy()
    if _feasible(pool, caps, lo, hi):
        return []
    items = [(b, "min") for b in range(len(lo)) if lo[b] > 0]
    items += [(b, "max") for b in range(len(hi)) if np.isfinite(hi[b])]
    kept: list[tuple[int, str]] = []
    for b, side in items:
        trial_lo, trial_hi = lo.copy(), hi.copy()
        if side == "min":
            trial_lo[b] = 0.0
        else:
            trial_hi[b] = np.inf
        if _feasible(pool, caps, trial_lo, trial_hi):
            kept.append((b, side))
        else:
            lo, hi = trial_lo, trial_hi
    return [_describe(quotas, quotas.bounds[b], side) for b, side in kept]


def _describe(quotas: QuotaTable, bound: QuotaBound, side: str) -> str:
    """A bound side in words, such as "at least 3 in Wales"."""
    label = quotas.label(bound)
    if side == "min":
        return f"at least {bound.min} in {label}"
    return f"at most {bound.max} in {label}"
