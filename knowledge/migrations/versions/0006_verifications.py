"""Verifications: dated two-way link checks of accounts against their entities' official sites.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("handle_key", sa.String(300), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("checks", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_verifications"),
    )
    op.create_index(
        "ix_verifications_platform_handle_key_id",
        "verifications",
        ["platform", "handle_key", "id"],
    )
    op.create_index("ix_verifications_checked_at", "verifications", ["checked_at"])


def downgrade() -> None:
    op.drop_index("ix_verifications_checked_at", "verifications")
    op.drop_index("ix_verifications_platform_handle_key_id", "verifications")
    op.drop_table("verifications")
