"""Environment locks: the distributions a run's code needs, pinned, and their wheels.

``resolve_lock(project, entry_point)`` reads the code and this interpreter
(fast, offline); ``gather_wheels(lock, wheelhouse)`` fills in wheel files and
hashes (reusing the shared wheelhouse, else pip); ``write_lock_files`` writes
``requirements.lock`` (pip hash-checking mode) and ``env-lock.json``.
"""

from __future__ import annotations

from .files import JSON_FILE, REQUIREMENTS_FILE, read_lock_file, write_lock_files
from .installed import warm
from .model import EnvLock, EnvLockError, LockedPackage
from .resolve import lock_for_packages, resolve_lock
from .wheels import gather_wheels

__all__ = [
    "JSON_FILE",
    "REQUIREMENTS_FILE",
    "EnvLock",
    "EnvLockError",
    "LockedPackage",
    "gather_wheels",
    "lock_for_packages",
    "read_lock_file",
    "resolve_lock",
    "warm",
    "write_lock_files",
]
