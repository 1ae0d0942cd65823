"""``python -m selection``: see :mod:`selection.cli`."""

from selection.cli import main

raise SystemExit(main())
