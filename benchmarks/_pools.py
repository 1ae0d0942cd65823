"""Synthetic application pools and quota tables for the selection benchmark.

The pools look like a real call: five attribute dimensions (region, rurality, size, led-by,
first-time), four criteria averaged over three reviewers on a 1-5 scale, and scores a little lower
on average for small, rural and user-led organisations, so the minimums on those groups bind.
Scores are means of four means of three integers, so ``12 * score`` is an exact integer: every
method is judged on the same integer points and optimality gaps are exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

CRITERIA = ("difference", "inequalities", "resources", "evidence")
REVIEWERS_PER_APPLICATION = 3
POINTS_PER_SCORE = 12  # 4 criteria x 3 reviewers: the mean of means is a multiple of 1/12

REGIONS = {
    "North East": 0.04,
    "North West": 0.11,
    "Yorkshire and the Humber": 0.08,
    "East Midlands": 0.07,
    "West Midlands": 0.09,
    "East of England": 0.09,
    "London": 0.15,
    "South East": 0.13,
    "South West": 0.08,
    "Wales": 0.06,
    "Scotland": 0.07,
    "Northern Ireland": 0.03,
}
NATIONS = ("Wales", "Scotland", "Northern Ireland")
RURALITY = {"urban": 0.55, "town": 0.25, "rural": 0.20}
SIZE = {"micro": 0.20, "small": 0.35, "medium": 0.30, "large": 0.15}
LED_BY = {"user-led": 0.15, "carer-led": 0.10, "provider": 0.75}
FIRST_TIME = {"yes": 0.40, "no": 0.60}
DIMENSIONS: dict[str, dict[str, float]] = {
    "region": REGIONS,
    "rurality": RURALITY,
    "size": SIZE,
    "led_by": LED_BY,
    "first_time": FIRST_TIME,
}


def make_applications(n: int, seed: int = 0) -> pd.DataFrame:
    """Return ``n`` eligible applications: id, the five attributes and the four criterion means."""
    rng = np.random.default_rng(seed)
    frame: dict[str, object] = {"id": [f"A{i:06d}" for i in range(1, n + 1)]}
    for dim, shares in DIMENSIONS.items():
        names = list(shares)
        probs = np.array([shares[c] for c in names])
        frame[dim] = np.array(names, dtype=object)[
            rng.choice(len(names), size=n, p=probs / probs.sum())
        ]
    attrs = pd.DataFrame(frame)
    penalty = (
        0.30 * attrs["size"].isin(["micro", "small"]).to_numpy()
        + 0.25 * (attrs["rurality"] == "rural").to_numpy()
        + 0.25 * (attrs["led_by"] == "user-led").to_numpy()
        + 0.10 * (attrs["first_time"] == "yes").to_numpy()
    )
    quality = rng.normal(3.3, 0.55, size=n) - penalty
    for criterion in CRITERIA:
        offset = rng.normal(0.0, 0.3, size=n)
        marks = quality[:, None] + offset[:, None]
        marks = marks + rng.normal(0.0, 0.6, size=(n, REVIEWERS_PER_APPLICATION))
        marks = np.clip(np.rint(marks), 1, 5)
        attrs[criterion] = marks.sum(axis=1) / REVIEWERS_PER_APPLICATION
    return attrs


def make_quotas(k: int) -> pd.DataFrame:
    """About 30 bounds over the five dimensions, scaled to ``k`` (blank = no bound)."""
    rows: list[tuple[str, str, int | None, int | None]] = []
    for region, share in REGIONS.items():
        low = math.floor(0.6 * share * k)
        if region in NATIONS:
            low = max(low, 1)
        rows.append(("region", region, low or None, math.ceil(1.6 * share * k)))
    rows.append(("rurality", "rural", math.ceil(0.22 * k), None))
    rows.append(("rurality", "urban", None, math.ceil(0.60 * k)))
    rows.append(("size", "micro", math.floor(0.20 * k) or None, None))
    rows.append(("size", "small", math.floor(0.30 * k) or None, None))
    rows.append(("size", "large", None, max(1, math.ceil(0.15 * k))))
    rows.append(("led_by", "user-led", math.ceil(0.15 * k), None))
    rows.append(("led_by", "carer-led", math.floor(0.10 * k) or None, None))
    rows.append(("first_time", "yes", math.floor(0.35 * k) or None, None))
    quotas = pd.DataFrame(rows, columns=["dimension", "category", "min", "max"])
    quotas["min"] = quotas["min"].astype("Int64")
    quotas["max"] = quotas["max"].astype("Int64")
    return quotas


def count_bounds(quotas: pd.DataFrame) -> int:
    """Number of individual bounds (a row with a min and a max counts twice)."""
    return int(quotas["min"].notna().sum() + quotas["max"].notna().sum())


@dataclass(frozen=True)
class Problem:
    """A pool in array form: integer points, quota rows as a sparse membership matrix."""

    ids: np.ndarray
    points: np.ndarray  # int64, POINTS_PER_SCORE x the equal-weight score
    members: sparse.csr_matrix  # rows = quota rows, columns = applications
    low: np.ndarray  # per quota row, 0 when unbounded
    high: np.ndarray  # per quota row, k when unbounded
    labels: list[str]
    k: int
    profile_of: np.ndarray = field(repr=False)  # application -> attribute-profile index
    profile_rows: np.ndarray = field(repr=False)  # (profiles x quota rows) bool

    @property
    def n(self) -> int:
        return len(self.points)


def build_problem(apps: pd.DataFrame, quotas: pd.DataFrame, k: int) -> Problem:
    """Turn a pool and its quotas into the arrays the baselines work on."""
    score = apps[list(CRITERIA)].mean(axis=1).to_numpy()
    points = np.rint(score * POINTS_PER_SCORE).astype(np.int64)
    n = len(apps)
    rows, cols = [], []
    low, high, labels = [], [], []
    for r, q in enumerate(quotas.itertuples(index=False)):
        hits = np.flatnonzero(apps[q.dimension].to_numpy() == q.category)
        rows.append(np.full(len(hits), r))
        cols.append(hits)
        low.append(0 if pd.isna(q.min) else int(q.min))
        high.append(k if pd.isna(q.max) else int(q.max))
        labels.append(f"{q.dimension}={q.category}")
    data = np.concatenate(rows) if rows else np.empty(0, dtype=int)
    members = sparse.csr_matrix(
        (np.ones(len(data), dtype=np.int64), (data, np.concatenate(cols))),
        shape=(len(quotas), n),
    )
    dims = list(dict.fromkeys(quotas["dimension"]))
    codes = apps.groupby(dims, sort=False).ngroup().to_numpy() if dims else np.zeros(n, dtype=int)
    # Any member stands for its profile: all members share the same quota rows.
    first = pd.Series(np.arange(n)).groupby(codes).first().to_numpy()
    profile_rows = members[:, first].toarray().astype(bool).T
    return Problem(
        ids=apps["id"].to_numpy(),
        points=points,
        members=members,
        low=np.array(low, dtype=np.int64),
        high=np.array(high, dtype=np.int64),
        labels=labels,
        k=k,
        profile_of=np.asarray(codes, dtype=np.int64),
        profile_rows=profile_rows,
    )


@dataclass(frozen=True)
class Outcome:
    """How a method's chosen set measures up: total points, bounds broken, size error."""

    total: int
    broken: int  # quota bounds not met
    shortfall: int  # sum over bounds of how far each is missed, plus |size - k|

    @property
    def feasible(self) -> bool:
        return self.broken == 0 and self.shortfall == 0


def evaluate(problem: Problem, chosen: np.ndarray) -> Outcome:
    """Score a boolean or index selection against the problem's quotas and size."""
    mask = np.zeros(problem.n, dtype=bool)
    mask[chosen] = True
    counts = problem.members @ mask.astype(np.int64)
    under = np.maximum(problem.low - counts, 0)
    over = np.maximum(counts - problem.high, 0)
    size_error = abs(int(mask.sum()) - problem.k)
    return Outcome(
        total=int(problem.points[mask].sum()),
        broken=int((under > 0).sum() + (over > 0).sum()),
        shortfall=int(under.sum() + over.sum()) + size_error,
    )
