"""Partner Select's selection engine: the best-scoring balanced set of sites, exact and explained.

Pure Python on numpy, pandas and scipy; it never imports the web application.  One entry point,
:func:`select`, turns scored applications and a quota table into a decision and a reason for every
application, plus an audit record that lets anyone replay the run byte for byte.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from selection.errors import InfeasibleQuotasError, InputError, QuotaError, SelectionError
from selection.options import (
    CRITERIA,
    Replacement,
    SelectionOptions,
    SelectionResult,
    __version__,
)

if TYPE_CHECKING:
    from selection.engine import replace, select
    from selection.quotas import QuotaBound, QuotaTable, read_quotas, validate_quotas
    from selection.scoring import score_reviews

# The parts built on pandas and scipy are imported when first used (PEP 562), so a program that
# imports this package but runs no selection (the web app, as it starts) does not load them.
_LAZY = {
    "replace": "selection.engine",
    "select": "selection.engine",
    "QuotaBound": "selection.quotas",
    "QuotaTable": "selection.quotas",
    "read_quotas": "selection.quotas",
    "validate_quotas": "selection.quotas",
    "score_reviews": "selection.scoring",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "CRITERIA",
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
    "score_reviews",
    "select",
    "validate_quotas",
]
