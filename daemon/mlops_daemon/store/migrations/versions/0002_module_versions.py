"""Module versions extracted from notebooks, and the version each run trained.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 16:00:00

On SQLite the run table is rebuilt (Alembic's batch mode) with foreign keys
off, so that dropping its old copy cannot fire the ``ON DELETE CASCADE`` of
params, metrics and artifacts.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FK_NAME = "fk_run_module_version_id_module_version"


def upgrade() -> None:
    op.create_table(
        "module_version",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=255), nullable=False),
        sa.Column("module_path", sa.String(length=1024), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=80), nullable=False),
        sa.Column("git_sha", sa.String(length=64), nullable=True),
        sa.Column("notebook_path", sa.String(length=4096), nullable=False),
        sa.Column("notebook_hash", sa.String(length=80), nullable=False),
        sa.Column("cell_ids", sa.JSON(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_module_version_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_module_version")),
        sa.UniqueConstraint(
            "project_id",
            "module_path",
            "content_hash",
            name=op.f("uq_module_version_project_id_module_path_content_hash"),
        ),
        sa.UniqueConstraint(
            "project_id",
            "module_path",
            "version",
            name=op.f("uq_module_version_project_id_module_path_version"),
        ),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_foreign_keys_off()
        with op.batch_alter_table("run", schema=None) as batch_op:
            batch_op.add_column(sa.Column("module_version_id", sa.String(32), nullable=True))
            batch_op.create_index(
                batch_op.f("ix_run_module_version_id"), ["module_version_id"], unique=False
            )
            batch_op.create_foreign_key(
                batch_op.f(FK_NAME),
                "module_version",
                ["module_version_id"],
                ["id"],
                ondelete="SET NULL",
            )
        return
    op.add_column("run", sa.Column("module_version_id", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_run_module_version_id"), "run", ["module_version_id"], unique=False)
    op.create_foreign_key(
        op.f(FK_NAME), "run", "module_version", ["module_version_id"], ["id"], ondelete="SET NULL"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_foreign_keys_off()
        with op.batch_alter_table("run", schema=None) as batch_op:
            batch_op.drop_index(batch_op.f("ix_run_module_version_id"))
            batch_op.drop_constraint(batch_op.f(FK_NAME), type_="foreignkey")
            batch_op.drop_column("module_version_id")
    else:
        op.drop_index(op.f("ix_run_module_version_id"), table_name="run")
        op.drop_constraint(op.f(FK_NAME), "run", type_="foreignkey")
        op.drop_column("run", "module_version_id")
    op.drop_table("module_version")


def _sqlite_foreign_keys_off() -> None:
    """Rebuilding the run table drops its old copy, which with foreign keys on would
    fire the ON DELETE CASCADE of params, metrics and artifacts. The pragma works
    only outside a transaction; inside one (a new database migrated from scratch
    in one go) the run table must still be empty, so nothing can cascade.
    env.py reconnects after migrating, so later connections have foreign keys on.
    """
    bind = op.get_bind()
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    if (
        bind.exec_driver_sql("PRAGMA foreign_keys").scalar()
        and bind.exec_driver_sql("SELECT 1 FROM run LIMIT 1").first()
    ):
        raise RuntimeError(
            "migration 0002 on SQLite must start its own migration run: foreign keys "
            "cannot be turned off inside a transaction, and the run table has rows"
        )
