"""The reports queue closes: repeats merge (a count, the reporters), a report is accepted,
decided otherwise or dismissed (with who and why); chats remember their language.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as table:
        table.add_column(sa.Column("count", sa.Integer, nullable=False, server_default="1"))
        table.add_column(sa.Column("reporters", sa.JSON))
        table.add_column(sa.Column("outcome", sa.String(20)))
        table.add_column(sa.Column("closed_by", sa.String(200)))
        table.add_column(sa.Column("closed_reason", sa.Text))
        table.add_column(sa.Column("closed_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("chat_preferences") as table:
        table.add_column(sa.Column("language", sa.String(20)))
        table.alter_column("autocheck", server_default=sa.false())


def downgrade() -> None:
    with op.batch_alter_table("chat_preferences") as table:
        table.alter_column("autocheck", server_default=None)
        table.drop_column("language")
    with op.batch_alter_table("reports") as table:
        for column in ("closed_at", "closed_reason", "closed_by", "outcome", "reporters", "count"):
            table.drop_column(column)
