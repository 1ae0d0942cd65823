"""Options for a selection run and the frozen records it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__version__ = "0.1.0"

CRITERIA: tuple[str, ...] = ("difference", "inequalities", "resources", "evidence")
"""The four review criteria, each scored 1-5; the order is the order they appear in outputs."""

TOP_SCORE = 5.0
"""The highest rating, so the highest score an application can have (before calibration)."""

DECISIONS: tuple[str, ...] = ("selected", "reserve", "not_selected", "ineligible")


@dataclass(frozen=True)
class SelectionOptions:
    """Settings declared before a run; all of them are recorded in the audit.

    ``lottery_band`` switches on the partial lottery: ``None`` means off, ``0.0`` draws only among
    exact ties at the cut-off, and a positive value draws among applications whose scores are
    within that many points of the cut-off score.  ``score_decimals`` fixes the resolution at which
    scores are compared: the optimiser works in whole "points" of ``10 ** -score_decimals``.
    ``exact_window`` is how many non-selected applications nearest the cut-off get an exact
    "points needed" figure from a re-solve; the rest get a cheaper statement that is still true.
    """

    seed: int = 0
    reserves: int = 10
    lottery_band: float | None = None
    one_per_organisation: bool = False
    min_reviews: int = 2
    calibrate: bool = False
    exact_window: int = 20
    score_decimals: int = 3
    price_bounds: bool = True
    explain: bool = True

    def as_dict(self) -> dict[str, Any]:
        """The options as plain JSON-ready values, for the audit record."""
        return asdict(self)


@dataclass(frozen=True, eq=False)
class SelectionResult:
    """What a selection run decided, why, and how to reproduce it.

    ``decisions`` has one row per application in input order with ``id``, ``decision``
    (selected / reserve / not_selected / ineligible), ``rank`` (1 = best score among eligible
    applications, NA if ineligible), ``score`` (the weighted criterion mean the optimiser used),
    ``reason_code``, ``reason`` (a sentence), ``reserve_number``, ``points_needed`` (exact, for
    those near the cut-off), ``can_replace`` (for reserves: selected ids separated by ``;``), the
    four criterion means, ``flags`` and, when they apply, ``n_reviews``, ``score_raw``,
    ``score_calibrated`` and ``in_lottery``.
    ``bounds`` has one row per quota bound: ``dimension, category, min, max, pool, selected,
    binding, cost`` (points lost to the bound; NA when not binding).
    ``summary`` holds the totals and the price of balance; ``audit`` everything needed to replay
    the run.  ``warnings`` are things staff should read (such as calibration that was not done).
    """

    decisions: pd.DataFrame
    bounds: pd.DataFrame
    summary: Mapping[str, Any]
    audit: Mapping[str, Any]
    warnings: tuple[str, ...] = ()
    context: Any = field(default=None, repr=False)
    """The prepared problem, kept so that :func:`selection.replace` can re-solve; not public."""

    @property
    def selected_ids(self) -> list[str]:
        """Ids of the selected applications, best score first."""
        d = self.decisions
        chosen = d[d["decision"] == "selected"].sort_values("rank", kind="stable")
        return [str(x) for x in chosen["id"]]

    @property
    def reserve_ids(self) -> list[str]:
        """Ids of the reserve list, reserve 1 first."""
        d = self.decisions
        res = d[d["decision"] == "reserve"].sort_values("reserve_number", kind="stable")
        return [str(x) for x in res["id"]]


@dataclass(frozen=True)
class Replacement:
    """The outcome of :func:`selection.replace`: who comes in for the withdrawn sites."""

    withdrawn: tuple[str, ...]
    replacements: tuple[str, ...]
    selected: tuple[str, ...]
    total_score: float
    reasons: tuple[str, ...]
