"""Alembic environment: runs on the connection the app hands over, or on `-x url=...` by hand."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

import knowledge.feeds.tables  # noqa: F401  (its tables join the metadata)
from knowledge.tables import metadata

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database with: alembic -x url=sqlite:///registry.db ...")
    with create_engine(url).connect() as conn:
        run_on(conn)
        conn.commit()
