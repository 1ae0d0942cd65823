"""From panel reviews to one score per application, with flags staff should look at.

A review rates an application 1-5 on each criterion.  The application's criterion means and their
weighted mean (the score) are what the optimiser uses.  Optional calibration fits the additive model
``review total = quality + reviewer bias + noise`` by sparse least squares, so a harsh or generous
reviewer does not decide who is chosen; it is only possible when every reviewer and application are
linked through shared reviews, otherwise the raw score is kept and a warning says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import lsqr

from selection.errors import InputError
from selection.inputs import normalise_weights, parse_ratings, weighted_score
from selection.options import CRITERIA

DISAGREEMENT_SPREAD = 2.0
"""Reviewers disagree when the highest and lowest rating of one criterion differ by this much."""

CALIBRATION_RIDGE = 0.1
"""Ridge penalty on reviewer biases: small, it only pins down the otherwise free common offset."""


@dataclass(frozen=True)
class Scores:
    """Per-application scores from reviews (indexed by application id) and any warnings."""

    table: pd.DataFrame
    warnings: tuple[str, ...]


def compute_scores(
    reviews: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    min_reviews: int = 2,
    calibrate: bool = False,
) -> Scores:
    """Criterion means, raw and (optionally) calibrated score, review count and flags."""
    for col in ("application_id", "reviewer_id"):
        if col not in reviews.columns:
            raise InputError(f"The reviews have no '{col}' column.", column=col)
    w = normalise_weights(weights)
    frame = pd.DataFrame(
        {
            "application_id": reviews["application_id"].astype("string").str.strip().astype(object),
            "reviewer_id": reviews["reviewer_id"].astype("string").str.strip().astype(object),
        }
    )
    for col in ("application_id", "reviewer_id"):
        blank = frame[col].isna().to_numpy() | (frame[col] == "").to_numpy()
        if blank.any():
            pos = int(np.flatnonzero(blank)[0])
            raise InputError(
                f"Row {pos + 2}, column '{col}': the value is blank.", row=pos + 2, column=col
            )
    ratings = parse_ratings(reviews, CRITERIA, np.ones(len(reviews), dtype=bool), "reviews")
    dup = frame.duplicated(["application_id", "reviewer_id"]).to_numpy()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        raise InputError(
            f"Row {pos + 2}: reviewer '{frame['reviewer_id'].iloc[pos]}' has already reviewed "
            f"application '{frame['application_id'].iloc[pos]}'.",
            row=pos + 2,
            column="reviewer_id",
        )
    frame = pd.concat([frame, ratings], axis=1)
    grouped = frame.groupby("application_id", sort=True)
    means = grouped[list(CRITERIA)].mean()
    spread = (grouped[list(CRITERIA)].max() - grouped[list(CRITERIA)].min()).max(axis=1)
    table = means.copy()
    table["n_reviews"] = grouped.size().astype(int)
    table["score_raw"] = weighted_score(means, w)
    flags = flag_text(table["n_reviews"].to_numpy(), spread.to_numpy(), min_reviews)
    table["flags"] = flags
    warnings: list[str] = []
    if calibrate:
        calibrated, warning = calibrated_scores(frame, w)
        if warning:
            warnings.append(warning)
            table["score_calibrated"] = np.nan
        else:
            table["score_calibrated"] = calibrated.reindex(table.index).to_numpy()
    table.index.name = "id"
    return Scores(table, tuple(warnings))


def flag_text(n_reviews: np.ndarray, spread: np.ndarray, min_reviews: int) -> list[str]:
    """The ``flags`` cell per application: codes separated by ``;``, empty when nothing to flag."""
    few = n_reviews < min_reviews
    split = np.nan_to_num(spread, nan=0.0) >= DISAGREEMENT_SPREAD
    out: list[str] = []
    for f, s in zip(few.tolist(), split.tolist(), strict=True):
        codes = (["too_few_reviews"] if f else []) + (["disagreement"] if s else [])
        out.append(";".join(codes))
    return out


def calibrated_scores(frame: pd.DataFrame, weights: Mapping[str, float]) -> tuple[pd.Series, str]:
    """Quality estimates from the additive reviewer-bias model, or an empty result and a warning.

    Each review's weighted total is modelled as quality of the application plus bias of the
    reviewer; a small ridge on the biases makes the split unique.  Solved with LSQR on a sparse
    design matrix, so thousands of reviews cost milliseconds.
    """
    apps, app_idx = np.unique(frame["application_id"].to_numpy(dtype=str), return_inverse=True)
    revs, rev_idx = np.unique(frame["reviewer_id"].to_numpy(dtype=str), return_inverse=True)
    n_a, n_r, n = len(apps), len(revs), len(frame)
    graph = sparse.coo_matrix(
        (np.ones(n), (app_idx, n_a + rev_idx)), shape=(n_a + n_r, n_a + n_r)
    ).tocsr()
    n_parts, _ = connected_components(graph, directed=False)
    if n_parts > 1:
        return (
            pd.Series(dtype=float),
            f"Reviewer calibration was not done: reviewers and applications fall into {n_parts} "
            "separate groups with no reviewer in common, so their biases cannot be compared. "
            "Raw scores are used.",
        )
    totals = weighted_score(frame, weights)
    rows = np.concatenate([np.arange(n), np.arange(n), n + np.arange(n_r)])
    cols = np.concatenate([app_idx, n_a + rev_idx, n_a + np.arange(n_r)])
    vals = np.concatenate([np.ones(2 * n), np.full(n_r, np.sqrt(CALIBRATION_RIDGE))])
    design = sparse.csr_matrix((vals, (rows, cols)), shape=(n + n_r, n_a + n_r))
    target = np.concatenate([totals, np.zeros(n_r)])
    solution = lsqr(design, target, atol=1e-12, btol=1e-12, iter_lim=10_000)[0]
    return pd.Series(solution[:n_a], index=pd.Index(apps, dtype=object)), ""


def score_reviews(
    reviews: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    min_reviews: int = 2,
    calibrate: bool = False,
) -> pd.DataFrame:
    """Per-application scores from a reviews table, one row per application id.

    ``reviews`` has ``application_id``, ``reviewer_id`` and one 1-5 column per criterion.  The
    result has the criterion means, ``n_reviews``, ``score_raw`` (weighted mean), ``flags`` and,
    with ``calibrate=True``, ``score_calibrated`` side by side; warnings are in ``.attrs``.
    """
    scores = compute_scores(reviews, weights=weights, min_reviews=min_reviews, calibrate=calibrate)
    table = scores.table.reset_index()
    table.attrs["warnings"] = list(scores.warnings)
    return table
