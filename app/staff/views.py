"""Staff views."""

from __future__ import annotations

from flask import render_template

from ..access import roles_required
from ..extensions import db
from . import bp
from .services import round_summaries


@bp.get("/")
@roles_required("staff", "admin")
def home() -> str:
    return render_template("staff/home.html", summaries=round_summaries(db.session))
