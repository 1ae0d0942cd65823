"""Staff workspace, one room per feature on the one ``staff`` blueprint: applications (list,
screening, staff entry, withdraw, merge, data protection, exports), rounds (settings, quotas),
assignment (reviewers, moderation) and runs (selection runs, shortlist, decisions, outcomes)."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from .applications import views as applications_views  # noqa: E402,F401
from .assignment import views as assignment_views  # noqa: E402,F401
from .letters import views as letters_views  # noqa: E402,F401
from .reach import views as reach_views  # noqa: E402,F401
from .rounds import views as rounds_views  # noqa: E402,F401
from .runs import views as runs_views  # noqa: E402,F401
