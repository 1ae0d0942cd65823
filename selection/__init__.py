"""Partner Select's selection engine: the best-scoring balanced set of sites, exact and explained.

Pure Python on numpy, pandas and scipy; it never imports the web application.  One entry point,
:func:`select`, turns scored applications and a quota table into a decision and a reason for every
application, plus an audit record that lets anyone replay the run byte for byte.
"""

from __future__ import annotations

from selection.engine import replace, select
from selection.errors import InfeasibleQuotasError, InputError, QuotaError, SelectionError
from selection.options import (
    CRITERIA,
    Replacement,
    SelectionOptions,
    SelectionResult,
    __version__,
)
from selection.quotas import QuotaBound, QuotaTable, read_quotas, validate_quotas
from selection.scoring import score_reviews
from selection.spreadsheets import FORMULA_TRIGGERS, safe_cell, write_csv, write_xlsx

__all__ = [
    "CRITERIA",
    "FORMULA_TRIGGERS",
    "InfeasibleQuotasError",
    "InputError",
    "QuotaBound",
    "QuotaError",
    "QuotaTable",
    "Replacement",
    "SelectionError",
    "SelectionOptions",
    "SelectionResult",
    "__version__",
    "read_quotas",
    "replace",
    "safe_cell",
    "score_reviews",
    "select",
    "validate_quotas",
    "write_csv",
    "write_xlsx",
]
