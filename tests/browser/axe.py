"""axe-core (shipped in axe-playwright-python) with every WCAG 2.0, 2.1 and 2.2 A and AA rule."""

from __future__ import annotations

from typing import Any

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def axe_violations(page: Any) -> list[str]:
    """Every violation on the page as it is now, one readable line each (empty when clean)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: "
        f"{[node['target'] for node in v['nodes']][:3]})"
        for v in results.response["violations"]
    ]


def report(problems: dict[str, list[str]]) -> str:
    """Violations grouped by page state, for an assertion message."""
    return "\n".join(
        f"{state}: {problem}" for state, lines in problems.items() for problem in lines
    )
