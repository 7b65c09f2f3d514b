"""The wheelhouse: a directory of wheels named as pip names them, shared by all locks.

A wheel is reused for ``name==version`` when its file name says so and one of
its tags suits this interpreter (the best one, in pip's order of preference).
Files arrive by :func:`move_in` (an atomic rename), so a reader never sees half
a wheel; their SHA-256 is cached by (path, size, mtime).
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import cache
from pathlib import Path

from packaging.tags import Tag, sys_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

_hashes: dict[tuple[str, int, int], str] = {}
_hashes_lock = threading.Lock()


@cache
def _tag_rank() -> dict[Tag, int]:
    return {tag: rank for rank, tag in enumerate(sys_tags())}


def wheel_rank(filename: str) -> tuple[str, Version, int] | None:
    """(canonical name, version, preference: lower is better) of a wheel this Python can
    install, or None for a file that is not such a wheel."""
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion):
        return None
    ranks = [_tag_rank()[t] for t in tags if t in _tag_rank()]
    if not ranks:
        return None
    return canonicalize_name(name), version, min(ranks)


def find_wheels(directory: Path, pins: dict[str, str]) -> dict[str, Path]:
    """The best installable wheel in ``directory`` for each ``{name: version}`` wanted."""
    wanted: dict[str, Version] = {}
    for pinned, text in pins.items():
        try:
            wanted[canonicalize_name(pinned)] = Version(text)
        except InvalidVersion:
            continue
    best: dict[str, tuple[int, Path]] = {}
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return {}
    for entry in entries:
        if not entry.name.endswith(".whl") or not entry.is_file():
            continue
        ranked = wheel_rank(entry.name)
        if ranked is None:
            continue
        name, version, rank = ranked
        if wanted.get(name) == version and (name not in best or rank < best[name][0]):
            best[name] = (rank, Path(entry.path))
    return {name: path for name, (_, path) in best.items()}


def move_in(path: Path, directory: Path) -> Path:
    """Move a finished wheel into ``directory`` atomically (same file system)."""
    target = directory / path.name
    os.replace(path, target)
    return target


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file (cached while its size and mtime stay the same)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _hashes_lock:
        known = _hashes.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _hashes_lock:
        _hashes[key] = value
    return value
