"""final submit in one statement: what a send of a complete draft would write, kept as it is saved

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 08:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # NULL for every existing draft: its send reads the answers and decides, as before.
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ready_to_send", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("ready_at")
        batch_op.drop_column("ready_to_send")
