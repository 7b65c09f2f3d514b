"""Dataset versions (`mlops data add`) and the dataset versions each run was given.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_version",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=4096), nullable=False),
        sa.Column("manifest_hash", sa.String(length=80), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("file_count", sa.BigInteger(), nullable=False),
        sa.Column("schema", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_version")),
        sa.UniqueConstraint(
            "name", "manifest_hash", name=op.f("uq_dataset_version_name_manifest_hash")
        ),
        sa.UniqueConstraint("name", "version", name=op.f("uq_dataset_version_name_version")),
    )
    op.create_table(
        "run_dataset",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("mount", sa.String(length=100), nullable=False),
        sa.Column("dataset_version_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_version.id"],
            name=op.f("fk_run_dataset_dataset_version_id_dataset_version"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_run_dataset_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "mount", name=op.f("pk_run_dataset")),
    )
    op.create_index(
        op.f("ix_run_dataset_dataset_version_id"),
        "run_dataset",
        ["dataset_version_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_run_dataset_dataset_version_id"), table_name="run_dataset")
    op.drop_table("run_dataset")
    op.drop_table("dataset_version")
