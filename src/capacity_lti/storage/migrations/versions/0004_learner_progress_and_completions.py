"""learner progress, completions and self-assessments

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from capacity_lti.storage.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _learner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["learner_id"],
        ["learner.id"],
        name=op.f(f"fk_{table}_learner_id_learner"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "module_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.String(length=64), nullable=False),
        sa.Column("seen", sa.Text(), nullable=False),
        sa.Column("last_block", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_answers", sa.Text(), nullable=True),
        sa.Column("check_passed", sa.Boolean(), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", UTCDateTime(timezone=True), nullable=True),
        _learner_fk("module_progress"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_module_progress")),
        sa.UniqueConstraint("learner_id", "module_id", name=op.f("uq_module_progress_learner_id")),
    )
    op.create_table(
        "completion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("resource_link_id", sa.Integer(), nullable=True),
        sa.Column("completed_at", UTCDateTime(timezone=True), nullable=False),
        _learner_fk("completion"),
        sa.ForeignKeyConstraint(
            ["resource_link_id"],
            ["resource_link.id"],
            name=op.f("fk_completion_resource_link_id_resource_link"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completion")),
        sa.UniqueConstraint("learner_id", "item_id", name=op.f("uq_completion_learner_id")),
    )
    op.create_table(
        "self_assessment",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("path_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        _learner_fk("self_assessment"),
        sa.PrimaryKeyConstraint("learner_id", name=op.f("pk_self_assessment")),
    )


def downgrade() -> None:
    op.drop_table("self_assessment")
    op.drop_table("completion")
    op.drop_table("module_progress")
