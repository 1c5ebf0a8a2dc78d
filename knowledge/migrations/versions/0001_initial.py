"""The registry: entities, accounts, evidence, the change log, reports.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entities",
        sa.Column("id", sa.Integer),
        sa.Column("name", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_entities"),
        sa.UniqueConstraint("name", name="uq_entities_name"),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("handle_key", sa.String(300), nullable=False),
        sa.Column("handle_as_written", sa.String(300), nullable=False),
        sa.Column("platform_id", sa.String(100)),
        sa.Column("entity_id", sa.Integer),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.id"], name="fk_accounts_entity_id_entities"
        ),
        sa.UniqueConstraint("platform", "handle_key", name="uq_accounts_platform_handle_key"),
    )
    op.create_index("ix_accounts_platform_id", "accounts", ["platform_id"])
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("publisher", sa.Text),
        sa.Column("published", sa.Date),
        sa.Column("quote", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_evidence"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_evidence_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("account_id", "url", name="uq_evidence_account_id_url"),
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("handle_key", sa.String(300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("old_status", sa.String(20), nullable=False),
        sa.Column("new_status", sa.String(20), nullable=False),
        sa.Column("old_entity", sa.String(300)),
        sa.Column("new_entity", sa.String(300)),
        sa.Column("note", sa.Text),
        sa.Column("evidence_url", sa.String(2000)),
        sa.Column("evidence_title", sa.Text),
        sa.Column("evidence_publisher", sa.Text),
        sa.Column("evidence_published", sa.Date),
        sa.Column("evidence_quote", sa.Text),
        sa.Column("undoes", sa.Integer),
        sa.Column("before", sa.JSON),
        sa.PrimaryKeyConstraint("id", name="pk_changes"),
        sa.ForeignKeyConstraint(["undoes"], ["changes.id"], name="fk_changes_undoes_changes"),
    )
    op.create_index(
        "ix_changes_platform_handle_key_id", "changes", ["platform", "handle_key", "id"]
    )
    op.create_index("ix_changes_undoes", "changes", ["undoes"])
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("handle_key", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
    )
    op.create_index("ix_reports_resolved_id", "reports", ["resolved", "id"])


def downgrade() -> None:
    for table in ("reports", "changes", "evidence", "accounts", "entities"):
        op.drop_table(table)
