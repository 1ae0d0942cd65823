"""the address an applicant has shown is theirs: the confirmation's copy of the answers goes only there

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 18:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    # NULL for every existing application: no address confirmed yet (a summary is emailed).
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_email_hash", sa.String(64), nullable=True))


def downgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("confirmed_email_hash")
