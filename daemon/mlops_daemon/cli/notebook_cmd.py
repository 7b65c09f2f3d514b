"""`mlops lint` (local, no daemon) and `mlops extract` (a job in the daemon)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from ..client import Client, find_daemon
from ..config import DaemonConfig
from ..errors import DaemonUnavailable, InvalidInput
from . import notebook_format as nbfmt
from .cells import parse_cells
from .daemon_cmd import running_client, start_background
from .params import parse_param

FIRST_POLL_S = 0.05
MAX_POLL_S = 0.5


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lint = sub.add_parser(
        "lint", help="lint a notebook: what would break in production, and how to fix it"
    )
    lint.add_argument("notebook", help="the .ipynb file")
    lint.add_argument("--project", default=None, help="project directory (default: the notebook's)")
    lint.add_argument("--json", action="store_true", help="print the report as JSON")
    lint.set_defaults(func=cmd_lint)

    ext = sub.add_parser(
        "extract", help="turn notebook cells into a tested, versioned module (needs the daemon)"
    )
    ext.add_argument("notebook", help="the .ipynb file")
    ext.add_argument("--project", default=None, help="project directory (default: the notebook's)")
    ext.add_argument(
        "--cells", default=None, help="cell numbers as JupyterLab shows them, e.g. 1-4,7"
    )
    ext.add_argument("--name", default=None, help="module name (default: from the notebook)")
    ext.add_argument("--package", default=None, help="package (default: from the project)")
    ext.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="NAME[=EXPR]",
        help="a metric to report: a variable, or NAME=EXPRESSION (repeatable)",
    )
    ext.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    ext.add_argument("--seed", type=int, default=0)
    ext.add_argument(
        "--fixture-cap-mb",
        type=float,
        default=20.0,
        metavar="MB",
        help="largest stored inputs of one step; larger steps are tested by replay (default 20)",
    )
    ext.add_argument("--yes", "-y", action="store_true", help="answer yes (e.g. to `git init`)")
    ext.add_argument("--json", action="store_true", help="print the result as JSON")
    ext.set_defaults(func=cmd_extract)


# -- lint ------------------------------------------------------------------------


def notebook_path(text: str) -> Path:
    path = Path(text).expanduser().absolute()
    if not path.exists():
        raise InvalidInput(f"notebook {path} does not exist")
    if not path.is_file():
        raise InvalidInput(f"notebook {path} is not a file")
    return path


def project_dir(text: str | None, notebook: Path) -> Path:
    path = Path(text).expanduser().resolve() if text else notebook.parent.resolve()
    if not path.is_dir():
        raise InvalidInput(f"project {path} is not a directory")
    return path


def cmd_lint(args: argparse.Namespace, config: DaemonConfig) -> int:
    from .. import notebooks  # the notebook machinery only when asked for

    notebook = notebook_path(args.notebook)
    project = project_dir(args.project, notebook)
    report = notebooks.lint(notebook, project)
    data = report.model_dump(mode="json")
    print(json.dumps(data) if args.json else nbfmt.lint_report(data))
    return 1 if any(f["severity"] == "error" for f in data["findings"]) else 0


# -- extract ---------------------------------------------------------------------


def build_request(args: argparse.Namespace, notebook: Path, project: Path) -> dict[str, Any]:
    body: dict[str, Any] = {
        "notebook": str(notebook),
        "project": str(project),
        "metrics": [m.strip() for m in args.metric],
        "params": dict(parse_param(p) for p in args.param),
        "seed": args.seed,
        "fixture_cap_mb": args.fixture_cap_mb,
    }
    if args.cells is not None:
        body["cells"] = parse_cells(args.cells)
    if args.name:
        body["name"] = args.name
    if args.package:
        body["package"] = args.package
    if any(not m for m in body["metrics"]):
        raise InvalidInput("--metric expects NAME or NAME=EXPRESSION, e.g. --metric accuracy")
    return body


def confirm_git_init(project: Path, yes: bool, interactive: bool) -> bool:
    """Whether to ask the daemon for `git init` (False: the project is a repository)."""
    from ..notebooks import is_git_repo

    if is_git_repo(project):
        return False
    if yes:
        return True
    if not interactive:
        raise InvalidInput(
            f"{project} is not a git repository, and extracted modules are versioned with "
            "git: pass --yes to let mlops run `git init` there, or run `git init` yourself"
        )
    try:
        answer = input(f"Initialise a git repository in {project}? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise InvalidInput(
            f"not extracted: {project} is not a git repository (run `git init` there, or answer y)"
        )
    return True


def daemon_client(config: DaemonConfig) -> Client:
    """The running daemon, started in the background when there is none."""
    client = running_client(config)
    if client is not None:
        return client
    print("starting the mlops daemon…", file=sys.stderr)
    if not start_background(config, quiet=True):
        raise DaemonUnavailable(f"the mlops daemon did not start; see {config.paths.log}")
    return Client(find_daemon(config.paths))


def wait_for_job(client: Client, job: dict[str, Any], line: nbfmt.ProgressLine) -> dict[str, Any]:
    """Poll the job until it ends, showing its progress."""
    delay = FIRST_POLL_S
    try:
        while job["state"] not in ("succeeded", "failed"):
            line.show(job["state"], job.get("progress"))
            time.sleep(delay)
            delay = min(delay * 2, MAX_POLL_S)
            job = client.request("GET", f"/api/extractions/{job['id']}")
    finally:
        line.close()
    return job


def run_extraction(
    client: Client, body: dict[str, Any], stream: TextIO | None = None
) -> dict[str, Any]:
    """Submit an extraction job and wait for it to end, showing its progress on
    ``stream`` (stderr by default); returns the ended job (``mlops extract``, ``mlops demo``)."""
    out = sys.stderr if stream is None else stream
    job = client.request("POST", "/api/extractions", body=body)
    width = shutil.get_terminal_size((100, 20)).columns
    return wait_for_job(client, job, nbfmt.ProgressLine(out, out.isatty(), width))


def job_error(job: dict[str, Any]) -> dict[str, Any]:
    """A failed job's error (a generic one should the daemon have recorded none)."""
    error: dict[str, Any] = job.get("error") or {"kind": "internal", "message": "the job failed"}
    return error


def run_hint(entry_point: str, project: Path) -> str:
    here = Path.cwd().resolve()
    return f"mlops run {entry_point}" + ("" if project == here else f" --project {project}")


def cmd_extract(args: argparse.Namespace, config: DaemonConfig) -> int:
    notebook = notebook_path(args.notebook)
    project = project_dir(args.project, notebook)
    body = build_request(args, notebook, project)
    if confirm_git_init(project, args.yes, sys.stdin.isatty()):
        body["git_init"] = True
    job = run_extraction(daemon_client(config), body)
    if job["state"] == "failed":
        error = job_error(job)
        print(nbfmt.job_failure(error), file=sys.stderr)
        if args.json:
            print(json.dumps({"error": error}))
        return 1
    result = job["result"]
    if args.json:
        print(json.dumps(result))
    else:
        print(nbfmt.extraction_result(result, run_hint(result["entry_point"], project)))
    return 0
