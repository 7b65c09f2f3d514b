"""Module versions (the modules ``mlops extract`` writes): the store's methods for
them (``ModuleVersionStore``, a part of ``Store``) and the queries they run.

Kept apart from ``repository.py`` so that one is about runs and this about modules.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from mlops_kernel.notebook.jobs_schemas import ModuleVersionList, ModuleVersionOut
from mlops_kernel.schemas import ModuleVersionRef

from . import listing
from .models import ModuleVersion, Project


class ModuleVersionStore:
    """The module-version methods of ``Store`` (each in its own managed session)."""

    if TYPE_CHECKING:
        dialect: str

        def session(self, write: bool = False) -> AbstractContextManager[Session]: ...

        def _ensure_project(self, s: Session, path: str, now: datetime) -> Project: ...

    def record_module_version(
        self,
        project: str,
        module: str,
        module_path: str,
        content_hash: str,
        *,
        git_sha: str | None = None,
        notebook_path: str = "",
        notebook_hash: str = "",
        cell_ids: Sequence[str] = (),
        diff: str = "",
    ) -> tuple[ModuleVersion, bool]:
        """Record a module's content as its next version, or find it already recorded.

        Returns the version and whether it is new: the same content hash at the
        same module path is the same version. On PostgreSQL, writers for one
        project take turns on its row (SQLite has one writer anyway); two that
        create the same new project at once meet its unique path, and the loser
        tries again.
        """
        for attempt in range(3):
            try:
                with self.session(write=True) as s:
                    project_row = self._ensure_project(s, project, datetime.now(UTC))
                    if self.dialect == "postgresql":
                        s.execute(
                            select(col(Project.id))
                            .where(col(Project.id) == project_row.id)
                            .with_for_update()
                        )
                    return record(
                        s,
                        project_row.id or 0,
                        datetime.now(UTC),
                        module=module,
                        module_path=module_path,
                        content_hash=content_hash,
                        git_sha=git_sha,
                        notebook_path=notebook_path,
                        notebook_hash=notebook_hash,
                        cell_ids=cell_ids,
                        diff=diff,
                    )
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def module_versions(self, project: str, module_path: str | None = None) -> list[ModuleVersion]:
        """A project's (path or numeric id) module versions, by module path and version."""
        with self.session() as s:
            return [row for row, _ in listed(s, project, module_path)]

    def module_version_for(
        self, project_path: str, module_path: str, content_hash: str
    ) -> ModuleVersion | None:
        with self.session() as s:
            return find_by_project_path(s, project_path, module_path, content_hash)

    def list_modules(
        self, project: str | None = None, module_path: str | None = None
    ) -> ModuleVersionList:
        """Module versions for the API: of one project (path or id), or of all."""
        with self.session() as s:
            return ModuleVersionList(
                modules=[out(row, path) for row, path in listed(s, project, module_path)]
            )


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def find(s: Session, project_id: int, module_path: str, content_hash: str) -> ModuleVersion | None:
    stmt = select(ModuleVersion).where(
        col(ModuleVersion.project_id) == project_id,
        col(ModuleVersion.module_path) == module_path,
        col(ModuleVersion.content_hash) == content_hash,
    )
    return s.scalars(stmt).first()


def find_by_project_path(
    s: Session, project_path: str, module_path: str, content_hash: str
) -> ModuleVersion | None:
    project_id = s.execute(
        select(col(Project.id)).where(col(Project.path) == project_path)
    ).scalar()
    if project_id is None:
        return None
    return find(s, int(project_id), module_path, content_hash)


def record(
    s: Session,
    project_id: int,
    now: datetime,
    *,
    module: str,
    module_path: str,
    content_hash: str,
    git_sha: str | None,
    notebook_path: str,
    notebook_hash: str,
    cell_ids: Sequence[str],
    diff: str,
) -> tuple[ModuleVersion, bool]:
    """The version of this content (the existing one, or the next number, new)."""
    existing = find(s, project_id, module_path, content_hash)
    if existing is not None:
        return existing, False
    latest = s.execute(
        select(func.max(col(ModuleVersion.version))).where(
            col(ModuleVersion.project_id) == project_id,
            col(ModuleVersion.module_path) == module_path,
        )
    ).scalar()
    row = ModuleVersion(
        id=new_id(),
        project_id=project_id,
        module=module,
        module_path=module_path,
        version=int(latest or 0) + 1,
        content_hash=content_hash,
        git_sha=git_sha,
        notebook_path=notebook_path,
        notebook_hash=notebook_hash,
        cell_ids=list(cell_ids),
        diff=diff,
        created_at=now,
    )
    s.add(row)
    s.flush()
    return row, True


def listed(
    s: Session, project: str | None, module_path: str | None
) -> list[tuple[ModuleVersion, str]]:
    """Versions with their project's path, by project, module path and version."""
    stmt = select(ModuleVersion, col(Project.path)).join(
        Project, col(Project.id) == col(ModuleVersion.project_id)
    )
    if project is not None:
        stmt = stmt.where(col(ModuleVersion.project_id) == listing.project_id(s, project))
    if module_path is not None:
        stmt = stmt.where(col(ModuleVersion.module_path) == module_path)
    stmt = stmt.order_by(
        col(Project.path), col(ModuleVersion.module_path), col(ModuleVersion.version)
    )
    return [(row, str(path)) for row, path in s.execute(stmt).all()]


def refs(s: Session, ids: Iterable[str | None]) -> dict[str, ModuleVersionRef]:
    """Short references to the versions with these ids (None and unknown ids skipped)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = s.scalars(select(ModuleVersion).where(col(ModuleVersion.id).in_(wanted)))
    return {row.id: ref(row) for row in rows}


def ref(row: ModuleVersion) -> ModuleVersionRef:
    return ModuleVersionRef(id=row.id, module=row.module, version=row.version, git_sha=row.git_sha)


def out(row: ModuleVersion, project_path: str) -> ModuleVersionOut:
    return ModuleVersionOut(
        id=row.id,
        project=project_path,
        module=row.module,
        module_path=row.module_path,
        version=row.version,
        content_hash=row.content_hash,
        git_sha=row.git_sha,
        notebook_path=row.notebook_path,
        notebook_hash=row.notebook_hash,
        cell_ids=list(row.cell_ids),
        diff=row.diff,
        created_at=row.created_at,
    )
