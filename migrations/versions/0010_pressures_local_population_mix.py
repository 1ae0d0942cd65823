"""the pressures answer and the local population (deprivation) answer become mix columns

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 19:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pressures", sa.String(40), nullable=True))
        batch_op.add_column(sa.Column("local_deprivation", sa.String(40), nullable=True))
    # Applications already sent answered the pressures question: copy it, as sending would have.
    # (The local population question is new, so no application has answered it yet.)
    pages = sa.table(
        "answer_pages",
        sa.column("application_id", sa.Integer),
        sa.column("page_id", sa.String),
        sa.column("answers", sa.JSON),
    )
    applications = sa.table(
        "applications",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("pressures", sa.String),
    )
    connection = op.get_bind()
    found = connection.execute(
        sa.select(pages.c.application_id, pages.c.answers)
        .join(applications, applications.c.id == pages.c.application_id)
        .where(pages.c.page_id == "experience", applications.c.status != "draft")
    ).all()
    for application_id, answers in found:
        value = (answers or {}).get("pressures")
        if value:
            connection.execute(
                applications.update()
                .where(applications.c.id == application_id)
                .values(pressures=str(value)[:40])
            )


def downgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("local_deprivation")
        batch_op.drop_column("pressures")
