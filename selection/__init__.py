"""Partner Select's selection engine: the best-scoring balanced set of sites, exact and explained.

Pure Python on numpy, pandas and scipy; it never imports the web application.  One entry point,
:func:`select`, turns scored applications and a quota table into a decision and a reason for every
application, plus an audit record that lets anyone replay the run byte for byte.

The names below are loaded when first used (PEP 562), so that ``python -m selection --help``
does not wait for pandas and scipy to import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from selection.categories import category_key
    from selection.engine import replace, select
    from selection.errors import InfeasibleQuotasError, InputError, QuotaError, SelectionError
    from selection.evaluation import evaluate
    from selection.options import (
        CRITERIA,
        Replacement,
        SelectionOptions,
        SelectionResult,
        __version__,
    )
    from selection.quotas import Labels, QuotaBound, QuotaTable, read_quotas, validate_quotas
    from selection.reach import Reach, Shortfall, quota_reach
    from selection.scoring import score_reviews
    from selection.spreadsheets import FORMULA_TRIGGERS, safe_cell, write_csv, write_xlsx

_HOME = {
    "CRITERIA": "selection.options",
    "InfeasibleQuotasError": "selection.errors",
    "InputError": "selection.errors",
    "Labels": "selection.quotas",
    "QuotaBound": "selection.quotas",
    "QuotaError": "selection.errors",
    "QuotaTable": "selection.quotas",
    "Reach": "selection.reach",
    "Replacement": "selection.options",
    "SelectionError": "selection.errors",
    "Shortfall": "selection.reach",
    "SelectionOptions": "selection.options",
    "SelectionResult": "selection.options",
    "__version__": "selection.options",
    "category_key": "selection.categories",
    "evaluate": "selection.evaluation",
    "read_quotas": "selection.quotas",
    "quota_reach": "selection.reach",
    "replace": "selection.engine",
    "score_reviews": "selection.scoring",
    "select": "selection.engine",
    "validate_quotas": "selection.quotas",
    "FORMULA_TRIGGERS": "selection.spreadsheets",
    "safe_cell": "selection.spreadsheets",
    "write_csv": "selection.spreadsheets",
    "write_xlsx": "selection.spreadsheets",
}
"""Each public name and the module that defines it."""

__all__ = [
    "CRITERIA",
    "FORMULA_TRIGGERS",
    "InfeasibleQuotasError",
    "InputError",
    "Labels",
    "QuotaBound",
    "QuotaError",
    "QuotaTable",
    "Reach",
    "Replacement",
    "SelectionError",
    "SelectionOptions",
    "SelectionResult",
    "Shortfall",
    "__version__",
    "category_key",
    "evaluate",
    "quota_reach",
    "read_quotas",
    "replace",
    "safe_cell",
    "score_reviews",
    "select",
    "validate_quotas",
    "write_csv",
    "write_xlsx",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module the first time it is asked for."""
    if name not in _HOME:
        raise AttributeError(f"module 'selection' has no attribute '{name}'")
    return getattr(importlib.import_module(_HOME[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
