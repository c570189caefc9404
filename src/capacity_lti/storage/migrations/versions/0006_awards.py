"""awards: diplomas and certificates, each issued once per learner, with its credential

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from capacity_lti.storage.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "award",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=True),
        sa.Column("learner_name", sa.String(length=255), nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("award_key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("path_id", sa.String(length=64), nullable=True),
        sa.Column("module_id", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("issued_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=False),
        sa.Column("credential_jwt", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learner.id"],
            name=op.f("fk_award_learner_id_learner"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award")),
        sa.UniqueConstraint("public_id", name=op.f("uq_award_public_id")),
        sa.UniqueConstraint(
            "learner_id", "programme_id", "award_key", name=op.f("uq_award_learner_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("award")
