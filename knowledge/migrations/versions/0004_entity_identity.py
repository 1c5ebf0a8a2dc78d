"""Entities with identity: external identifiers and aliases.

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


def downgrade() -> None:
    op.drop_index("ix_entity_aliases_alias", "entity_aliases")
    op.drop_table("entity_aliases")
    op.drop_index("ix_entity_identifiers_entity_id", "entity_identifiers")
    op.drop_table("entity_identifiers")
