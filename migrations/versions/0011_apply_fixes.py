"""the organisation type becomes "select all that apply": answers stored as one choice become a
list of one

Revision ID: 0011_apply_fixes
Revises: 0010
Create Date: 2026-12-07 21:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011_apply_fixes"
down_revision = "0010"
branch_labels = None
depends_on = None

PAGES = sa.table(
    "answer_pages",
    sa.column("id", sa.Integer),
    sa.column("page_id", sa.String),
    sa.column("answers", sa.JSON),
)


def _rewrite(change):
    connection = op.get_bind()
    found = connection.execute(
        sa.select(PAGES.c.id, PAGES.c.answers).where(PAGES.c.page_id == "organisation")
    ).all()
    for page_id, answers in found:
        answers = dict(answers or {})
        changed = change(answers.get("organisation_type"))
        if changed is not None:
            answers["organisation_type"] = changed
            connection.execute(PAGES.update().where(PAGES.c.id == page_id).values(answers=answers))


def upgrade():
    _rewrite(lambda value: [value] if isinstance(value, str) and value else None)


def downgrade():
    # Back to one choice: the first of those chosen.
    _rewrite(lambda value: (value[0] if value else None) if isinstance(value, list) else None)
