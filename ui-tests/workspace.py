"""Prepare and tear down what the UI tests run against (``playwright.config.js`` calls it).

``python workspace.py prepare STATE`` makes, under the folder ``STATE``:

- ``root/``: the JupyterLab root, a git repository (initial commit) holding copies of
  the shared notebooks (``<repo>/../shared/notebooks``, or ``$MLOPS_SHARED_NOTEBOOKS``),
  copied at test time: they are never committed to this repository;
- ``home/``: a fresh MLOPS_HOME with a real daemon started on a free port.

``prepare-down STATE`` makes ``down-root/`` and ``down-home/`` with no daemon, for the
"daemon not running" test. ``teardown STATE`` stops both homes' daemons and their runs
and copies the daemon logs into ``test-results/daemon-logs/``. ``dev-link`` points the
dev venv's copy of the front end at the build output (see ``README.md``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

from support.daemon import kill_run_processes  # noqa: E402 - after the path is set

SHARED_NOTEBOOKS = REPO.parent / "shared" / "notebooks"
HOMES = ("home", "down-home")


def shared_notebooks() -> Path:
    """The folder of shared notebooks; ``$MLOPS_SHARED_NOTEBOOKS`` overrides the default."""
    return Path(os.environ.get("MLOPS_SHARED_NOTEBOOKS") or SHARED_NOTEBOOKS).resolve()


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True)


def make_project(root: Path, notebooks: list[Path]) -> None:
    """A git repository at ``root`` whose first commit holds ``notebooks``."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    git(root, "config", "user.name", "mlops ui-tests")
    git(root, "config", "user.email", "ui-tests@example.invalid")
    git(root, "config", "commit.gpgsign", "false")
    for notebook in notebooks:
        shutil.copyfile(notebook, root / notebook.name)
        (root / notebook.name).chmod(0o644)  # the shared copies are read-only
    (root / ".gitignore").write_text(".ipynb_checkpoints/\n__pycache__/\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", "notebooks for the UI tests")


def daemon_env(home: Path) -> dict[str, str]:
    env = dict(os.environ, MLOPS_HOME=str(home), MLOPS_PORT="0", MLOPS_CONCURRENCY="2")
    env.pop("MLOPS_DATABASE_URL", None)
    return env


def mlops(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlops_daemon", *args],
        env=daemon_env(home),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def prepare(state: Path) -> int:
    folder = shared_notebooks()
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:  # the notebook tests skip, saying why; the others still run
        print(f"workspace: no notebooks in {folder} (set MLOPS_SHARED_NOTEBOOKS)")
    make_project(state / "root", notebooks)
    (state / "home").mkdir(parents=True, exist_ok=True)
    started = mlops(state / "home", "daemon", "start", "--port", "0")
    if started.returncode != 0:
        print(f"workspace: the daemon did not start:\n{started.stdout}{started.stderr}")
        return 1
    print(f"workspace: {len(notebooks)} notebooks in {state / 'root'}; {started.stdout.strip()}")
    return 0


def prepare_down(state: Path) -> int:
    make_project(state / "down-root", [])
    (state / "down-home").mkdir(parents=True, exist_ok=True)
    print(f"workspace: {state / 'down-root'} with no daemon in {state / 'down-home'}")
    return 0


def teardown(state: Path, logs: Path) -> int:
    status = 0
    for name in HOMES:
        home = state / name
        if not home.is_dir():
            continue
        stopped = mlops(home, "daemon", "stop")
        print(f"workspace: {name}: {(stopped.stdout + stopped.stderr).strip()}")
        status |= stopped.returncode
        kill_run_processes(home)
        log = home / "daemon.log"
        if log.is_file():
            logs.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, logs / f"{name}-daemon.log")
    if os.environ.get("MLOPS_UI_KEEP") != "1":
        shutil.rmtree(state, ignore_errors=True)
    return status


def dev_link() -> int:
    """Make the venv's labextension a symlink to the build output (editable dev installs).

    ``pip install -e .`` copies the built front end into ``<prefix>/share/jupyter/
    labextensions/jupyter-mlops``, so a later ``jlpm build:prod`` is not seen by
    JupyterLab. ``jupyter-builder develop`` replaces that copy by a link.
    """
    builder = Path(sys.executable).with_name("jupyter-builder")
    command = [str(builder), "develop", "--overwrite", "mlops_labextension"]
    return subprocess.run(command, cwd=REPO / "labextension", check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("prepare", "prepare-down", "teardown", "dev-link"))
    parser.add_argument("state", type=Path, nargs="?", help="the folder the tests run in")
    parser.add_argument("--logs", type=Path, default=HERE / "test-results" / "daemon-logs")
    args = parser.parse_args(argv)
    if args.action == "dev-link":
        return dev_link()
    if args.state is None:
        parser.error(f"{args.action} needs the STATE folder")
    state: Path = args.state.resolve()
    if args.action == "prepare":
        return prepare(state)
    if args.action == "prepare-down":
        return prepare_down(state)
    return teardown(state, args.logs)


if __name__ == "__main__":
    sys.exit(main())
