"""RESULTS.md is shared by every benchmark: each script rewrites only its own marked section."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

_PREAMBLE = """# Benchmark results

Each benchmark script rewrites only its own section, between its `<!-- NAME-bench:start -->` and
`<!-- NAME-bench:end -->` markers; anything outside the markers is kept as written.
"""


def write_section(name: str, text: str, path: Path = RESULTS) -> None:
    """Put ``text`` in the ``name`` section of RESULTS.md, adding the section at the end if new."""
    start, end = f"<!-- {name}-bench:start -->", f"<!-- {name}-bench:end -->"
    block = f"{start}\n{text.strip()}\n{end}"
    current = path.read_text(encoding="utf-8") if path.exists() else _PREAMBLE
    if start in current and end in current:
        before, rest = current.split(start, 1)
        updated = before + block + rest.split(end, 1)[1]
    else:
        updated = current.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(updated, encoding="utf-8")
