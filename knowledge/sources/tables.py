"""Source tables, on the registry's metadata (made by migration 0004)."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table, Text

from knowledge.tables import UtcDateTime, metadata

sources = Table(
    "sources",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("location", String(2000), nullable=False),  # an http(s) URL or a local path
    Column("format", String(30), nullable=False),
    Column("every_minutes", Integer),  # None: synced by hand only
    Column("added_by", String(200), nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    Column("etag", String(500)),
    Column("last_modified", String(100)),
    Column("last_sync_at", UtcDateTime),
    Column("last_result", Text),
    Column("last_error", Text),
)

# The accounts a source lists, or listed: retired, not deleted, when it stops listing one.
source_listings = Table(
    "source_listings",
    metadata,
    Column("source", String(100), ForeignKey("sources.name", ondelete="CASCADE"),
           primary_key=True),
    Column("platform", String(20), primary_key=True),
    Column("handle_key", String(300), primary_key=True),
    Column("evidence_url", String(2000)),  # this source's record, among the account's evidence
    Column("listed_since", Date, nullable=False),
    Column("retired_on", Date),
)
