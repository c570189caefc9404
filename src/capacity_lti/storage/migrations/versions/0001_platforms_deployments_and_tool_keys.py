"""platforms, deployments and tool keys

Revision ID: 0001
Revises:
Create Date: 2026-11-22 12:38:29.725638
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import capacity_lti.storage.tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("auth_login_url", sa.Text(), nullable=False),
        sa.Column("auth_token_url", sa.Text(), nullable=False),
        sa.Column("key_set_url", sa.Text(), nullable=False),
        sa.Column("auth_audience", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at", capacity_lti.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform")),
        sa.UniqueConstraint("issuer", "client_id", name=op.f("uq_platform_issuer")),
    )
    op.create_table(
        "tool_key",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column(
            "created_at", capacity_lti.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "retired_at", capacity_lti.storage.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_tool_key")),
    )
    op.create_table(
        "deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("added_by", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at", capacity_lti.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platform.id"],
            name=op.f("fk_deployment_platform_id_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment")),
        sa.UniqueConstraint("platform_id", "deployment_id", name=op.f("uq_deployment_platform_id")),
    )


def downgrade() -> None:
    op.drop_table("deployment")
    op.drop_table("tool_key")
    op.drop_table("platform")
