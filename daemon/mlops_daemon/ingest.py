"""Ingest what a run writes under its run directory into the store.

Training code appends metric lines to ``metrics.jsonl``; this tails the file
from the byte offset committed with the last batch, so that after any crash
(of the run or the daemon) ingestion resumes exactly where it stopped: no line
is stored twice, none is skipped. Only complete lines are read; a torn last
line is left for the next pass.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mlops_kernel import runfiles
from mlops_kernel.schemas import ParamValue

from .store.repository import MetricPoint, Store

log = logging.getLogger(__name__)

BATCH_BYTES = 16 * 1024 * 1024


@dataclass
class Ingester:
    """The ingestion state of one run. Its methods block: call them off the loop."""

    store: Store
    run_id: str
    run_dir: Path
    offset: int
    bad_lines: int = 0
    _stamps: dict[str, tuple[int, int]] = field(default_factory=dict)

    def ingest(self) -> int:
        """Ingest everything new; returns how many metric points were stored."""
        stored = self._metrics()
        self._json_file(runfiles.PARAMS_FILE, self._store_params)
        self._json_file(runfiles.TAGS_FILE, self._store_tags)
        return stored

    def finish(self) -> int:
        """The last pass after the run ended: everything, plus its artifacts."""
        stored = self.ingest()
        self.store.set_artifacts(self.run_id, scan_artifacts(self.run_dir / runfiles.ARTIFACTS_DIR))
        return stored

    def _metrics(self) -> int:
        path = self.run_dir / runfiles.METRICS_FILE
        total = 0
        while True:
            try:
                with open(path, "rb") as fh:
                    fh.seek(self.offset)
                    chunk = fh.read(BATCH_BYTES)
            except FileNotFoundError:
                return total
            end = chunk.rfind(b"\n")
            if end < 0:
                return total
            points = self._parse(chunk[: end + 1])
            start, new_offset = self.offset, self.offset + end + 1
            if self.store.ingest_metrics(self.run_id, points, start, new_offset):
                self.offset = new_offset
                total += len(points)
            else:  # someone else moved the offset: trust the database
                self.offset = self.store.get_row(self.run_id).metrics_offset
            if len(chunk) < BATCH_BYTES:
                return total

    def _parse(self, data: bytes) -> list[MetricPoint]:
        points, problems = runfiles.decode_metrics(data)
        for problem in problems:
            self.bad_lines += 1
            if self.bad_lines <= 5:
                log.warning("run %s: skipped a bad metric line (%s)", self.run_id, problem)
        return points

    def _json_file(self, name: str, apply: Callable[[dict[str, object]], None]) -> None:
        path = self.run_dir / name
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if self._stamps.get(name) == stamp:
            return
        data = runfiles.read_json(path)
        if isinstance(data, dict):
            apply(data)
            self._stamps[name] = stamp

    def _store_params(self, data: dict[str, object]) -> None:
        params: dict[str, ParamValue] = {}
        for key, value in data.items():
            if isinstance(value, str | int | float | bool) or value is None:
                params[str(key)[:250]] = value
            else:
                params[str(key)[:250]] = str(value)
        self.store.set_params(self.run_id, params)

    def _store_tags(self, data: dict[str, object]) -> None:
        self.store.set_tags(self.run_id, {str(k): str(v) for k, v in data.items()})


def scan_artifacts(root: Path) -> list[tuple[str, int, str | None]]:
    """(relative path, size, sha256) of every file under ``root``."""
    out: list[tuple[str, int, str | None]] = []
    if not root.is_dir():
        return out
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        out.append((path.relative_to(root).as_posix(), path.stat().st_size, sha256_file(path)))
    return out


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()
