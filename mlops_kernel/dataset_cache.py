"""A cache of file hashes (and of tabular schemas) so unchanged files are never re-read.

It lives in ``$MLOPS_HOME/cache/file-hashes.sqlite`` (a plain stdlib sqlite3 file, not
the daemon's database): the CLI fills it while it shows progress, the daemon then
finds every file already hashed. Both may write at once: the file is in WAL mode,
writers wait for each other (busy timeout) and each write is one short transaction
of ``INSERT OR REPLACE`` rows, so the worst a race can do is hash a file twice.

A hash is reused only when the file's absolute (resolved) path, size, mtime_ns,
ctime_ns, inode and device all match what they were when it was hashed. ctime is
in the key because no one can set it back (``touch -d`` can set mtime). A file
changed within ``racy_ns`` of being hashed might have been changed in the same
timestamp tick as the hash was taken (git's "racy clean" problem): such an entry
is never trusted, and the file is hashed again next time.

Being a cache, it never fails a scan: a corrupt file is replaced, and a cache that
cannot be opened at all (read-only home) is replaced by one in memory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_FILE = Path("cache") / "file-hashes.sqlite"
"""Relative to MLOPS_HOME."""
RACY_NS = 1_000_000_000
"""Entries for files changed less than this long before they were hashed are not trusted."""

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS file_hash ("
    " path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
    " ctime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, dev INTEGER NOT NULL,"
    " sha256 TEXT NOT NULL, hashed_at_ns INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS file_schema ("
    " sha256 TEXT NOT NULL, inference INTEGER NOT NULL, schema_json TEXT NOT NULL,"
    " PRIMARY KEY (sha256, inference)) WITHOUT ROWID",
)


@dataclass(frozen=True)
class FileKey:
    """What identifies one state of a file on disk."""

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    dev: int

    @classmethod
    def of(cls, path: Path, st: os.stat_result) -> FileKey:
        return cls(str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


@dataclass
class CacheCounters:
    """What the cache did: tests prove "not re-read" with these, not with time."""

    hits: int = 0
    misses: int = 0
    stored: int = 0
    racy: int = 0
    """Lookups that found an entry but could not trust it (changed too close to its hash)."""


def cache_path(home: Path) -> Path:
    return home / CACHE_FILE


class HashCache:
    """The file-hash cache at ``path`` (None: in memory only). Thread-safe."""

    def __init__(self, path: Path | None, racy_ns: int = RACY_NS) -> None:
        self.path = path
        self.racy_ns = racy_ns
        self.counters = CacheCounters()
        self._lock = threading.Lock()
        self._conn = self._open()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> HashCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- hashes -------------------------------------------------------------------

    def get(self, key: FileKey) -> str | None:
        """The sha256 (hex) of the file in state ``key``, if it was hashed in that state."""
        with self._lock:
            try:
                row = self._conn.execute(
                    "SELECT size, mtime_ns, ctime_ns, inode, dev, sha256, hashed_at_ns "
                    "FROM file_hash WHERE path = ?",
                    (key.path,),
                ).fetchone()
            except sqlite3.Error as exc:
                log.warning("file-hash cache unreadable (%s); hashing instead", exc)
                row = None
            if row is None or tuple(row[:5]) != (
                key.size,
                key.mtime_ns,
                key.ctime_ns,
                key.inode,
                key.dev,
            ):
                self.counters.misses += 1
                return None
            if max(key.mtime_ns, key.ctime_ns) >= int(row[6]) - self.racy_ns:
                self.counters.racy += 1
                self.counters.misses += 1
                return None
            self.counters.hits += 1
            return str(row[5])

    def put_many(self, entries: Iterable[tuple[FileKey, str, int]]) -> None:
        """Record (key, sha256 hex, time the hashing started in ns) in one transaction."""
        rows = [
            (k.path, k.size, k.mtime_ns, k.ctime_ns, k.inode, k.dev, digest, at)
            for k, digest, at in entries
        ]
        if not rows:
            return
        self._write(
            "INSERT OR REPLACE INTO file_hash "
            "(path, size, mtime_ns, ctime_ns, inode, dev, sha256, hashed_at_ns) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self.counters.stored += len(rows)

    # -- schemas (a function of the content: keyed by its hash) ---------------------

    def get_schema(self, sha256: str, inference: int) -> dict[str, Any] | None:
        with self._lock:
            try:
                row = self._conn.execute(
                    "SELECT schema_json FROM file_schema WHERE sha256 = ? AND inference = ?",
                    (sha256, inference),
                ).fetchone()
            except sqlite3.Error:
                return None
        if row is None:
            return None
        value = json.loads(row[0])
        return value if isinstance(value, dict) else None

    def put_schema(self, sha256: str, inference: int, schema: dict[str, Any]) -> None:
        self._write(
            "INSERT OR REPLACE INTO file_schema (sha256, inference, schema_json) VALUES (?, ?, ?)",
            [(sha256, inference, json.dumps(schema, sort_keys=True))],
        )

    # -- plumbing -------------------------------------------------------------------

    def _write(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany(sql, rows)
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                log.warning("could not update the file-hash cache %s: %s", self.path, exc)

    def _open(self) -> sqlite3.Connection:
        if self.path is None:
            return _connect(":memory:")
        for attempt in range(2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                return _connect(str(self.path))
            except sqlite3.DatabaseError as exc:
                if attempt == 0 and "locked" not in str(exc):
                    log.warning(
                        "file-hash cache %s is unusable (%s); starting afresh", self.path, exc
                    )
                    _discard(self.path)
                    continue
                log.warning("file-hash cache %s unusable (%s); using memory", self.path, exc)
            except OSError as exc:
                log.warning(
                    "cannot create the file-hash cache %s (%s); using memory", self.path, exc
                )
                break
        return _connect(":memory:")


def _connect(target: str) -> sqlite3.Connection:
    conn = sqlite3.connect(target, timeout=30, isolation_level=None, check_same_thread=False)
    try:
        if target != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.execute("SELECT count(*) FROM file_hash WHERE path = ''").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def _discard(path: Path) -> None:
    """Move a corrupt cache aside (it is only a cache)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            Path(f"{path}{suffix}").replace(Path(f"{path}{suffix}.corrupt-{stamp}"))
