"""Each run's isolation, identity (the cache key of reproducible runs) and environment.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 21:00:00

Added columns only (nullable), so no table is rebuilt: SQLite (3.35 and later) adds and
drops such columns in place, where a rebuild would fire the ON DELETE CASCADE of params,
metrics and artifacts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("run", sa.Column("isolation", sa.String(length=32), nullable=True))
    op.add_column("run", sa.Column("identity", sa.String(length=64), nullable=True))
    op.add_column("run", sa.Column("environment_json", sa.Text(), nullable=True))
    op.create_index(op.f("ix_run_identity"), "run", ["identity"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_run_identity"), table_name="run")
    op.drop_column("run", "environment_json")
    op.drop_column("run", "identity")
    op.drop_column("run", "isolation")
