"""The model registry in the store (``ModelRegistryStore``, a mixin of ``Store``).

Registered versions of logged models, the aliases that name them, and the history
of every alias change (``model_event``: appended in the same transaction as the
change it records, and never updated or deleted). The rules of promotion live in
the registry service (``mlops_daemon/model_registry.py``); this layer makes each
change atomic: ``set_alias`` applies only if the alias still names the version the
service decided from, so two concurrent changes cannot both apply.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from mlops_kernel.model_schemas import (
    ALIAS,
    MODEL_NAME,
    ModelDetail,
    ModelEventOut,
    ModelList,
    ModelSummary,
    ModelVersionOut,
)
from mlops_kernel.models.manifest import ModelManifest

from ..errors import Conflict, InvalidInput, NotFound
from . import registry_views as rv
from .gate_reports import GateReportStore, no_run
from .models import LatestMetric, ModelAlias, ModelEvent, ModelVersion, Run

MAX_VERSION = 2**31 - 1
"""Version numbers above this cannot exist (and would overflow the column in a query)."""
_NAME = re.compile(rf"^{MODEL_NAME}$")
_ALIAS = re.compile(rf"^{ALIAS}$")


@dataclass(frozen=True)
class ResolvedAlias:
    """What an alias names now: all serving needs to load and run the model."""

    model: str
    alias: str
    version: int
    version_id: str
    model_dir: Path
    manifest: ModelManifest
    cut_out: bool
    cut_out_reason: str | None
    run_id: str


@dataclass(frozen=True)
class AliasChange:
    """A promotion or roll-back of one alias, and what its event records."""

    model: str
    alias: str
    action: str
    """``promote`` or ``rollback``."""
    version_id: str
    previous_version_id: str | None
    """The version the alias names now (None: it names none); the change applies only then."""
    actor: str
    reason: str | None = None
    override: bool = False
    gate_report_id: str | None = None


def no_model(name: str) -> NotFound:
    return NotFound(f"no model named {name!r}; `mlops models` lists the registered models")


class ModelRegistryStore(GateReportStore):
    """The registry methods of ``Store`` (each in its own managed session)."""

    # -- versions -------------------------------------------------------------------

    def register_model_version(
        self, run_id: str, model_dir: Path, manifest: ModelManifest
    ) -> ModelVersionOut:
        """Register a run's logged model as the model's next version (idempotent per run
        and name: registering it again returns the version it already is)."""
        if not _NAME.match(manifest.name):
            raise InvalidInput(
                f"model name {manifest.name!r} is not valid: use letters, digits, '.', '_' "
                "and '-' (at most 100, starting with a letter or digit)"
            )
        for attempt in range(5):
            try:
                with self.session(write=True) as s:
                    return _register(s, run_id, model_dir, manifest)
            except IntegrityError:
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def model_versions_of_run(self, run_id: str) -> list[ModelVersionOut]:
        """The versions a run registered, by model name (NotFound for an unknown run)."""
        with self.session() as s:
            if s.get(Run, run_id) is None:
                raise no_run(run_id)
            rows = list(
                s.scalars(
                    select(ModelVersion)
                    .where(col(ModelVersion.run_id) == run_id)
                    .order_by(col(ModelVersion.model))
                )
            )
            return rv.versions_out(s, rows)

    def model_version(self, model: str, version: int) -> ModelVersionOut:
        """One version with its aliases and its run's latest gate report (NotFound)."""
        with self.session() as s:
            return rv.versions_out(s, [_version_row(s, model, version)])[0]

    def model_version_files(self, model: str, version: int) -> tuple[Path, str, ModelManifest]:
        """(its folder, its ONNX file's sha256, its manifest) as registered (NotFound)."""
        with self.session() as s:
            row = _version_row(s, model, version)
            manifest = ModelManifest.model_validate_json(row.manifest_json)
            return Path(row.model_dir), row.onnx_sha256, manifest

    # -- models ---------------------------------------------------------------------

    def list_models(self) -> ModelList:
        with self.session() as s:
            stats = s.execute(
                select(
                    col(ModelVersion.model),
                    func.max(col(ModelVersion.version)),
                    func.count(),
                    func.max(col(ModelVersion.created_at)),
                )
                .group_by(col(ModelVersion.model))
                .order_by(col(ModelVersion.model))
            ).all()
            numbers = rv.numbers(s, None)
            aliases: dict[str, list[ModelAlias]] = {}
            for a in s.scalars(select(ModelAlias).order_by(col(ModelAlias.alias))):
                aliases.setdefault(a.model, []).append(a)
            summaries = []
            for name, latest, count, created in stats:
                mine = aliases.get(name, [])
                updated = max([created, *(a.updated_at for a in mine)])
                summaries.append(
                    ModelSummary(
                        name=name,
                        latest_version=int(latest),
                        versions=int(count),
                        aliases=[rv.alias_out(a, numbers[a.version_id]) for a in mine],
                        updated_at=updated,
                    )
                )
            return ModelList(models=summaries)

    def model_detail(self, name: str) -> ModelDetail:
        """Versions and events newest first, and the aliases (NotFound for an unknown model)."""
        with self.session() as s:
            rows = list(
                s.scalars(
                    select(ModelVersion)
                    .where(col(ModelVersion.model) == name)
                    .order_by(col(ModelVersion.version).desc())
                )
            )
            if not rows:
                raise no_model(name)
            numbers = {r.id: r.version for r in rows}
            events = s.scalars(
                select(ModelEvent)
                .where(col(ModelEvent.model) == name)
                .order_by(col(ModelEvent.id).desc())
            )
            return ModelDetail(
                name=name,
                versions=rv.versions_out(s, rows),
                aliases=[rv.alias_out(a, numbers[a.version_id]) for a in rv.aliases(s, name)],
                events=[rv.event_out(e, numbers) for e in events],
            )

    def alias_history(self, model: str, alias: str) -> list[ModelEventOut]:
        """Every event of one alias, oldest first (empty for an alias never set)."""
        with self.session() as s:
            numbers = rv.numbers(s, model)
            rows = s.scalars(
                select(ModelEvent)
                .where(col(ModelEvent.model) == model, col(ModelEvent.alias) == alias)
                .order_by(col(ModelEvent.id))
            )
            return [rv.event_out(e, numbers) for e in rows]

    # -- aliases --------------------------------------------------------------------

    def resolve_alias(self, model: str, alias: str) -> ResolvedAlias:
        """The version ``model@alias`` names now, cut out or not (NotFound otherwise)."""
        with self.session() as s:
            row = s.get(ModelAlias, (model, alias)) if _valid(model, alias) else None
            if row is None:
                if not _valid(model, None) or not rv.numbers(s, model):
                    raise no_model(model)
                names = ", ".join(a.alias for a in rv.aliases(s, model)) or "none yet"
                raise NotFound(
                    f"model {model!r} has no alias {alias!r} (its aliases: {names}); "
                    f"promote a version to it with `mlops promote {model} VERSION {alias}`"
                )
            version = s.get(ModelVersion, row.version_id)
            assert version is not None  # a foreign key
            return ResolvedAlias(
                model=model,
                alias=alias,
                version=version.version,
                version_id=version.id,
                model_dir=Path(version.model_dir),
                manifest=rv.manifest_of(version),
                cut_out=row.cut_out,
                cut_out_reason=row.cut_out_reason,
                run_id=version.run_id,
            )

    def production_metric(self, model: str, alias: str, metric: str) -> float | None:
        """The latest value of ``metric`` in the run of the version ``model@alias`` names;
        None when there is no such alias, the run never logged it, or it is NaN."""
        if not _valid(model, alias):
            return None
        with self.session() as s:
            value = s.execute(
                select(col(LatestMetric.value))
                .join(ModelVersion, col(ModelVersion.run_id) == col(LatestMetric.run_id))
                .join(ModelAlias, col(ModelAlias.version_id) == col(ModelVersion.id))
                .where(
                    col(ModelAlias.model) == model,
                    col(ModelAlias.alias) == alias,
                    col(LatestMetric.key) == metric,
                )
            ).scalar()
            if value is None or math.isnan(value):
                return None
            return float(value)

    def set_alias(self, change: AliasChange) -> None:
        """Point an alias at a version and record the event, in one transaction.

        Conflict if the alias no longer names ``change.previous_version_id`` (someone
        changed it since): the caller decided from a state that is gone.
        """
        now = datetime.now(UTC)
        try:
            with self.session(write=True) as s:
                row = self._alias_for_update(s, change.model, change.alias)
                current = row.version_id if row is not None else None
                if current != change.previous_version_id:
                    raise _moved(change.model, change.alias)
                if row is None:
                    s.add(
                        ModelAlias(
                            model=change.model,
                            alias=change.alias,
                            version_id=change.version_id,
                            updated_at=now,
                        )
                    )
                else:
                    row.version_id, row.updated_at = change.version_id, now
                _append_event(
                    s,
                    ModelEvent(
                        model=change.model,
                        alias=change.alias,
                        action=change.action,
                        version_id=change.version_id,
                        previous_version_id=change.previous_version_id,
                        override=change.override,
                        gate_report_id=change.gate_report_id,
                        actor=change.actor,
                        reason=change.reason,
                        at=now,
                    ),
                )
        except IntegrityError:  # another writer created the alias first (PostgreSQL)
            raise _moved(change.model, change.alias) from None

    def set_cut_out(
        self, model: str, aliases: Sequence[str], cut: bool, actor: str, reason: str | None
    ) -> None:
        """Cut out (``cut``) or restore each alias and record one event for each, in one
        transaction. NotFound for an unknown alias; Conflict if one is already so."""
        now = datetime.now(UTC)
        action = "cutout" if cut else "restore"
        with self.session(write=True) as s:
            for alias in aliases:
                row = self._alias_for_update(s, model, alias)
                if row is None:
                    raise NotFound(f"model {model!r} has no alias {alias!r}")
                if row.cut_out == cut:
                    state = "already cut out" if cut else "not cut out"
                    raise Conflict(f"{model}@{alias} is {state}; nothing to do")
                row.cut_out = cut
                row.cut_out_reason = reason if cut else None
                row.updated_at = now
                _append_event(
                    s,
                    ModelEvent(
                        model=model,
                        alias=alias,
                        action=action,
                        version_id=row.version_id,
                        actor=actor,
                        reason=reason,
                        at=now,
                    ),
                )

    def _alias_for_update(self, s: Session, model: str, alias: str) -> ModelAlias | None:
        stmt = select(ModelAlias).where(
            col(ModelAlias.model) == model, col(ModelAlias.alias) == alias
        )
        if self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        return s.scalars(stmt).first()


