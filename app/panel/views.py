"""Panel views."""

from __future__ import annotations

from flask import render_template

from ..access import roles_required
from . import bp


@bp.get("/")
@roles_required("reviewer", "staff", "admin")
def home() -> str:
    return render_template("panel/home.html")
