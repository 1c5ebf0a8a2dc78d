"""The guard: each chat's settings and the members its admins allowed.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guard_settings",
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("chat_id", sa.String(100), nullable=False),
        sa.Column("on", sa.Boolean, nullable=False),
        sa.Column("restrict_until_approved", sa.Boolean, nullable=False),
        sa.Column("delete_join", sa.Boolean, nullable=False),
        sa.Column("moderators_chat", sa.String(100)),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "chat_id", name="pk_guard_settings"),
    )
    op.create_table(
        "guard_allowed",
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("chat_id", sa.String(100), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("allowed_by", sa.String(200), nullable=False),
        sa.Column("allowed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "chat_id", "user_id", name="pk_guard_allowed"),
    )


def downgrade() -> None:
    op.drop_table("guard_allowed")
    op.drop_table("guard_settings")
