"""A dataset's identity: a manifest of its files' hashes, and the hash of that manifest.

``build_manifest(path)`` lists every file under ``path`` (or the one file), hashes
each (sha256, streamed in 1 MiB chunks, on a few threads; unchanged files come
from the ``HashCache`` without being read) and returns the ``Manifest``. Its
canonical form is a JSON array of ``[relpath, size, sha256]`` sorted by relpath;
``sha256:`` plus the hex SHA-256 of that text is the dataset version's identity.

What is listed:
- every regular file, hidden ones included (a ``.env`` or ``.DS_Store`` is content
  too, and skipping it silently would make two different folders look equal);
- except folders named ``.git``, ``__pycache__`` and ``.ipynb_checkpoints`` (at any
  depth): tools' bookkeeping, not data. They are reported in ``Manifest.ignored``;
- a symlink is followed when it resolves inside ``path`` (listed under the link's
  own relpath); one pointing outside, a broken one or one that loops is refused;
- anything else (a FIFO, a socket, a device) is refused: nothing is skipped silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from mlops_kernel.dataset_cache import FileKey, HashCache

IGNORED_DIRS = frozenset({".git", "__pycache__", ".ipynb_checkpoints"})
CHUNK = 1 << 20
HASH_PREFIX = "sha256:"
REFUSED_ROOTS = ("/proc", "/sys", "/dev")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

Progress = Callable[[int, int, int, int], None]
"""Called as (files done, files in all, bytes done, bytes in all) while hashing."""


class DatasetError(ValueError):
    """The path cannot be recorded as a dataset (the message says why and what to do)."""


@dataclass(frozen=True)
class FileEntry:
    path: str
    """Relative to the dataset's root, with ``/`` (a single-file dataset: its name)."""
    size: int
    sha256: str
    """Hex digest of the file's bytes."""


@dataclass(frozen=True)
class Source:
    """A file found by the scan: where it is listed and the real file read for it."""

    relpath: str
    real: Path
    st: os.stat_result
    """The real file's stat when it was listed."""

    @property
    def size(self) -> int:
        return self.st.st_size


@dataclass(frozen=True)
class Listing:
    root: Path
    """Absolute and resolved."""
    is_file: bool
    sources: tuple[Source, ...]
    ignored: tuple[str, ...]
    """Relpaths of the folders left out (``.git`` and the like)."""

    @property
    def size_bytes(self) -> int:
        return sum(s.size for s in self.sources)


@dataclass
class HashStats:
    files_hashed: int = 0
    bytes_hashed: int = 0
    files_cached: int = 0


@dataclass(frozen=True)
class Manifest:
    root: Path
    is_file: bool
    files: tuple[FileEntry, ...]
    ignored: tuple[str, ...] = ()
    stats: HashStats = field(default_factory=HashStats, compare=False)

    @property
    def size_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def file_count(self) -> int:
        return len(self.files)

    def canonical(self) -> bytes:
        return canonical_manifest(self.files)

    @property
    def manifest_hash(self) -> str:
        return HASH_PREFIX + hashlib.sha256(self.canonical()).hexdigest()


