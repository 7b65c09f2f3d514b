"""A real daemon whose notebook kernel is faked, and a project it takes for a git repository.

Shared by the tests that drive the notebook endpoints, over HTTP or through the CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support import fake_notebook_kernel
from support.daemon import DaemonProcess, running_daemon


@contextmanager
def fake_kernel_daemon(factory: pytest.TempPathFactory, name: str) -> Iterator[DaemonProcess]:
    """A started daemon with a fresh home under a temporary folder named after ``name``.

    Its kernel is ``support.fake_notebook_kernel``; afterwards it is stopped.
    """
    home = factory.mktemp(name) / "home"
    with running_daemon(home, extra_env=fake_notebook_kernel.env()) as proc:
        yield proc


def git_project(tmp_path: Path) -> Path:
    """``tmp_path/repo``, a git repository as far as the daemon checks (a .git folder)."""
    path = tmp_path / "repo"
    (path / ".git").mkdir(parents=True)
    return path
