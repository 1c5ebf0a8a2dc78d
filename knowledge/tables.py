"""The registry's tables (SQLAlchemy Core). The schema itself is made by the Alembic migrations.

Undo is exact because every change row keeps `before`: a JSON snapshot of the whole account
(status, entity, note, handle as written, platform id, reviewed time and evidence set) as it was
before the change, or NULL when the account did not exist. Undoing a change restores that snapshot.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _present(column: str) -> dict[str, Any]:
    """A partial index's options: the rows where column is not NULL (migration 0008)."""
    where = text(f"{column} IS NOT NULL")
    return {"sqlite_where": where, "postgresql_where": where}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which stores naive text) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


entities = Table(
    "entities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(300), nullable=False, unique=True),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(20), nullable=False),
    Column("handle_key", String(300), nullable=False),
    Column("handle_as_written", String(300), nullable=False),
    Column("platform_id", String(100)),
    Column("entity_id", Integer, ForeignKey("entities.id")),
    Column("status", String(20), nullable=False),
    Column("note", Text),
    Column("reviewed_at", UtcDateTime),
    UniqueConstraint("platform", "handle_key"),
    Index(None, "platform_id", **_present("platform_id")),
    Index(None, "entity_id"),  # an entity's accounts (autocomplete by entity name)
)
# Autocomplete: handle keys by prefix, any case, as a range scan. The migration builds it with
# COLLATE "C" on PostgreSQL, so that byte order (SQLite's own) makes prefix ranges exact.
Index("ix_accounts_handle_lower", func.lower(accounts.c.handle_key))

evidence = Table(
    "evidence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("title", Text, nullable=False),
    Column("publisher", Text),
    Column("published", Date),
    Column("quote", Text),
    UniqueConstraint("account_id", "url"),
)

# Append-only: rows are inserted, never updated or deleted.
changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(20), nullable=False),
    Column("handle_key", String(300), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("by", String(200), nullable=False),
    Column("old_status", String(20), nullable=False),
    Column("new_status", String(20), nullable=False),
    Column("old_entity", String(300)),
    Column("new_entity", String(300)),
    Column("note", Text),
    Column("evidence_url", String(2000)),
    Column("evidence_title", Text),
    Column("evidence_publisher", Text),
    Column("evidence_published", Date),
    Column("evidence_quote", Text),
    Column("undoes", Integer, ForeignKey("changes.id")),
    Column("before", JSON(none_as_null=True)),
    Index(None, "platform", "handle_key", "id"),
    Index(None, "undoes", **_present("undoes")),
)

reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(20), nullable=False),
    Column("handle_key", String(300), nullable=False),
    Column("status", String(20), nullable=False),
    Column("note", Text),
    Column("by", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("resolved", Boolean, nullable=False, default=False),  # closed: a verdict or dismissed
    Column("count", Integer, nullable=False, default=1),  # times reported (repeats merge)
    Column("reporters", JSON(none_as_null=True)),  # every reporter, first first
    Column("outcome", String(20)),  # bot.model.Outcome once closed
    Column("closed_by", String(200)),
    Column("closed_reason", Text),
    Column("closed_at", UtcDateTime),
    Index(None, "resolved", "id"),
    Index(None, "platform", "handle_key"),
)

# What each chat (a Telegram chat, a Discord server) opted into, and who last switched it.
chat_preferences = Table(
    "chat_preferences",
    metadata,
    Column("platform", String(20), primary_key=True),
    Column("chat_id", String(100), primary_key=True),
    Column("autocheck", Boolean, nullable=False, default=False),
    Column("language", String(20)),  # the chat's chosen language; None: each asker's own
    Column("changed_by", String(200), nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
)

# Append-only: each live check of an account against its entity's official sites (bot/verification).
verifications = Table(
    "verifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(20), nullable=False),
    Column("handle_key", String(300), nullable=False),
    Column("checked_at", UtcDateTime, nullable=False),
    Column("by", String(200), nullable=False),
    Column("state", String(20), nullable=False),  # LinkState, for queries; checks hold the rest
    Column("checks", JSON, nullable=False),
    Index(None, "platform", "handle_key", "id"),
    Index(None, "checked_at"),
)


# Who an entity is elsewhere (`wikidata:Q4661833`, `bioguide:B001314`): one identifier names one
# entity, so an import that brings it again means that entity, whatever name it gives.
entity_identifiers = Table(
    "entity_identifiers",
    metadata,
    Column("entity_id", Integer, ForeignKey("entities.id", ondelete="CASCADE"), nullable=False),
    Column("scheme", String(50), primary_key=True),
    Column("value", String(200), primary_key=True),
    Index(None, "entity_id"),
)

# Other names of an entity ("Alma Adams" for "Alma S. Adams"): searched and shown with it.
entity_aliases = Table(
    "entity_aliases",
    metadata,
    Column("entity_id", Integer, ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True),
    Column("alias", String(300), primary_key=True),
    Index(None, "alias"),
)

# Each chat's guard (bot/guard): opted in or not, the admins' options, who last changed it.
guard_settings = Table(
    "guard_settings",
    metadata,
    Column("platform", String(20), primary_key=True),
    Column("chat_id", String(100), primary_key=True),
    Column("on", Boolean, nullable=False),
    Column("restrict_until_approved", Boolean, nullable=False),
    Column("delete_join", Boolean, nullable=False),
    Column("moderators_chat", String(100)),  # where warnings are copied; None: nowhere
    Column("changed_by", String(200), nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
)

# Members a chat's admins allowed: never warned about again in that chat.
guard_allowed = Table(
    "guard_allowed",
    metadata,
    Column("platform", String(20), primary_key=True),
    Column("chat_id", String(100), primary_key=True),
    Column("user_id", String(100), primary_key=True),
    Column("allowed_by", String(200), nullable=False),
    Column("allowed_at", UtcDateTime, nullable=False),
)
