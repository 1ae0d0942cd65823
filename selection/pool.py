"""The eligible applications as the optimiser sees them: whole-number points, tie-break keys,
quota profiles and bounds (see :class:`Pool`), and the published order they are ranked in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import sparse

IntArray = np.ndarray
"""A one-dimensional numpy array of integers (kept simple for readability in signatures)."""


@dataclass(frozen=True)
class Pool:
    """The eligible applications as the optimiser sees them, in canonical (id) order.

    ``rank`` is each application's place in the published order (points, then evidence points,
    then the seeded draw; 0 is best), so "the best n of a profile" is "the n smallest ranks".
    ``membership`` is a sparse (bounds x profiles) 0/1 matrix; ``lo``/``hi`` the bounds (0 and
    infinity where absent).  ``kept``/``left_out`` hold every solve to staff's choices.
    ``org`` numbers organisations with several applications (-1 for none)
    when one site per organisation is required.
    """

    points: IntArray
    secondary: IntArray
    draw: IntArray
    profile: IntArray
    org: IntArray
    membership: sparse.csr_array
    lo: np.ndarray
    hi: np.ndarray
    k: int
    kept: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Applications every selection must include (staff's choices when a run is re-evaluated)."""
    left_out: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Applications no selection may include (those staff took out)."""
    rank: IntArray = field(init=False)
    by_profile: tuple[IntArray, ...] = field(init=False)
    members: IntArray = field(init=False)
    """Every application, profile by profile and best first within each: ``by_profile`` joined."""
    starts: IntArray = field(init=False)
    """Where each profile's run in ``members`` starts (and, last, the end)."""

    def __post_init__(self) -> None:
        order = descending_order(self.points, self.secondary, self.draw)
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        object.__setattr__(self, "rank", rank)
        n_profiles = self.membership.shape[1]
        prof_sorted = self.profile[order]
        if n_profiles <= np.iinfo(np.uint16).max:
            prof_sorted = prof_sorted.astype(np.uint16)  # numpy sorts these stably by radix
        stable = np.argsort(prof_sorted, kind="stable")
        members = order[stable]
        cuts = np.searchsorted(prof_sorted[stable], np.arange(n_profiles + 1))
        groups = tuple(members[cuts[p] : cuts[p + 1]] for p in range(n_profiles))
        object.__setattr__(self, "by_profile", groups)
        object.__setattr__(self, "members", members)
        object.__setattr__(self, "starts", cuts)

    @cached_property
    def draw_rank(self) -> IntArray:
        """The seeded draw as ranks 1..n: the same order in the smallest whole numbers (kept,
        as every tie-broken solve uses it)."""
        ranks = np.empty(self.n, dtype=np.int64)
        ranks[np.argsort(self.draw, kind="stable")] = np.arange(1, self.n + 1)
        return ranks

    @property
    def n(self) -> int:
        """Number of eligible applications."""
        return len(self.points)

    @property
    def n_profiles(self) -> int:
        """Number of distinct quota-attribute profiles."""
        return int(self.membership.shape[1])

    def counts(self, selected: IntArray) -> np.ndarray:
        """How many of ``selected`` fall in each bound's category."""
        per_profile = np.bincount(self.profile[selected], minlength=self.n_profiles)
        return np.asarray(self.membership @ per_profile, dtype=np.int64)

    def feasible(self, selected: IntArray) -> bool:
        """Whether a set of applications has exactly k members and meets every bound."""
        if len(selected) != self.k or len(np.unique(selected)) != self.k:
            return False
        c = self.counts(selected)
        if np.any(c < self.lo) or np.any(c > self.hi):
            return False
        if np.any(self.org >= 0):
            orgs = self.org[selected]
            orgs = orgs[orgs >= 0]
            if len(orgs) != len(np.unique(orgs)):
                return False
        return True


def descending_order(*keys: IntArray) -> IntArray:
    """Positions sorted by the first key, highest first, then the next, ... then position.

    The same order as ``np.lexsort`` of the negated keys; when the keys' ranges allow, they are
    packed into one integer per position first, which sorts several times faster.
    """
    n = len(keys[0]) if keys else 0
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    packed = np.zeros(n, dtype=np.int64)
    room = 1
    for key in keys:
        top, bottom = int(key.max()), int(key.min())
        room *= top - bottom + 1
        if room >= 2**62:
            return np.lexsort(tuple(-key for key in reversed(keys))).astype(np.int64)
        packed = packed * (top - bottom + 1) + (top - key)
    return np.argsort(packed, kind="stable").astype(np.int64)
