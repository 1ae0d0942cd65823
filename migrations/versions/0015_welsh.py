"""welsh: the language an application is written in

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 23:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=5), nullable=False, server_default="en")
        )


def downgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("language")
