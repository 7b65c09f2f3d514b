"""The few git operations extraction needs, through the git command line.

Blocking calls: the daemon runs extraction in a worker thread, never on its loop.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from mlops_kernel.notebook.errors import VersioningError

_IDENTITY = ["-c", "user.name=jupyter-mlops", "-c", "user.email=jupyter-mlops@localhost"]


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    if shutil.which("git") is None:
        raise VersioningError("git is not installed: install it to version extracted modules")
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=120
    )
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise VersioningError(f"git {args[0]} failed: {detail[-1] if detail else 'no output'}")
    return result


def repository_root(path: Path) -> Path | None:
    """The work tree holding ``path``, or None when it is not in a git repository."""
    if shutil.which("git") is None:
        return None
    result = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--show-toplevel"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def init(path: Path) -> Path:
    _git(path, "init", "--quiet")
    root = repository_root(path)
    if root is None:
        raise VersioningError(f"git init did not make {path} a repository")
    return root


def _identity(repo: Path) -> list[str]:
    configured = _git(repo, "config", "user.email", check=False).stdout.strip()
    return [] if configured else _IDENTITY


def head(repo: Path) -> str | None:
    """The sha of HEAD, or None in a repository without commits."""
    result = _git(repo, "rev-parse", "HEAD", check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def commit(repo: Path, paths: Sequence[Path], message: str) -> tuple[str, bool]:
    """Commit exactly ``paths``; returns (HEAD sha, whether a new commit was made)."""
    relative = [str(p.resolve().relative_to(repo.resolve())) for p in paths]
    _git(repo, "add", "--all", "--", *relative)
    staged = _git(repo, "diff", "--cached", "--quiet", "--", *relative, check=False)
    if staged.returncode == 0:
        return head(repo) or "", False
    _git(repo, *_identity(repo), "commit", "--quiet", "-m", message, "--", *relative)
    return _git(repo, "rev-parse", "HEAD").stdout.strip(), True


def is_clean(repo: Path, paths: Sequence[Path]) -> bool:
    """No uncommitted change (or untracked file) under ``paths``."""
    relative = [str(p.resolve().relative_to(repo.resolve())) for p in paths]
    status = _git(repo, "status", "--porcelain", "--", *relative, check=False)
    return status.returncode == 0 and not status.stdout.strip()
