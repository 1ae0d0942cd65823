"""outcome letters: feedback for the applicant on reviews, moderation's edit of it, and one
letter per confirmed decision

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 21:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("review_scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feedback", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "applicant_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id", "criterion"),
    )
    with op.batch_alter_table("applicant_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_applicant_feedback_application_id"), ["application_id"], unique=False
        )
    op.create_table(
        "outcome_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("basis", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("previous_decision", sa.String(length=20), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["selection_runs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["queued_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "application_id", "basis"),
    )
    with op.batch_alter_table("outcome_letters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outcome_letters_application_id"), ["application_id"], unique=False
        )


def downgrade():
    op.drop_table("outcome_letters")
    op.drop_table("applicant_feedback")
    with op.batch_alter_table("review_scores", schema=None) as batch_op:
        batch_op.drop_column("feedback")
