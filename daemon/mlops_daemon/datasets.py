"""The dataset service: records dataset versions and resolves the ones a run names.

Hashing is blocking work: it runs on a thread (``asyncio.to_thread``), with the
file-hash cache under MLOPS_HOME, so files unchanged since they were last hashed
(by the daemon, or by the CLI that showed progress while hashing them) are not
read again. The manifest of each version is kept as
``MLOPS_HOME/datasets/manifests/<hex>.json``: exactly the canonical bytes whose
SHA-256 is the version's ``manifest_hash``, so the file proves itself.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from mlops_kernel.dataset_cache import HashCache, cache_path
from mlops_kernel.dataset_manifest import (
    DatasetError,
    Manifest,
    build_manifest,
    default_name,
    parse_manifest,
)
from mlops_kernel.dataset_schema import dataset_schema
from mlops_kernel.dataset_schemas import (
    DatasetAdded,
    DatasetAddRequest,
    DatasetFileOut,
    DatasetList,
    DatasetSummary,
    DatasetVersionList,
    DatasetVersionOut,
)

from .config import DaemonConfig
from .errors import Conflict, InvalidInput, NotFound
from .executors.base import MountedDataset
from .store.async_store import AsyncStore
from .store.datasets import NewVersion, ref
from .store.models import DatasetVersion

log = logging.getLogger(__name__)

MANIFESTS_DIR = Path("datasets") / "manifests"
"""Relative to MLOPS_HOME."""


def split_ref(text: str) -> tuple[str, int | None]:
    """``iris`` -> ("iris", None); ``iris@2`` -> ("iris", 2). (RunSpec checked the pattern.)"""
    name, _, version = text.partition("@")
    return name, int(version) if version else None


def mounted(mount: str, row: DatasetVersion) -> MountedDataset:
    return MountedDataset(
        name=mount,
        version=row.version,
        path=Path(row.path),
        manifest_hash=row.manifest_hash,
        id=row.id,
    )


class DatasetService:
    def __init__(self, config: DaemonConfig, db: AsyncStore) -> None:
        self.config = config
        self.db = db
        self.store = db.store

    @property
    def manifests(self) -> Path:
        return self.config.home / MANIFESTS_DIR

    # -- requests -------------------------------------------------------------------

    async def add(self, req: DatasetAddRequest) -> DatasetAdded:
        path = Path(req.path)
        manifest = await asyncio.to_thread(self._fingerprint, path)
        name: str = req.name if req.name else await asyncio.to_thread(_default_name, manifest.root)
        row, created = await self._record(name, manifest)
        return DatasetAdded(
            **version_out(row).model_dump(by_alias=True),
            created=created,
            ignored=list(manifest.ignored),
            files_hashed=manifest.stats.files_hashed,
        )

    async def list_all(self) -> DatasetList:
        rows = await self.db.call(self.store.latest_dataset_versions)
        return DatasetList(
            datasets=[
                DatasetSummary(name=row.name, versions=n, latest=version_out(row))
                for row, n in rows
            ]
        )

    async def versions(self, name: str) -> DatasetVersionList:
        rows = await self.db.call(self.store.dataset_versions, name)
        return DatasetVersionList(name=name, versions=[version_out(r) for r in rows])

    async def version(self, name: str, version: str, files: bool) -> DatasetVersionOut:
        number: int | None = None
        if version != "latest":
            if not version.isdigit() or not 0 < int(version) < 10**9:
                raise NotFound(
                    f"no version {version!r} of dataset {name!r}: use 1, 2, ... or latest"
                )
            number = int(version)
        row = await self.db.call(self.store.dataset_version, name, number)
        listed = await asyncio.to_thread(self._files, row) if files else None
        return version_out(row, listed)

    # -- runs -----------------------------------------------------------------------

    async def resolve(self, refs: Sequence[str]) -> list[MountedDataset]:
        """The concrete version of each ``name`` / ``name@N`` a run names.

        ``name``: the latest version's path is fingerprinted again (cheap: cached), and
        changed content is recorded as a new version. ``name@N``: its files must still
        be what was recorded (Conflict otherwise).
        """
        seen: set[str] = set()
        out: list[MountedDataset] = []
        for text in refs:
            name, number = split_ref(text)
            if name in seen:
                raise InvalidInput(f"dataset {name!r} is named twice; a run gets one version of it")
            seen.add(name)
            row = await self.db.call(self.store.dataset_version, name, number)
            manifest = await asyncio.to_thread(self._fingerprint_recorded, row)
            if manifest.manifest_hash != row.manifest_hash:
                if number is not None:
                    raise Conflict(_changed(row, manifest))
                row, created = await self._record(name, manifest)
                if created:
                    log.info("dataset %s changed on disk: recorded as %s", name, ref(row))
            out.append(mounted(name, row))
        return out

    async def rows_for_run(self, run_id: str) -> list[MountedDataset]:
        pairs = await self.db.call(self.store.run_dataset_versions, run_id)
        return [mounted(mount, row) for mount, row in pairs]

    async def verify(self, datasets: Sequence[MountedDataset]) -> None:
        """Conflict unless each dataset's files are still its recorded version's."""
        for item in datasets:
            manifest = await asyncio.to_thread(self._fingerprint, item.path)
            if manifest.manifest_hash != item.manifest_hash:
                raise Conflict(
                    f"the files of dataset {item.name}@{item.version} at {item.path} changed "
                    "after the run was submitted; submit it again"
                )

    # -- blocking helpers (run on a thread) -----------------------------------------

    def _cache(self) -> HashCache:
        return HashCache(cache_path(self.config.home))

    def _fingerprint(self, path: Path) -> Manifest:
        try:
            with self._cache() as cache:
                return build_manifest(path, cache)
        except DatasetError as exc:
            raise InvalidInput(str(exc)) from None

    def _fingerprint_recorded(self, row: DatasetVersion) -> Manifest:
        if not os.path.exists(row.path):
            raise Conflict(
                f"dataset {ref(row)} was recorded from {row.path}, which no longer exists; "
                f"record its new place with `mlops data add PATH --name {row.name}`"
            )
        try:
            return self._fingerprint(Path(row.path))
        except InvalidInput as exc:
            raise Conflict(f"dataset {ref(row)}: {exc.message}") from None

    def _schema_and_manifest(self, manifest: Manifest) -> dict[str, object]:
        self.manifests.mkdir(parents=True, exist_ok=True)
        target = self.manifests / f"{manifest.manifest_hash.removeprefix('sha256:')}.json"
        if not target.exists():
            tmp = target.with_name(f".{target.name}.{os.getpid()}.{id(manifest)}.tmp")
            tmp.write_bytes(manifest.canonical())
            os.replace(tmp, target)
        files = [(f.path, _real(manifest, f.path), f.sha256) for f in manifest.files]
        with self._cache() as cache:
            return dict(dataset_schema(files, cache))

    def _files(self, row: DatasetVersion) -> list[DatasetFileOut]:
        target = self.manifests / f"{row.manifest_hash.removeprefix('sha256:')}.json"
        try:
            entries = parse_manifest(target.read_bytes())
        except (OSError, ValueError) as exc:
            raise NotFound(
                f"the manifest of dataset {ref(row)} ({target}) cannot be read: {exc}; "
                "use files=false"
            ) from None
        return [DatasetFileOut(path=e.path, size=e.size, sha256=e.sha256) for e in entries]

    async def _record(self, name: str, manifest: Manifest) -> tuple[DatasetVersion, bool]:
        schema = await asyncio.to_thread(self._schema_and_manifest, manifest)
        new = NewVersion(
            name=name,
            path=str(manifest.root),
            manifest_hash=manifest.manifest_hash,
            size_bytes=manifest.size_bytes,
            file_count=manifest.file_count,
            schema=schema,
        )
        return await self.db.call(self.store.record_dataset_version, new)


def version_out(
    row: DatasetVersion, files: list[DatasetFileOut] | None = None
) -> DatasetVersionOut:
    return DatasetVersionOut(
        id=row.id,
        name=row.name,
        version=row.version,
        ref=ref(row),
        path=row.path,
        manifest_hash=row.manifest_hash,
        size_bytes=row.size_bytes,
        file_count=row.file_count,
        schema_=row.file_schemas,
        files=files,
        created_at=row.created_at,
    )


def _default_name(root: Path) -> str:
    try:
        return default_name(root)
    except DatasetError as exc:
        raise InvalidInput(str(exc)) from None


def _real(manifest: Manifest, relpath: str) -> Path:
    return manifest.root if manifest.is_file else manifest.root / relpath


def _changed(row: DatasetVersion, manifest: Manifest) -> str:
    return (
        f"dataset {ref(row)} no longer matches its files at {row.path} (recorded "
        f"{row.manifest_hash[:19]}…, now {manifest.manifest_hash[:19]}…, "
        f"{manifest.file_count} files): restore them, or name `{row.name}` without a "
        "version to record and use the current content"
    )
