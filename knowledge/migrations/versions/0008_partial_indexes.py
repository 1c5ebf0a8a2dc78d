"""Indexes of mostly-empty columns hold their values only: an account's platform id and the
change a change undoes are NULL in nearly every row, and each NULL was one more index entry to
write (an import of a million accounts wrote two million of them). A lookup by value, the only
kind these indexes serve, implies the value is not NULL, so both databases still use them.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_INDEXES = (("ix_accounts_platform_id", "accounts", "platform_id"),
            ("ix_changes_undoes", "changes", "undoes"))


def upgrade() -> None:
    for name, table, column in _INDEXES:
        op.drop_index(name, table_name=table)
        present = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, table, [column], sqlite_where=present, postgresql_where=present)


def downgrade() -> None:
    for name, table, column in _INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column])
