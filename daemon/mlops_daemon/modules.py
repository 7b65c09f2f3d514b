"""Which module file a run's entry point starts, and its content hash.

The hash is the one the kernel records for an extracted module
(``ExtractionResult.content_hash``): ``sha256:`` and the hex SHA-256 of the
file's bytes, so a run can be tied to the module version it trained.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from mlops_kernel.launch import parse_entry_point

HASH_PREFIX = "sha256:"


def content_hash(data: bytes) -> str:
    return HASH_PREFIX + hashlib.sha256(data).hexdigest()


def module_file(project: Path, entry_point: str) -> Path | None:
    """The project file an entry point runs: ``pkg/mod.py`` or ``pkg/mod/__init__.py``
    for ``pkg.mod:func``, the script itself for a path; None if it is not in the project."""
    entry = entry_point.strip()
    if ":" in entry:
        try:
            module, _ = parse_entry_point(entry)
        except ValueError:
            return None
        base = project.joinpath(*module.split("."))
        candidates = [base.with_name(base.name + ".py"), base / "__init__.py"]
    else:
        candidates = [project / entry]
    root = project.resolve()
    for path in candidates:
        resolved = path.resolve()
        if resolved.is_file() and resolved.is_relative_to(root):
            return resolved
    return None


def entry_module(project: str, entry_point: str) -> tuple[str, str, str] | None:
    """(resolved project path, module path relative to it, content hash) of the file
    ``entry_point`` runs, or None when there is no such file in the project.

    Blocking (it reads the file): call it off the event loop.
    """
    try:
        root = Path(project).resolve()
        path = module_file(root, entry_point)
        if path is None:
            return None
        return str(root), path.relative_to(root).as_posix(), content_hash(path.read_bytes())
    except (OSError, ValueError):
        return None