# -- helpers (inside a session) -----------------------------------------------------


def _valid(model: str, alias: str | None) -> bool:
    """Names that cannot exist are not looked up (a NUL byte would upset PostgreSQL)."""
    return bool(_NAME.match(model)) and (alias is None or bool(_ALIAS.match(alias)))


def _moved(model: str, alias: str) -> Conflict:
    return Conflict(
        f"{model}@{alias} was changed by someone else meanwhile; "
        f"look at `mlops models {model}` and try again"
    )


def _append_event(s: Session, event: ModelEvent) -> None:
    """The only writer of model_event: rows are added, never changed."""
    s.add(event)
    s.flush()


def _register(s: Session, run_id: str, model_dir: Path, manifest: ModelManifest) -> ModelVersionOut:
    if s.get(Run, run_id) is None:
        raise no_run(run_id)
    existing = s.scalars(
        select(ModelVersion).where(
            col(ModelVersion.run_id) == run_id, col(ModelVersion.model) == manifest.name
        )
    ).first()
    if existing is None:
        latest = s.execute(
            select(func.max(col(ModelVersion.version))).where(
                col(ModelVersion.model) == manifest.name
            )
        ).scalar()
        existing = ModelVersion(
            id=uuid.uuid4().hex[:12],
            model=manifest.name,
            version=int(latest or 0) + 1,
            run_id=run_id,
            flavor=manifest.flavor,
            task=manifest.task,
            model_dir=str(model_dir),
            onnx_sha256=manifest.onnx_sha256,
            manifest_json=manifest.model_dump_json(),
            created_at=datetime.now(UTC),
        )
        s.add(existing)
        s.flush()
    return rv.versions_out(s, [existing])[0]


def _version_row(s: Session, model: str, version: int) -> ModelVersion:
    row = None
    if _valid(model, None) and 0 < version <= MAX_VERSION:
        row = s.scalars(
            select(ModelVersion).where(
                col(ModelVersion.model) == model, col(ModelVersion.version) == version
            )
        ).first()
    if row is not None:
        return row
    latest = rv.numbers(s, model) if _valid(model, None) else {}
    if not latest:
        raise no_model(model)
    raise NotFound(f"model {model!r} has no version {version} (it has 1 to {max(latest.values())})")
