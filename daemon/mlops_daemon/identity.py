"""A run's identity: the hash of everything that decides its result.

Two runs with the same identity must give the same metrics (bit-identical for
deterministic code), so a submitted identity that already succeeded is answered
with that run at once (a cache hit) unless the run is forced.

The identity covers

- the code: the entry point and the content of every project module it
  imports (transitively), so editing a helper module is a new identity;
- the parameters (which carry the seed) and the run's own environment variables;
- the dataset versions, by their manifest hashes;
- the environment: the environment lock (Python and pinned packages) and, for
  containers, the image's environment id (lock, base image digest, runtime);
- the executor kind, and the CPUs and GPUs the run gets (thread counts and
  devices change floating-point results).

The memory limit, the timeout and the run's name are left out: they decide
whether a run finishes, not what it computes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_kernel.schemas import RunSpec

from .envlock.scan import scan_code
from .executors.base import MountedDataset

IDENTITY_VERSION = 1


@dataclass(frozen=True)
class IdentityParts:
    code: str
    """sha256 over the run's project modules (relative path and bytes)."""
    datasets: tuple[tuple[str, str], ...]
    """(name, manifest hash) of each dataset, sorted by name."""
    environment: str
    """The environment lock's id (local) or the image's environment id (docker)."""
    executor: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self, spec: RunSpec) -> dict[str, Any]:
        return {
            "version": IDENTITY_VERSION,
            "entry_point": spec.entry_point.strip(),
            "params": spec.params,
            "env": spec.env,
            "code": self.code,
            "datasets": [list(d) for d in self.datasets],
            "environment": self.environment,
            "executor": self.executor,
            "cpus": spec.resources.cpus,
            "gpus": spec.resources.gpus,
            **({"extra": self.extra} if self.extra else {}),
        }


def run_identity(spec: RunSpec, parts: IdentityParts) -> str:
    """32 hex characters of sha256 over a canonical JSON of the identity's parts."""
    text = json.dumps(parts.to_json(spec), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def code_hash(project: Path, files: list[Path]) -> str:
    """sha256 over the files (relative to the project) and their bytes, in path order."""
    root = project.resolve()
    digest = hashlib.sha256()
    for path in sorted({p.resolve() for p in files}):
        try:
            name = str(path.relative_to(root))
        except ValueError:
            name = str(path)
        digest.update(name.encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
        digest.update(b"\0")
    return digest.hexdigest()


def drop_bytecode(project: Path, entry_point: str) -> int:
    """Remove the cached bytecode of the project modules a run imports; blocking.

    Python trusts a ``.pyc`` whose source has the same size and modification second,
    so an edit that keeps a module's size, made within a second of the last write, would
    otherwise run the old code under the new identity. Only the project's own modules
    are touched (installed packages compile once, as usual). Returns how many it removed.
    """
    _, files = scan_code(project, entry_point)
    removed = 0
    for path in files:
        try:
            Path(importlib.util.cache_from_source(str(path))).unlink()
            removed += 1
        except (OSError, NotImplementedError, ValueError):
            pass  # none there, or a read-only project (where none can be written either)
    return removed


def compute_identity(
    spec: RunSpec, executor: Any, datasets: Sequence[MountedDataset]
) -> tuple[str | None, dict[str, Any]]:
    """(identity, its parts as recorded) of a run about to be submitted; blocking.

    The identity is None (the run is never a cache hit) when its environment cannot
    be pinned, e.g. a local run whose imports are not all installed: it will still
    run, and fail or not, but is not claimed reproducible.
    """
    project = Path(spec.project)
    environment = executor.environment_key(spec)
    _, files = scan_code(project, spec.entry_point)
    parts = IdentityParts(
        code=code_hash(project, files),
        datasets=tuple(sorted((d.name, d.manifest_hash) for d in datasets)),
        environment=environment or "",
        executor=executor.name,
    )
    recorded = parts.to_json(spec)
    if environment is None:
        return None, recorded
    return run_identity(spec, parts), recorded
