"""The database tables (SQLModel). The daemon is their only writer.

Schema changes go through Alembic (``migrations/versions``); a test checks that
the migrations and these models agree.

Metric values: SQLite cannot store NaN (it turns it into NULL), so on every
database a NULL metric value means NaN. Infinities are stored as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING


class Project(SQLModel, table=True):
    __tablename__ = "project"

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(sa_column=Column(String(4096), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime


class Run(SQLModel, table=True):
    __tablename__ = "run"
    __table_args__ = (
        Index("ix_run_status_created", "status", "created_at"),
        Index("ix_run_project_created", "project_id", "created_at"),
    )

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    project_id: int = Field(
        sa_column=Column(Integer, ForeignKey("project.id", ondelete="CASCADE"), nullable=False)
    )
    name: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    entry_point: str = Field(sa_column=Column(String(1024), nullable=False))
    executor: str = Field(sa_column=Column(String(32), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    status_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    spec_json: str = Field(sa_column=Column(Text, nullable=False))
    run_dir: str = Field(sa_column=Column(String(4096), nullable=False))
    created_at: datetime = Field(index=True)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = None
    exit_code: int | None = None
    handle_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    cancel_requested: bool = False
    metrics_offset: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    """Bytes of metrics.jsonl already ingested, committed with the rows they held."""
    tags_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    module_version_id: str | None = Field(
        default=None,
        sa_column=Column(
            String(32),
            ForeignKey("module_version.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
    )
    """The extracted module version the run's entry point was at when it was submitted."""
    isolation: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    """How strongly the run was isolated: "process" (local) or "container" (docker)."""
    identity: str | None = Field(
        default=None, sa_column=Column(String(64), nullable=True, index=True)
    )
    """Hash of what decides the run's result (see ``identity.py``): equal identities, equal runs."""
    environment_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """What the executor chose: engine, image, environment lock, GPUs (``environment.json``)."""


class ModuleVersion(SQLModel, table=True):
    """One version of a module extracted from a notebook (``mlops extract``).

    A version is identified by its content: the same bytes at the same path are
    the same version, whichever notebook or extraction produced them.
    """

    __tablename__ = "module_version"
    __table_args__ = (
        UniqueConstraint("project_id", "module_path", "content_hash"),
        UniqueConstraint("project_id", "module_path", "version"),
    )

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    project_id: int = Field(
        sa_column=Column(Integer, ForeignKey("project.id", ondelete="CASCADE"), nullable=False)
    )
    module: str = Field(sa_column=Column(String(255), nullable=False))
    """Importable name, e.g. ``pkg.name``."""
    module_path: str = Field(sa_column=Column(String(1024), nullable=False))
    """Relative to the project, e.g. ``pkg/name.py``."""
    version: int = Field(sa_column=Column(Integer, nullable=False))
    """1, 2, ... per project and module path."""
    content_hash: str = Field(sa_column=Column(String(80), nullable=False))
    """``sha256:`` and the hex SHA-256 of the module file's bytes."""
    git_sha: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    notebook_path: str = Field(sa_column=Column(String(4096), nullable=False))
    notebook_hash: str = Field(sa_column=Column(String(80), nullable=False))
    cell_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    diff: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime


class Param(SQLModel, table=True):
    __tablename__ = "param"
    __table_args__ = (Index("ix_param_key_num", "key", "value_num"),)

    run_id: str = Field(
        sa_column=Column(String(32), ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    )
    key: str = Field(sa_column=Column(String(250), primary_key=True))
    value_json: str = Field(sa_column=Column(Text, nullable=False))
    value_num: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    """The value as a number where it is one, so that sorting by a param is numeric."""


class Metric(SQLModel, table=True):
    """Every point of every metric, clustered by run, key and step.

    The primary key is the order a chart reads a series in, so reading one is a
    range scan (on SQLite the table *is* that index: WITHOUT ROWID). ``seq``
    tells apart points logged twice at one step and keeps them in logged order.
    """

    __tablename__ = "metric"
    __table_args__ = {"sqlite_with_rowid": False}

    run_id: str = Field(
        sa_column=Column(String(32), ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    )
    key: str = Field(sa_column=Column(String(250), primary_key=True))
    step: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    """Increases with each point of a run: the line's place in the run's metrics file."""
    value: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    time_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


class LatestMetric(SQLModel, table=True):
    """The last point of each metric of each run: what run tables show and sort by."""

    __tablename__ = "latest_metric"
    __table_args__ = (Index("ix_latest_metric_key_value", "key", "value"),)

    run_id: str = Field(
        sa_column=Column(String(32), ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    )
    key: str = Field(sa_column=Column(String(250), primary_key=True))
    step: int = Field(sa_column=Column(BigInteger, nullable=False))
    value: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    time_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


class Artifact(SQLModel, table=True):
    __tablename__ = "artifact"

    run_id: str = Field(
        sa_column=Column(String(32), ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    )
    path: str = Field(sa_column=Column(String(1024), primary_key=True))
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))


class DatasetVersion(SQLModel, table=True):
    """One recorded content of a named dataset (``mlops data add``).

    Identified by the hash of its manifest (sorted relpath, size, sha256 of each
    file): the same content under the same name is the same version. The
    manifest itself is ``MLOPS_HOME/datasets/manifests/<hex of manifest_hash>.json``.
    """

    __tablename__ = "dataset_version"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        UniqueConstraint("name", "manifest_hash"),
    )

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    """1, 2, ... per name."""
    path: str = Field(sa_column=Column(String(4096), nullable=False))
    """Absolute and resolved: where the files were read."""
    manifest_hash: str = Field(sa_column=Column(String(80), nullable=False))
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    file_count: int = Field(sa_column=Column(BigInteger, nullable=False))
    file_schemas: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("schema", JSON, nullable=False)
    )
    """Columns, dtypes and row counts of its CSV and Parquet files, by relpath."""
    created_at: datetime


