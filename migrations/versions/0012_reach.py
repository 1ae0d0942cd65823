"""reminders to send a draft (one per draft per point of the schedule) and the opt-out

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:15:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminders_opted_out_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "draft_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_draft_reminders_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_reminders")),
        sa.UniqueConstraint(
            "application_id", "days_before", name=op.f("uq_draft_reminders_application_id")
        ),
    )
    with op.batch_alter_table("draft_reminders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_draft_reminders_application_id"), ["application_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("draft_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draft_reminders_application_id"))
    op.drop_table("draft_reminders")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("reminders_opted_out_at")
