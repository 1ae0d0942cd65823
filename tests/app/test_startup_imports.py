"""Starting the web app (`import wsgi`, as gunicorn and flask do) loads neither pandas nor scipy:
they load where a selection runs or a file is read or written, so a worker starts quickly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_app_starts_without_pandas_or_scipy(tmp_path: Path) -> None:
    script = (
        "import sys, wsgi; "
        "print(sorted(m for m in ('pandas', 'scipy', 'openpyxl') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(tmp_path / "instance")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"