class RunDataset(SQLModel, table=True):
    """A dataset version a run was given, under its mount name."""

    __tablename__ = "run_dataset"

    run_id: str = Field(
        sa_column=Column(String(32), ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    )
    mount: str = Field(sa_column=Column(String(100), primary_key=True))
    dataset_version_id: str = Field(
        sa_column=Column(
            String(32),
            ForeignKey("dataset_version.id", ondelete="RESTRICT"),
            nullable=False,
            index=True,
        )
    )
    position: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    """Its place in the run spec's ``datasets``."""


class ModelVersion(SQLModel, table=True):
    """One logged model of a succeeded run, registered under its name (``models/<name>/``).

    Numbered 1, 2, ... per model name; a run registers each of its models once.
    """

    __tablename__ = "model_version"
    __table_args__ = (
        UniqueConstraint("model", "version"),
        UniqueConstraint("run_id", "model"),
    )

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    model: str = Field(sa_column=Column(String(100), nullable=False))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    run_id: str = Field(
        sa_column=Column(String(32), ForeignKey("run.id", ondelete="RESTRICT"), nullable=False)
    )
    """RESTRICT: a run whose model was registered keeps it (the registry's history needs it)."""
    flavor: str = Field(sa_column=Column(String(32), nullable=False))
    task: str = Field(sa_column=Column(String(32), nullable=False))
    model_dir: str = Field(sa_column=Column(String(4096), nullable=False))
    onnx_sha256: str = Field(sa_column=Column(String(64), nullable=False))
    manifest_json: str = Field(sa_column=Column(Text, nullable=False))
    """The ``model.json`` read at registration (a ModelManifest)."""
    created_at: datetime


class GateReport(SQLModel, table=True):
    """One evaluation of a run's promotion gates: pending until its checks are in."""

    __tablename__ = "gate_report"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    run_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("run.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    status: str = Field(sa_column=Column(String(16), nullable=False))
    passed: bool = False
    checks_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    config_path: str | None = Field(default=None, sa_column=Column(String(4096), nullable=True))
    created_at: datetime
    finished_at: datetime | None = None


class ModelAlias(SQLModel, table=True):
    """Which version an alias (``dev``, ``staging``, ``production``, ...) names now."""

    __tablename__ = "model_alias"

    model: str = Field(sa_column=Column(String(100), primary_key=True))
    alias: str = Field(sa_column=Column(String(63), primary_key=True))
    version_id: str = Field(
        sa_column=Column(
            String(32),
            ForeignKey("model_version.id", ondelete="RESTRICT"),
            nullable=False,
            index=True,
        )
    )
    cut_out: bool = False
    """Serving refuses requests for it (an emergency stop) until it is restored."""
    cut_out_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_at: datetime


class ModelEvent(SQLModel, table=True):
    """Every change of an alias, append only: no code updates or deletes these rows.

    Each row is complete in itself (ids, not joins, name what changed), so that the
    history can be verified and chained without the other tables.
    """

    __tablename__ = "model_event"
    __table_args__ = (Index("ix_model_event_model_alias_id", "model", "alias", "id"),)

    id: int | None = Field(
        default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True)
    )
    model: str = Field(sa_column=Column(String(100), nullable=False))
    alias: str | None = Field(default=None, sa_column=Column(String(63), nullable=True))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    version_id: str | None = Field(
        default=None,
        sa_column=Column(
            String(32), ForeignKey("model_version.id", ondelete="RESTRICT"), nullable=True
        ),
    )
    """The version the alias names after the change."""
    previous_version_id: str | None = Field(
        default=None,
        sa_column=Column(
            String(32), ForeignKey("model_version.id", ondelete="RESTRICT"), nullable=True
        ),
    )
    override: bool = False
    gate_report_id: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    """Not a foreign key: the record stays as written whatever happens to the report."""
    actor: str = Field(sa_column=Column(String(200), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime
