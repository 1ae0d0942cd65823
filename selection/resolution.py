"""Scores as the optimiser's whole-number points, exact wherever the inputs allow.

A criterion mean with up to 4 decimals, or a mean of up to :data:`MAX_REVIEWS` ratings that each
have up to 4 decimals, is an exact fraction; so is the weighted mean of such means when each
weight has up to 4 decimals.  Over a common denominator those scores become whole numbers, so
3.0002 and 3.0004 are told apart although both are shown as 3.000.  Scores that are not such
fractions (calibrated ones, or more decimals) are compared at the shown resolution instead, as
the audit records (``scores_compared``, ``score_resolution``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DECIMALS = 4
"""Decimal places of a rating, mean or weight that are compared exactly."""

MAX_REVIEWS = 64
"""The largest number of ratings whose mean is recognised as an exact fraction."""

MAX_POINTS = 10**7
"""The largest point value per application kept exact: far from HiGHS's tolerances."""

_TOLERANCE = 1e-6
"""How far from a whole number (in units of the fraction's denominator) float noise may go."""


@dataclass(frozen=True)
class Points:
    """Per-application points for the score and the evidence mean, and ``scale``: points per
    unit of score (the evidence points use ``evidence_scale``).  ``exact`` says whether every
    score was an exact fraction, rather than rounded to the shown decimals."""

    points: np.ndarray
    evidence: np.ndarray
    scale: int
    evidence_scale: int
    exact: bool


def to_points(
    means: np.ndarray,
    weights: np.ndarray,
    scores: np.ndarray,
    evidence: np.ndarray,
    decimals: int,
    *,
    exact: bool = True,
) -> Points:
    """Whole-number points for ``scores`` and the ``evidence`` means.

    With ``exact`` (``scores`` being the ``weights``-weighted mean of the criterion ``means``,
    one row per application), the points are exact when :func:`_exact_points` allows; otherwise
    (such as calibrated scores) they are the scores rounded to ``decimals`` places.
    """
    scale = 10**decimals
    found = _exact_points(means, weights, evidence) if exact else None
    if found is not None:
        # Never coarser than the shown resolution: the optimiser's first guesses at how far an
        # LP bound is from the optimum are in points, tuned to thousandths (speed only).
        up, ev_up = -(-scale // found.scale), -(-scale // found.evidence_scale)
        return Points(
            found.points * up,
            found.evidence * ev_up,
            found.scale * up,
            found.evidence_scale * ev_up,
            True,
        )
    return Points(
        np.rint(scores * scale).astype(np.int64),
        np.rint(evidence * scale).astype(np.int64),
        scale,
        scale,
        False,
    )


def _exact_points(means: np.ndarray, weights: np.ndarray, evidence: np.ndarray) -> Points | None:
    """The exact points, or None when some mean or weight is not such a fraction or the common
    denominator is too large to stay exact in the solver."""
    unit = 10**DECIMALS
    omega = _whole(weights * unit)
    if omega is None or len(means) == 0 or omega.sum() <= 0:
        return None
    omega //= math.gcd(*omega.tolist()) or 1
    numerators, denominators = _fractions(means * unit)
    ev_num, ev_den = _fractions(evidence * unit)
    if numerators is None or denominators is None or ev_num is None or ev_den is None:
        return None
    common = math.lcm(*np.unique(denominators).tolist())
    ev_common = math.lcm(*np.unique(ev_den).tolist())
    largest = int(np.abs(numerators).max()) * int(omega.sum())
    if max(largest * common, int(np.abs(ev_num).max()) * ev_common) > 2**62:
        return None  # too fine to be whole numbers at all
    # Score = sum(omega * mean) / sum(omega), in points of 1 / (unit * common * sum(omega)).
    points = (numerators * (common // denominators)[:, None]) @ omega
    ev_points = ev_num.reshape(-1) * (ev_common // ev_den)
    points, scale = _reduced(points, unit * common * int(omega.sum()))
    ev_points, ev_scale = _reduced(ev_points, unit * ev_common)
    if max(int(np.abs(points).max()), int(np.abs(ev_points).max())) > MAX_POINTS:
        return None
    return Points(points, ev_points, scale, ev_scale, True)


def _whole(values: np.ndarray) -> np.ndarray | None:
    """``values`` as whole numbers when each is one up to float noise, else None."""
    if not np.all(np.isfinite(values)):
        return None
    whole = np.rint(values)
    if np.any(np.abs(values - whole) > _TOLERANCE) or np.any(np.abs(whole) > 2**52):
        return None
    return np.asarray(whole, dtype=np.int64)


def _fractions(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """Each row of ``values`` as whole numerators over the row's smallest denominator up to
    :data:`MAX_REVIEWS` (a mean of that many whole numbers); (None, None) if some row has none."""
    rows = values.reshape(len(values), -1)
    if not np.all(np.isfinite(rows)) or np.abs(rows).max(initial=0) * MAX_REVIEWS > 2**52:
        return None, None
    denominators = np.zeros(len(rows), dtype=np.int64)
    numerators = np.zeros(rows.shape, dtype=np.int64)
    left = np.arange(len(rows))
    for q in range(1, MAX_REVIEWS + 1):
        scaled = rows[left] * q
        whole = np.rint(scaled)
        fits = np.all(np.abs(scaled - whole) <= _TOLERANCE * q, axis=1)
        done = left[fits]
        denominators[done] = q
        numerators[done] = whole[fits].astype(np.int64)
        left = left[~fits]
        if len(left) == 0:
            return numerators.reshape(values.shape), denominators
    return None, None


def _reduced(points: np.ndarray, scale: int) -> tuple[np.ndarray, int]:
    """``points`` and ``scale`` divided by their greatest common divisor (same scores)."""
    divisor = math.gcd(int(np.gcd.reduce(np.abs(points))), scale) or 1
    return points // divisor, scale // divisor
