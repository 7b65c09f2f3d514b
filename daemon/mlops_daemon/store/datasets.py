"""Dataset versions in the store (``DatasetStore``, a mixin of ``Store``), and which
versions each run was given (``run_dataset``).

Kept apart from ``repository.py`` so that one is about runs and this about datasets.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from ..errors import NotFound
from .models import DatasetVersion, RunDataset


@dataclass(frozen=True)
class NewVersion:
    """What ``record_dataset_version`` stores (the manifest file is written before)."""

    name: str
    path: str
    manifest_hash: str
    size_bytes: int
    file_count: int
    schema: dict[str, Any]


def ref(row: DatasetVersion) -> str:
    return f"{row.name}@{row.version}"


class DatasetStore:
    """The dataset methods of ``Store`` (each in its own managed session)."""

    if TYPE_CHECKING:
        dialect: str

        def session(self, write: bool = False) -> AbstractContextManager[Session]: ...

    def record_dataset_version(self, new: NewVersion) -> tuple[DatasetVersion, bool]:
        """This content's version of the dataset (existing, or the next number, new).

        Two writers recording the same name at once meet the unique constraints;
        the loser tries again and finds the winner's row (or takes the next number).
        """
        for attempt in range(5):
            try:
                with self.session(write=True) as s:
                    return _record(s, new)
            except IntegrityError:
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def dataset_versions(self, name: str) -> list[DatasetVersion]:
        """A dataset's versions, oldest first (NotFound when it has none)."""
        with self.session() as s:
            rows = list(
                s.scalars(
                    select(DatasetVersion)
                    .where(col(DatasetVersion.name) == name)
                    .order_by(col(DatasetVersion.version))
                )
            )
        if not rows:
            raise NotFound(f"no dataset named {name!r}; `mlops data list` shows them")
        return rows

    def dataset_version(self, name: str, version: int | None) -> DatasetVersion:
        """One version (None: the latest); NotFound with what exists otherwise."""
        rows = self.dataset_versions(name)
        if version is None:
            return rows[-1]
        for row in rows:
            if row.version == version:
                return row
        raise NotFound(
            f"dataset {name!r} has no version {version} (it has 1 to {rows[-1].version})"
        )

    def latest_dataset_versions(self) -> list[tuple[DatasetVersion, int]]:
        """Each dataset's latest version and how many it has, by name."""
        with self.session() as s:
            counts = (
                select(
                    col(DatasetVersion.name),
                    func.max(col(DatasetVersion.version)).label("latest"),
                    func.count().label("n"),
                )
                .group_by(col(DatasetVersion.name))
                .subquery()
            )
            stmt = (
                select(DatasetVersion, counts.c.n)
                .join(
                    counts,
                    (col(DatasetVersion.name) == counts.c.name)
                    & (col(DatasetVersion.version) == counts.c.latest),
                )
                .order_by(col(DatasetVersion.name))
            )
            return [(row, int(n)) for row, n in s.execute(stmt).all()]

    def run_dataset_versions(self, run_id: str) -> list[tuple[str, DatasetVersion]]:
        """(mount name, version) of each dataset a run was given, in the spec's order."""
        with self.session() as s:
            return run_datasets(s, run_id)


def run_datasets(s: Session, run_id: str) -> list[tuple[str, DatasetVersion]]:
    stmt = (
        select(col(RunDataset.mount), DatasetVersion)
        .join(DatasetVersion, col(DatasetVersion.id) == col(RunDataset.dataset_version_id))
        .where(col(RunDataset.run_id) == run_id)
        .order_by(col(RunDataset.position))
    )
    return [(str(mount), row) for mount, row in s.execute(stmt).all()]


def link_run(s: Session, run_id: str, datasets: Sequence[tuple[str, str]]) -> None:
    """Record the (mount name, dataset version id) pairs a run is given."""
    for position, (mount, version_id) in enumerate(datasets):
        s.add(
            RunDataset(run_id=run_id, mount=mount, dataset_version_id=version_id, position=position)
        )


def _record(s: Session, new: NewVersion) -> tuple[DatasetVersion, bool]:
    existing = s.scalars(
        select(DatasetVersion).where(
            col(DatasetVersion.name) == new.name,
            col(DatasetVersion.manifest_hash) == new.manifest_hash,
        )
    ).first()
    if existing is not None:
        return existing, False
    latest = s.execute(
        select(func.max(col(DatasetVersion.version))).where(col(DatasetVersion.name) == new.name)
    ).scalar()
    row = DatasetVersion(
        id=uuid.uuid4().hex[:12],
        name=new.name,
        version=int(latest or 0) + 1,
        path=new.path,
        manifest_hash=new.manifest_hash,
        size_bytes=new.size_bytes,
        file_count=new.file_count,
        file_schemas=new.schema,
        created_at=datetime.now(UTC),
    )
    s.add(row)
    s.flush()
    return row, True
