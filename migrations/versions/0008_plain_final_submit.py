"""the final submit reads the draft and changes it with the ORM: the kept copy of a complete
draft's send (ready_to_send, ready_at) is no longer used

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 19:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("ready_at")
        batch_op.drop_column("ready_to_send")


def downgrade():
    # NULL for every draft: a send by the release before this one reads the answers and decides.
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ready_to_send", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True))
