"""Alembic environment: the engine comes from the daemon, never from an ini file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine
from sqlmodel import SQLModel

import mlops_daemon.store.models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    engine: Engine = context.config.attributes["engine"]
    # One transaction per migration: 0002 turns SQLite's foreign keys off, which works
    # only outside a transaction, so the steps before it (a downgrade from a later
    # head) must have committed already.
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    if engine.dialect.name == "sqlite":
        # A migration may turn SQLite's foreign keys off for its connection (see
        # 0002's downgrade); new connections get them on again (engine.py).
        engine.dispose()


run_migrations()
