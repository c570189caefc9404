"""course_member: who is in which course (platform + LTI context), from launches and NRPS

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from capacity_lti.storage.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("teaching", sa.Boolean(), nullable=False),
        sa.Column("launched_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("in_roster", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platform.id"],
            name=op.f("fk_course_member_platform_id_platform"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learner.id"],
            name=op.f("fk_course_member_learner_id_learner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_member")),
        sa.UniqueConstraint("learner_id", "context_id", name=op.f("uq_course_member_learner_id")),
    )
    op.create_index(
        "ix_course_member_course", "course_member", ["platform_id", "context_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_course_member_course", table_name="course_member")
    op.drop_table("course_member")
