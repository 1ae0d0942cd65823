"""sign-in lockout: failures made from a trusted device are counted per device

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # NULL for every failure so far: none was made from a trusted device.
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_key", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_sign_in_failures_device_key"), ["device_key"], unique=False
        )


def downgrade():
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_failures_device_key"))
        batch_op.drop_column("device_key")
