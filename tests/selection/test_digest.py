"""The audit's input digest is stable: stored runs compare it, so its format must never drift."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selection import SelectionOptions, read_quotas
from selection.categories import category_codes
from selection.engine import inputs_digest
from selection.inputs import normalise_weights


def _reference_digest(
    applications: pd.DataFrame,
    quotas: pd.DataFrame,
    k: int,
    weights: dict[str, float],
    reviews: pd.DataFrame | None,
    options: SelectionOptions,
) -> str:
    """The digest as first published (whole columns converted to text), kept to compare with."""
    digest = hashlib.sha256()

    def frame_bytes(frame: pd.DataFrame, key: list[str]) -> bytes:
        present = [c for c in key if c in frame.columns]
        if present:
            frame = frame.sort_values(present, kind="stable")
        parts: list[bytes] = []
        for name in sorted(map(str, frame.columns)):
            column = frame[name]
            parts.append(name.encode() + b"\x1d")
            if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
                parts.append(column.to_numpy(dtype="<f8", na_value=np.nan).tobytes())
            else:
                text = column.to_numpy(dtype=str)
                parts.append(str(text.dtype).encode() + text.tobytes())
            parts.append(b"\x1e")
        return b"".join(parts)

    digest.update(frame_bytes(applications, ["id"]))
    digest.update(frame_bytes(quotas, ["dimension", "category"]))
    if reviews is not None:
        digest.update(frame_bytes(reviews, ["application_id", "reviewer_id"]))
    settings_ = {"k": k, "weights": dict(weights), "options": options.as_dict()}
    digest.update(json.dumps(settings_, sort_keys=True).encode())
    return digest.hexdigest()


def _apps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["b2", "a1", "c3", "d4"],
            "region": ["Wales", "Wales", "London", "Scotland"],
            "eligible": [True, False, True, True],
            "difference": [4.0, 3.5, 2.0, 5.0],
            "inequalities": [4.0, 3.5, 2.0, 5.0],
            "resources": [4.0, 3.5, 2.0, 5.0],
            "evidence": [4.0, 3.5, 2.0, 5.0],
        }
    )


QUOTAS = pd.DataFrame([{"dimension": "region", "category": "Wales", "min": 1, "max": 2}])


def test_digest_is_pinned() -> None:
    # Computed with version 0.1.0 as first published; a change here breaks every stored run.
    table = read_quotas(QUOTAS, 2)
    got = inputs_digest(_apps(), table, 2, normalise_weights(None), None, SelectionOptions())
    assert got == _reference_digest(
        _apps(), table.to_frame(), 2, normalise_weights(None), None, SelectionOptions()
    )
    assert got == "2fd6137e3ff5ffe0d30cb6ba9c9897d38c5909dab926d4ebd713935d2a661921"


texts = st.sampled_from(["", "Wales", "north east", "Ynys Môn", "x" * 30, "1", "ñ"])
cells = st.one_of(texts, st.none(), st.floats(allow_nan=True, allow_infinity=False), st.integers())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=0, max_value=40),
    st.lists(texts, min_size=1, max_size=3),
    st.lists(cells, min_size=1, max_size=6),
    st.booleans(),
)
def test_digest_matches_the_reference_on_any_columns(
    n: int, categories: list[str], mixed: list[object], use_reviews: bool
) -> None:
    rng = np.random.default_rng(n)
    apps = pd.DataFrame(
        {
            "id": [f"A{i}" for i in rng.permutation(n)],
            "region": [categories[i % len(categories)] for i in range(n)],
            "mixed": pd.Series([mixed[i % len(mixed)] for i in range(n)], dtype=object),
            "flag": [bool(i % 2) for i in range(n)],
            "difference": rng.integers(1, 6, n).astype(float),
        }
    )
    apps["as_category"] = apps["region"].astype("category")
    reviews = (
        pd.DataFrame(
            {
                "application_id": apps["id"].tolist() * 2,
                "reviewer_id": ["r1"] * n + ["r2"] * n,
                "evidence": np.ones(2 * n),
            }
        )
        if use_reviews
        else None
    )
    table = read_quotas(QUOTAS, 2)
    weights = normalise_weights({"evidence": 2})
    options = SelectionOptions(seed=3)
    reference = _reference_digest(apps, table.to_frame(), 2, weights, reviews, options)
    assert inputs_digest(apps, table, 2, weights, reviews, options) == reference
    # Columns already coded (as a run codes its quota dimensions) give the same digest.
    coded = {name: category_codes(apps[name]) for name in ("region", "mixed", "as_category")}
    assert n == 0 or coded["region"].raw_codes is not None  # text: the short cut is taken
    assert inputs_digest(apps, table, 2, weights, reviews, options, coded) == reference
