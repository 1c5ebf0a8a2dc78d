"""Entities with identity (external identifiers, aliases); sources that stay in step.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entity_identifiers",
        sa.Column("entity_id", sa.Integer, nullable=False),
        sa.Column("scheme", sa.String(50), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entities.id"],
            name="fk_entity_identifiers_entity_id_entities",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("scheme", "value", name="pk_entity_identifiers"),
    )
    op.create_index("ix_entity_identifiers_entity_id", "entity_identifiers", ["entity_id"])
    op.create_table(
        "entity_aliases",
        sa.Column("entity_id", sa.Integer, nullable=False),
        sa.Column("alias", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["entities.id"],
            name="fk_entity_aliases_entity_id_entities",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entity_id", "alias", name="pk_entity_aliases"),
    )
    op.create_index("ix_entity_aliases_alias", "entity_aliases", ["alias"])
    op.create_table(
        "sources",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("location", sa.String(2000), nullable=False),
        sa.Column("format", sa.String(30), nullable=False),
        sa.Column("every_minutes", sa.Integer),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("etag", sa.String(500)),
        sa.Column("last_modified", sa.String(100)),
        sa.Column("last_sync_at", sa.DateTime(timezone=True)),
        sa.Column("last_result", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("name", name="pk_sources"),
    )
    op.create_table(
        "source_listings",
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("handle_key", sa.String(300), nullable=False),
        sa.Column("evidence_url", sa.String(2000)),
        sa.Column("listed_since", sa.Date, nullable=False),
        sa.Column("retired_on", sa.Date),
        sa.ForeignKeyConstraint(
            ["source"], ["sources.name"], name="fk_source_listings_source_sources",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source", "platform", "handle_key", name="pk_source_listings"),
    )


def downgrade() -> None:
    op.drop_table("source_listings")
    op.drop_table("sources")
    op.drop_index("ix_entity_aliases_alias", "entity_aliases")
    op.drop_table("entity_aliases")
    op.drop_index("ix_entity_identifiers_entity_id", "entity_identifiers")
    op.drop_table("entity_identifiers")