def canonical_manifest(files: tuple[FileEntry, ...] | list[FileEntry]) -> bytes:
    """The one text of a manifest: ``[[relpath, size, sha256], ...]`` sorted by relpath,
    compact JSON with ASCII escapes (so any file name has exactly one spelling)."""
    rows = sorted([f.path, f.size, f.sha256] for f in files)
    return json.dumps(rows, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def parse_manifest(data: bytes) -> list[FileEntry]:
    return [FileEntry(str(p), int(s), str(h)) for p, s, h in json.loads(data)]


def default_name(path: Path) -> str:
    """A dataset name from a path: a file's stem or a folder's name, sanitised."""
    base = path.stem if path.is_file() else path.name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", base).lstrip("._-")[:100]
    if not NAME_PATTERN.match(name):
        raise DatasetError(f"cannot make a dataset name from {str(path)!r}; give one with --name")
    return name


# -- listing ----------------------------------------------------------------------------


def scan(path: Path | str) -> Listing:
    """Every file of the dataset at ``path`` (nothing is read; see the module docstring)."""
    given = Path(path).expanduser()
    if not given.is_absolute():
        raise DatasetError(f"the dataset path must be absolute, not {str(given)!r}")
    try:
        root = given.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        raise DatasetError(f"{given} does not exist") from None
    except (OSError, RuntimeError) as exc:
        raise DatasetError(f"cannot read {given}: {exc}") from None
    if root == Path(root.anchor) or any(_under(root, Path(r)) for r in REFUSED_ROOTS):
        raise DatasetError(f"{root} cannot be a dataset: give the folder that holds the data")
    st = _stat(root)
    if stat.S_ISREG(st.st_mode):
        return Listing(root, True, (Source(_name(root.name, root), root, st),), ())
    if not stat.S_ISDIR(st.st_mode):
        raise DatasetError(f"{root} is neither a file nor a folder")
    sources: list[Source] = []
    ignored: list[str] = []
    # (directory to read, its relpath prefix, real directories above it: loop detection)
    stack: list[tuple[Path, str, frozenset[tuple[int, int]]]] = [
        (root, "", frozenset({(st.st_dev, st.st_ino)}))
    ]
    while stack:
        directory, prefix, above = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            raise DatasetError(f"cannot list {directory}: {exc}") from None
        for entry in entries:
            rel = prefix + _name(entry.name, Path(entry.path))
            real, est = Path(entry.path), _stat(Path(entry.path), follow=False)
            if stat.S_ISLNK(est.st_mode):
                real = _inside(Path(entry.path), root, rel)
                est = _stat(real)
            if stat.S_ISDIR(est.st_mode):
                if entry.name in IGNORED_DIRS:
                    ignored.append(rel)
                    continue
                ident = (est.st_dev, est.st_ino)
                if ident in above:
                    raise DatasetError(f"{rel} in {root} is a symlink loop; remove it")
                stack.append((real, rel + "/", above | {ident}))
            elif stat.S_ISREG(est.st_mode):
                sources.append(Source(rel, real, est))
            else:
                raise DatasetError(
                    f"{rel} in {root} is not a regular file (a FIFO, socket or device); "
                    "move it out of the dataset folder"
                )
    sources.sort(key=lambda s: s.relpath)
    return Listing(root, False, tuple(sources), tuple(sorted(ignored)))


def _under(path: Path, top: Path) -> bool:
    return path == top or path.is_relative_to(top)


def _name(name: str, where: Path) -> str:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise DatasetError(
            f"{os.fsdecode(where)!r}: the name is not valid UTF-8; rename it"
        ) from None
    return name


def _stat(path: Path, follow: bool = True) -> os.stat_result:
    try:
        return os.stat(path, follow_symlinks=follow)
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None


def _inside(link: Path, root: Path, rel: str) -> Path:
    """The resolved target of a symlink in the dataset, refused unless it is inside it."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):
        raise DatasetError(
            f"{rel} in {root} is a broken symlink ({os.readlink(link)}); fix or remove it"
        ) from None
    if not _under(target, root):
        raise DatasetError(
            f"{rel} in {root} is a symlink to {target}, outside the dataset: copy the file "
            "in, or record the target as a dataset of its own"
        )
    return target


# -- hashing ----------------------------------------------------------------------------


def hash_file(path: Path) -> tuple[str, os.stat_result]:
    """The sha256 (hex) of a file's bytes and its stat taken before reading it.

    Raises DatasetError if the file changes while it is read.
    """
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    total = 0
    try:
        with open(path, "rb", buffering=0) as fh:
            before = os.fstat(fh.fileno())
            while n := fh.readinto(buffer):
                digest.update(view[:n])
                total += n
            after = os.fstat(fh.fileno())
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None
    if total != before.st_size or after.st_mtime_ns != before.st_mtime_ns:
        raise DatasetError(f"{path} changed while it was being hashed; try again")
    return digest.hexdigest(), before


def _hash_source(source: Source) -> tuple[str, os.stat_result]:
    return hash_file(source.real)


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def build_manifest(
    path: Path | str | Listing,
    cache: HashCache | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Manifest:
    """The manifest of the dataset at ``path`` (a path, or a ``scan`` already made)."""
    listing = path if isinstance(path, Listing) else scan(path)
    stats = HashStats()
    found: dict[str, tuple[int, str]] = {}
    todo: list[Source] = []
    for source in listing.sources:
        digest = cache.get(FileKey.of(source.real, source.st)) if cache else None
        if digest is None:
            todo.append(source)
        else:
            found[source.relpath] = (source.size, digest)
            stats.files_cached += 1
    total_files, total_bytes = len(listing.sources), listing.size_bytes
    done_files, done_bytes = stats.files_cached, total_bytes - sum(s.size for s in todo)
    if progress:
        progress(done_files, total_files, done_bytes, total_bytes)
    fresh: list[tuple[FileKey, str, int]] = []
    started = time.time_ns()
    pool = ThreadPoolExecutor(max_workers=workers or default_workers())
    try:
        for source, (digest, st) in zip(todo, pool.map(_hash_source, todo), strict=True):
            found[source.relpath] = (st.st_size, digest)
            fresh.append((FileKey.of(source.real, st), digest, started))
            stats.files_hashed += 1
            stats.bytes_hashed += st.st_size
            done_files, done_bytes = done_files + 1, done_bytes + st.st_size
            if progress:
                progress(done_files, total_files, done_bytes, total_bytes)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if cache is not None:
        cache.put_many(fresh)
    files = tuple(FileEntry(s.relpath, *found[s.relpath]) for s in listing.sources)
    return Manifest(listing.root, listing.is_file, files, listing.ignored, stats)
