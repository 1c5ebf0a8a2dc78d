"""Alembic migrations of the registry schema, applied programmatically on start."""
