"""While a call is open: can the quota table be met by the applications so far, and if not, how
many more applications of which kind are needed at least.

Scores do not exist yet, so only the mix is asked about: whether some ``k`` of the applications
meet every bound (:func:`selection.infeasible.can_meet`), and otherwise the engine's smallest
relaxation (:func:`selection.infeasible.advise`) read as applications still to find.  Lowering a
minimum by n is "n more applications in that category"; raising a maximum by n is "n more from
outside it".  When there are fewer than ``k`` applications in all, the missing ones are counted
as applications of no particular kind, so the advice says which kinds they must be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from selection.categories import category_codes, category_key
from selection.engine import quota_profiles, shared_organisations
from selection.errors import InputError, QuotaError
from selection.infeasible import Advice, advise, can_meet
from selection.pool import Pool
from selection.quotas import QuotaBound, QuotaTable, align_quotas, check_quotas


@dataclass(frozen=True)
class Shortfall:
    """One quota bound the applications so far cannot meet, and the fewest applications that
    would let it: in the bound's category for a minimum, outside it for a maximum."""

    bound: QuotaBound
    side: Literal["min", "max"]
    more: int
    available: int
    """Applications in the bound's category so far."""


@dataclass(frozen=True)
class Reach:
    """Whether the quota table can be met by the applications so far, and what is missing."""

    feasible: bool
    more_in_all: int
    """More applications needed whatever their kind (when there are fewer than k in all)."""
    shortfalls: tuple[Shortfall, ...]
    available: tuple[int, ...]
    """Per bound of the table (in its order), the applications in its category so far."""
    advice: tuple[str, ...] = ()
    """The engine's advice on the applications as they are: how to relax the table instead."""


def quota_reach(
    applications: pd.DataFrame,
    quotas: QuotaTable,
    k: int,
    *,
    one_per_organisation: bool = False,
) -> Reach:
    """Whether some ``k`` of ``applications`` (every row counts as eligible) meet ``quotas``,
    and if not the smallest shortfall per bound, from the engine's advice.

    The applications need a column per quota dimension, and ``organisation`` when
    ``one_per_organisation``.  Raises :class:`QuotaError` for a table that does not fit them.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"The number of sites must be a whole number of 1 or more, not {k!r}.")
    k = int(k)
    structural = [p.message for p in check_quotas(quotas, applications, k) if p.kind == "structure"]
    if structural:
        raise QuotaError(structural)
    n = len(applications)
    categories = {d: category_codes(applications[d]) for d in quotas.dimensions}
    aligned = align_quotas(quotas, categories)
    profile, membership, lo, hi = quota_profiles(aligned, categories, np.arange(n))
    org = np.full(n, -1, dtype=np.int64)
    if one_per_organisation:
        if "organisation" not in applications.columns:
            raise InputError(
                "One site per organisation needs an 'organisation' column.", column="organisation"
            )
        names = np.array([str(v) for v in applications["organisation"].fillna("")], dtype=str)
        org = shared_organisations(names)
    pool = _pool(profile, org, membership, lo, hi, k)
    available = tuple(int(c) for c in pool.counts(np.arange(n)))
    if can_meet(pool):
        return Reach(True, 0, (), available)
    advice = advise(pool, aligned, conflicting=False) if n else None
    relaxation: Advice | None
    more_in_all = max(0, k - n)
    if more_in_all:
        # The missing applications as a profile of no category: the advice then says which
        # kinds some of them must be.
        n_prof = membership.shape[1]
        profile = np.concatenate([profile, np.full(more_in_all, n_prof, dtype=np.int64)])
        org = np.concatenate([org, np.full(more_in_all, -1, dtype=np.int64)])
        membership = sparse.csr_array(
            sparse.hstack([membership, sparse.csr_array((membership.shape[0], 1))])
        )
        relaxation = advise(_pool(profile, org, membership, lo, hi, k), aligned, conflicting=False)
    else:
        relaxation = advice
    assert relaxation is not None  # n >= k > 0 here, or the padded pool was advised
    by_key = {(b.dimension, category_key(b.category)): i for i, b in enumerate(aligned.bounds)}
    shortfalls = []
    for change in relaxation.changes:
        i = by_key[(str(change["dimension"]), category_key(str(change["category"])))]
        old, new = int(str(change["old"])), int(str(change["new"]))
        side: Literal["min", "max"] = "min" if change["side"] == "min" else "max"
        shortfalls.append(Shortfall(quotas.bounds[i], side, abs(old - new), available[i]))
    sentences = tuple(advice.sentences) if advice is not None else ()
    return Reach(False, more_in_all, tuple(shortfalls), available, sentences)


def _pool(
    profile: np.ndarray,
    org: np.ndarray,
    membership: sparse.csr_array,
    lo: np.ndarray,
    hi: np.ndarray,
    k: int,
) -> Pool:
    """A pool for the mix alone: no points, so every application is as good as any other."""
    n = len(profile)
    zeros = np.zeros(n, dtype=np.int64)
    return Pool(zeros, zeros, np.arange(n, dtype=np.int64), profile, org, membership, lo, hi, k)
