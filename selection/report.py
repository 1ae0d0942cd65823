"""A selection result for people: the tables of its CSV and XLSX files, and a plain-text summary.

The files themselves are written by :mod:`selection.spreadsheets`, which the web application's
downloads use too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from selection.options import CRITERIA, SelectionResult

DECISION_COLUMNS = ("id", "decision", "rank", "score", "reason")
"""The columns every decisions file starts with, in this order; the rest follow as the engine
gives them."""

SHEETS = ("Decisions", "Mix", "Parameters")

JOIN_COLUMNS = ("id",)
"""The columns people match back to their own files: the XLSX report keeps them exactly."""


def decisions_table(result: SelectionResult) -> pd.DataFrame:
    """The decisions, one row per application, starting with id, decision, rank, score, reason."""
    d = result.decisions
    first = [c for c in DECISION_COLUMNS if c in d.columns]
    return d[first + [c for c in d.columns if c not in first]]


def _plain(value: Any) -> Any:
    """A value as a single spreadsheet cell: nested structures as JSON text."""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def parameters_table(result: SelectionResult) -> pd.DataFrame:
    """The audit record as ``parameter, value`` rows; nested mappings become dotted names."""
    rows: list[tuple[str, Any]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            rows.append((prefix, _plain(value)))

    walk("", dict(result.audit))
    return pd.DataFrame(rows, columns=["parameter", "value"])


def report_sheets(result: SelectionResult) -> dict[str, pd.DataFrame]:
    """The three worksheets of the XLSX report: Decisions, Mix (quota bounds), Parameters."""
    return dict(
        zip(
            SHEETS,
            (decisions_table(result), result.bounds, parameters_table(result)),
            strict=True,
        )
    )


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def _text_table(frame: pd.DataFrame) -> list[str]:
    """A fixed-width text table: text left-aligned, numbers right-aligned."""
    cells = [[_fmt(v) for v in row] for row in frame.itertuples(index=False)]
    headers = [str(c) for c in frame.columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)]


def format_summary(result: SelectionResult) -> str:
    """A readable account of the run: totals, price of balance and the quota bounds."""
    d = result.decisions
    summary, audit = dict(result.summary), dict(result.audit)
    counts = {name: int((d["decision"] == name).sum()) for name in _DECISIONS}
    eligible = len(d) - counts["ineligible"]
    k = summary.get("k", counts["selected"])
    lines = [
        "Selection summary",
        "=================",
        f"Applications: {len(d)} ({eligible} eligible, {counts['ineligible']} ineligible)",
        "Decisions: " + ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items()),
    ]
    if "total_score" in summary:
        mean = summary.get("mean_selected_score")
        total = _fmt(summary["total_score"])
        lines.append(
            f"Total score of the {counts['selected']} selected sites: {total}"
            + (f" (mean {_fmt(mean)})" if mean is not None else "")
        )
    if "unconstrained_total_score" in summary:
        lines.append(
            f"Total score of the top {k} with no quotas: "
            f"{_fmt(summary['unconstrained_total_score'])}"
        )
    if "price_of_balance" in summary:
        lines.append(
            f"Price of balance: {_fmt(summary['price_of_balance'])} points given up to meet "
            "the quotas"
        )
    if "binding" in result.bounds.columns:
        binding = int(result.bounds["binding"].fillna(False).astype(bool).sum())
        lines.append(f"Binding quota bounds: {binding} of {len(result.bounds)}")
    weights = audit.get("weights")
    if isinstance(weights, Mapping):
        lines.append(
            "Weights: " + ", ".join(f"{c}={_fmt(weights[c])}" for c in CRITERIA if c in weights)
        )
    replay = [
        f"{label} {_fmt(audit[key])}"
        for key, label in (
            ("seed", "seed"),
            ("lottery_band", "lottery band"),
            ("version", "version"),
        )
        if key in audit and audit[key] is not None
    ]
    if "inputs_sha256" in audit:
        replay.append(f"inputs SHA-256 {audit['inputs_sha256']}")
    if replay:
        lines.append("Replay with: " + "; ".join(replay))
    notes = audit.get("rounding_notes") or []
    lines += [f"Note: {note}" for note in notes]
    if not result.bounds.empty:
        wanted = ["dimension", "category", "min", "max", "pool", "selected", "binding", "cost"]
        table = result.bounds[[c for c in wanted if c in result.bounds.columns]]
        lines += ["", "Quota bounds (cost: points the total would gain without that bound)"]
        lines += _text_table(table)
    if result.warnings:
        lines += ["", "Warnings", *(f"- {w}" for w in result.warnings)]
    return "\n".join(lines)


_DECISIONS = ("selected", "reserve", "not_selected", "ineligible")
