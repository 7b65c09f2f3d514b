"""The model registry: registered model versions, gate reports, aliases and their history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00

New tables only. ``model_event`` is append only (the code has no update or delete for it).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gate_report",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("checks_json", sa.Text(), nullable=False),
        sa.Column("config_path", sa.String(length=4096), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_gate_report_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gate_report")),
    )
    op.create_index(op.f("ix_gate_report_run_id"), "gate_report", ["run_id"], unique=False)
    op.create_table(
        "model_version",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("flavor", sa.String(length=32), nullable=False),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("model_dir", sa.String(length=4096), nullable=False),
        sa.Column("onnx_sha256", sa.String(length=64), nullable=False),
        sa.Column("manifest_json", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_model_version_run_id_run"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_version")),
        sa.UniqueConstraint("model", "version", name=op.f("uq_model_version_model_version")),
        sa.UniqueConstraint("run_id", "model", name=op.f("uq_model_version_run_id_model")),
    )
    op.create_table(
        "model_alias",
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("alias", sa.String(length=63), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("cut_out", sa.Boolean(), nullable=False),
        sa.Column("cut_out_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_version.id"],
            name=op.f("fk_model_alias_version_id_model_version"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("model", "alias", name=op.f("pk_model_alias")),
    )
    op.create_index(op.f("ix_model_alias_version_id"), "model_alias", ["version_id"], unique=False)
    op.create_table(
        "model_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("alias", sa.String(length=63), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=True),
        sa.Column("previous_version_id", sa.String(length=32), nullable=True),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("gate_report_id", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["previous_version_id"],
            ["model_version.id"],
            name=op.f("fk_model_event_previous_version_id_model_version"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_version.id"],
            name=op.f("fk_model_event_version_id_model_version"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_event")),
    )
    op.create_index(
        "ix_model_event_model_alias_id", "model_event", ["model", "alias", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_model_event_model_alias_id", table_name="model_event")
    op.drop_table("model_event")
    op.drop_index(op.f("ix_model_alias_version_id"), table_name="model_alias")
    op.drop_table("model_alias")
    op.drop_table("model_version")
    op.drop_index(op.f("ix_gate_report_run_id"), table_name="gate_report")
    op.drop_table("gate_report")
