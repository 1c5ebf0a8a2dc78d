"""Chat preferences; indexes for autocomplete and for resolving an account's reports.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_preferences",
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("chat_id", sa.String(100), nullable=False),
        sa.Column("autocheck", sa.Boolean, nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "chat_id", name="pk_chat_preferences"),
    )
    op.create_index("ix_accounts_entity_id", "accounts", ["entity_id"])
    # Byte order on both databases (SQLite compares bytes): prefix ranges are then exact.
    collate = ' COLLATE "C"' if op.get_bind().dialect.name == "postgresql" else ""
    lowered = sa.text(f"lower(handle_key){collate}")
    op.create_index("ix_accounts_handle_lower", "accounts", [lowered])
    op.create_index("ix_reports_platform_handle_key", "reports", ["platform", "handle_key"])


def downgrade() -> None:
    op.drop_index("ix_reports_platform_handle_key", "reports")
    op.drop_index("ix_accounts_handle_lower", "accounts")
    op.drop_index("ix_accounts_entity_id", "accounts")
    op.drop_table("chat_preferences")
