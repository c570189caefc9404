"""learners and resource links

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from capacity_lti.storage.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _platform_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["platform_id"],
        ["platform.id"],
        name=op.f(f"fk_{table}_platform_id_platform"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "learner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_launch_at", UTCDateTime(timezone=True), nullable=False),
        _platform_fk("learner"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learner")),
        sa.UniqueConstraint("platform_id", "subject", name=op.f("uq_learner_platform_id")),
    )
    op.create_table(
        "resource_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("link_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("context_title", sa.Text(), nullable=False),
        sa.Column("module_id", sa.String(length=64), nullable=True),
        sa.Column("ags_lineitem", sa.Text(), nullable=True),
        sa.Column("ags_lineitems", sa.Text(), nullable=True),
        sa.Column("ags_scopes", sa.Text(), nullable=False),
        sa.Column("nrps_url", sa.Text(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        _platform_fk("resource_link"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_link")),
        sa.UniqueConstraint("platform_id", "link_id", name=op.f("uq_resource_link_platform_id")),
    )


def downgrade() -> None:
    op.drop_table("resource_link")
    op.drop_table("learner")
