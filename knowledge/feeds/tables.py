"""Feed tables, on the registry's metadata (made by migration 0002_feeds)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from knowledge.tables import UtcDateTime, metadata

feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2000), nullable=False, unique=True),
    Column("title", Text),
    Column("added_at", UtcDateTime, nullable=False),
    Column("etag", String(500)),
    Column("last_modified", String(100)),
    Column("last_success", UtcDateTime),
    Column("last_error", Text),  # cleared by the next clean success
    Column("last_error_at", UtcDateTime),
    Column("item_count", Integer, nullable=False, default=0),  # items stored from this feed
)

# One row per item across all feeds: the same article in two feeds is stored once.
feed_items = Table(
    "feed_items",
    metadata,
    Column("id", Integer, primary_key=True),
    # The item's identity across feeds: its link, else its guid scoped by its feed's URL.
    Column("uid", String(600), nullable=False, unique=True),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text, nullable=False),
    Column("link", String(2000)),
    Column("summary", Text, nullable=False),
    Column("published", UtcDateTime, nullable=False),  # first-seen time when the feed gave none
    Column("seen_at", UtcDateTime, nullable=False),
    Index(None, "published"),
    Index(None, "feed_id"),
)

# The accounts an item names; `published` is copied so the newest mentions come off one index.
item_mentions = Table(
    "item_mentions",
    metadata,
    Column("platform", String(20), primary_key=True),
    Column("handle_key", String(300), primary_key=True),
    Column(
        "item_id",
        Integer,
        ForeignKey("feed_items.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("published", UtcDateTime, nullable=False),
    Index(None, "item_id"),
)
Index(
    "ix_item_mentions_recent",
    item_mentions.c.platform,
    item_mentions.c.handle_key,
    item_mentions.c.published.desc(),
)
