"""Feeds, their items and the accounts each item mentions.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("etag", sa.String(500)),
        sa.Column("last_modified", sa.String(100)),
        sa.Column("last_success", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", sa.DateTime(timezone=True)),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feeds"),
        sa.UniqueConstraint("url", name="uq_feeds_url"),
    )
    op.create_table(
        "feed_items",
        sa.Column("id", sa.Integer),
        sa.Column("uid", sa.String(600), nullable=False),
        sa.Column("feed_id", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("link", sa.String(2000)),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feed_items"),
        sa.UniqueConstraint("uid", name="uq_feed_items_uid"),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feeds.id"], name="fk_feed_items_feed_id_feeds", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_feed_items_published", "feed_items", ["published"])
    op.create_index("ix_feed_items_feed_id", "feed_items", ["feed_id"])
    op.create_table(
        "item_mentions",
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("handle_key", sa.String(300), nullable=False),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "handle_key", "item_id", name="pk_item_mentions"),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["feed_items.id"],
            name="fk_item_mentions_item_id_feed_items",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_item_mentions_item_id", "item_mentions", ["item_id"])
    op.create_index(
        "ix_item_mentions_recent",
        "item_mentions",
        ["platform", "handle_key", sa.text("published DESC")],
    )


def downgrade() -> None:
    op.drop_table("item_mentions")
    op.drop_table("feed_items")
    op.drop_table("feeds")
