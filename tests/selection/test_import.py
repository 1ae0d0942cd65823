"""The selection package stays pure: importing it loads no web or database code."""

from __future__ import annotations

import subprocess
import sys


def test_importing_selection_pulls_in_no_flask_or_sqlalchemy() -> None:
    code = (
        "import sys, selection\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'flask_wtf', 'flask_sqlalchemy', 'sqlalchemy', 'app', 'wtforms'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_api_is_declared() -> None:
    import selection

    expected = {
        "select",
        "replace",
        "score_reviews",
        "read_quotas",
        "validate_quotas",
        "SelectionOptions",
        "SelectionResult",
        "QuotaBound",
        "QuotaTable",
        "SelectionError",
        "InputError",
        "QuotaError",
        "InfeasibleQuotasError",
        "CRITERIA",
        "__version__",
        "FORMULA_TRIGGERS",
        "safe_cell",
        "write_csv",
        "write_xlsx",
    }
    assert expected <= set(selection.__all__)
    assert selection.CRITERIA == ("difference", "inequalities", "resources", "evidence")
    for name in selection.__all__:
        assert hasattr(selection, name)
    assert issubclass(selection.InfeasibleQuotasError, selection.SelectionError)
