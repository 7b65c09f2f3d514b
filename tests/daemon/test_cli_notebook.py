"""`mlops lint` and `mlops extract`: their parsing and output in process, and the real
command line as a subprocess against a real daemon whose kernel is faked
(``support.fake_notebook_kernel``; the CLI process loads the fake too, for lint)."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import fake_notebook_kernel as fake
from support.daemon import DaemonProcess, kill_run_processes
from support.fake_notebook_kernel import write_notebook
from support.notebook_daemon import fake_kernel_daemon, git_project

from mlops_daemon.cli import notebook_format as nbfmt
from mlops_daemon.cli.cells import parse_cells
from mlops_daemon.cli.notebook_cmd import confirm_git_init
from mlops_daemon.errors import InvalidInput

# -- --cells -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "indices"),
    [
        ("1", [0]),
        ("1-4,7", [0, 1, 2, 3, 6]),
        (" 3 , 1 - 2 ", [0, 1, 2]),
        ("2,2,1-3", [0, 1, 2]),
        ("5-5", [4]),
        ("10,9", [8, 9]),
    ],
)
def test_cells_are_numbered_as_jupyterlab_shows_them(text: str, indices: list[int]) -> None:
    assert parse_cells(text) == indices


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty item"),
        ("1,,2", "empty item"),
        ("0", "numbered from 1"),
        ("0-3", "numbered from 1"),
        ("4-1", "write it 1-4"),
        ("a", "'a' is not a cell number"),
        ("1-", "'1-'"),
        ("-3", "'-3'"),
        ("1..3", "'1..3'"),
        ("1-2-3", "'1-2-3'"),
        ("1;2", "'1;2'"),
        ("1-9999999", "too long"),
    ],
)
def test_bad_cells_say_the_syntax(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match="--cells") as info:
        parse_cells(text)
    assert fragment in info.value.message


# -- output --------------------------------------------------------------------------------


REPORT = {
    "notebook": "/p/nb.ipynb",
    "findings": [
        {"id": "late", "severity": "info", "cell": 4, "line": None, "message": "m3", "lesson": ""},
        {"id": "w", "severity": "warning", "cell": 0, "line": 2, "message": "m2", "lesson": "L2"},
        {"id": "e", "severity": "error", "cell": 0, "line": 5, "message": "m1", "lesson": "L1"},
        {"id": "nb", "severity": "warning", "cell": None, "message": "whole", "lesson": "L4"},
    ],
    "readiness": {
        "score": 55,
        "checklist": [
            {"id": "a", "label": "seeded", "passed": True, "detail": ""},
            {"id": "b", "label": "no hidden state", "passed": False, "detail": "cell 1"},
        ],
    },
    "cells": [],
}


def test_lint_output_groups_findings_by_cell_with_lessons() -> None:
    lines = nbfmt.lint_report(REPORT).splitlines()
    text = "\n".join(lines)
    first, fifth, notebook = (
        lines.index("cell 1:"),
        lines.index("cell 5:"),
        lines.index("notebook:"),
    )
    assert first < fifth < notebook
    # errors before warnings within a cell; the lesson indented under its finding
    assert lines[first + 1].split() == ["error", "m1", "(line", "5)", "[e]"]
    assert lines[first + 2] == " " * 11 + "L1"
    assert lines[first + 3].split()[:2] == ["warning", "m2"]
    assert "readiness: 55/100" in lines
    assert "  [x] seeded" in lines and "  [ ] no hidden state: cell 1" in lines
    assert text.endswith("1 error, 2 warnings, 1 info")


def test_progress_rewrites_one_line_on_a_terminal() -> None:
    out = io.StringIO()
    line = nbfmt.ProgressLine(out, tty=True, width=40)
    line.show("queued", None)
    line.show("running", {"stage": "run", "done": 1, "total": 3, "message": "running cell 1"})
    line.show("running", {"stage": "run", "done": 1, "total": 3, "message": "running cell 1"})
    line.show("running", {"stage": "tests", "done": 0, "total": 0, "message": "x" * 80})
    line.close()
    text = out.getvalue()
    assert "\n" not in text
    assert text.count("\r") == 3 + 2  # three distinct states, then the line blanked
    assert text.endswith(" " * 39 + "\r")
    assert "run 1/3: running cell 1" in text
    assert max(len(part) for part in text.split("\r")) <= 39


def test_progress_is_plain_lines_elsewhere() -> None:
    out = io.StringIO()
    line = nbfmt.ProgressLine(out, tty=False)
    for done in (1, 1, 2):
        line.show("running", {"stage": "run", "done": done, "total": 2, "message": "cell"})
    line.close()
    assert out.getvalue() == "run 1/2: cell\nrun 2/2: cell\n"


def test_a_failure_shows_cell_lesson_and_output() -> None:
    text = nbfmt.job_failure(
        {"message": "cell 3 failed", "cell": 2, "lesson": "Seed it.", "output": "E x\n"}
    )
    assert text.splitlines() == [
        "mlops: extraction failed: cell 3 failed",
        "  in cell 3",
        "  lesson:",
        "    Seed it.",
        "  output:",
        "    E x",
    ]


# -- git init --------------------------------------------------------------------------------


def test_git_init_is_asked_for_only_outside_a_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "sub").mkdir()
    assert confirm_git_init(tmp_path / "repo" / "sub", yes=False, interactive=False) is False
    bare = tmp_path / "bare"
    bare.mkdir()
    assert confirm_git_init(bare, yes=True, interactive=False) is True
    with pytest.raises(InvalidInput, match="pass --yes") as info:
        confirm_git_init(bare, yes=False, interactive=False)
    assert "git init" in info.value.message
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "y")
    assert confirm_git_init(bare, yes=False, interactive=True) is True
    assert asked == [f"Initialise a git repository in {bare}? [y/N] "]
    monkeypatch.setattr("builtins.input", lambda prompt: "")
    with pytest.raises(InvalidInput, match="not a git repository"):
        confirm_git_init(bare, yes=False, interactive=True)


# -- the command line against a daemon ----------------------------------------------------------


@pytest.fixture(scope="module")
def cli_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    with fake_kernel_daemon(tmp_path_factory, "cli-notebook") as proc:
        yield proc


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return git_project(tmp_path)


def show(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


@pytest.mark.slow
def test_lint_exits_1_on_errors_and_0_otherwise(cli_daemon: DaemonProcess, repo: Path) -> None:
    bad = write_notebook(repo / "bad.ipynb", "ok = 1", "ERROR = 1", "WARN = 1")
    human = cli_daemon.cli("lint", str(bad))
    assert human.returncode == 1, show(human)
    assert "cell 2:" in human.stdout and "cell 3:" in human.stdout
    assert "Production code must not say ERROR" in human.stdout
    assert "readiness: 60/100" in human.stdout
    as_json = cli_daemon.cli("lint", str(bad), "--json")
    assert as_json.returncode == 1, show(as_json)
    assert [f["severity"] for f in json.loads(as_json.stdout)["findings"]] == ["error", "warning"]
    good = write_notebook(repo / "good.ipynb", "ok = 1", "WARN = 1")
    assert cli_daemon.cli("lint", str(good)).returncode == 0
    missing = cli_daemon.cli("lint", str(repo / "nope.ipynb"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr, show(missing)
    (repo / "broken.ipynb").write_text("{")
    broken = cli_daemon.cli("lint", str(repo / "broken.ipynb"))
    assert broken.returncode == 2 and "not valid JSON" in broken.stderr, show(broken)
    assert "Traceback" not in broken.stderr


EXTRAS = ["--metric", "acc=x", "--seed", "3"]


@pytest.mark.slow
def test_extract_prints_the_result_and_what_to_train_next(
    cli_daemon: DaemonProcess, repo: Path
) -> None:
    nb = write_notebook(repo / "train.ipynb", "# title", "x = 1", "HOLD = 2", markdown=(0,))
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_daemon", "extract", str(nb), "--cells", "2-3", *EXTRAS],
        env=cli_daemon.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    progress = []
    try:
        for line in proc.stderr:  # plain progress lines off a terminal
            progress.append(line.rstrip("\n"))
            if line.startswith("run 2/2"):
                (repo / ".go").touch()  # the fake kernel holds in that cell until then
                break
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, (progress, stdout, stderr)
    assert progress[-1] == "run 2/2: running cell 3", progress
    assert "pkg.train (pkg/train.py)" in stdout
    assert "version:  1 (new)" in stdout
    assert f"mlops run pkg.train:main --project {repo}" in stdout
    assert "accuracy=0.9" in stdout
    again = cli_daemon.cli("extract", str(nb), "--cells", "2,3", "--json")
    assert again.returncode == 0, show(again)
    result = json.loads(again.stdout)
    assert (result["version"], result["changed"], result["cell_ids"]) == (1, False, ["c1", "c2"])
    assert result["module_path"] == "pkg/train.py" and result["test_path"]


@pytest.mark.slow
def test_extract_failures_and_usage_errors(cli_daemon: DaemonProcess, repo: Path) -> None:
    nb = write_notebook(repo / "nb.ipynb", "a = 1", "raise ValueError('boom')")
    failed = cli_daemon.cli("extract", str(nb))
    assert failed.returncode == 1, show(failed)
    assert "extraction failed: cell 2 failed" in failed.stderr
    assert "in cell 2" in failed.stderr and fake.LESSON in failed.stderr
    assert cli_daemon.cli("extract", str(nb), "--cells", "0").returncode == 2
    bad_name = cli_daemon.cli("extract", str(nb), "--cells", "1", "--name", "no-dashes")
    assert bad_name.returncode == 2 and "name" in bad_name.stderr, show(bad_name)
    assert cli_daemon.cli("extract", str(nb), "--seed", "x").returncode == 2
    assert cli_daemon.cli("extract", str(repo / "gone.ipynb")).returncode == 2


@pytest.mark.slow
def test_extract_outside_a_repository_needs_yes(cli_daemon: DaemonProcess, tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "bare" / "nb.ipynb", "a = 1")
    refused = cli_daemon.cli("extract", str(nb))
    assert refused.returncode == 2, show(refused)
    assert "--yes" in refused.stderr and "git init" in refused.stderr
    assert not (tmp_path / "bare" / "pkg").exists()
    done = cli_daemon.cli("extract", str(nb), "--yes", "--json")
    assert done.returncode == 0, show(done)
    assert (tmp_path / "bare" / ".git").is_dir()  # the fake's `git init`


@pytest.mark.slow
def test_extract_on_a_terminal_asks_and_shows_one_progress_line(
    cli_daemon: DaemonProcess, tmp_path: Path
) -> None:
    nb = write_notebook(tmp_path / "bare" / "nb.ipynb", "a = 1", "HOLD = 2")
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_daemon", "extract", str(nb)],
        env=cli_daemon.env,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        start_new_session=True,
    )
    os.close(secondary)
    seen, answered = b"", False
    try:
        while True:
            ready, _, _ = select.select([primary], [], [], 60)
            assert ready, f"no output for 60 s:\n{seen.decode(errors='replace')}"
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the terminal closed: the command ended
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"[y/N]" in seen:
                os.write(primary, b"y\n")
                answered = True
            if b"running cell 2" in seen:
                (tmp_path / "bare" / ".go").touch()  # the fake kernel holds there until then
        assert proc.wait(timeout=60) == 0, seen.decode(errors="replace")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        os.close(primary)
    text = seen.decode(errors="replace")
    assert f"Initialise a git repository in {tmp_path / 'bare'}? [y/N]" in text
    assert "\rrun 2/2: running cell 2" in text  # rewritten in place
    assert "version:  1 (new)" in text


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the local executor is Linux-only")
def test_extract_starts_the_daemon_when_none_runs(tmp_path: Path, repo: Path) -> None:
    home = tmp_path / "fresh-home"
    env = dict(os.environ, MLOPS_HOME=str(home), MLOPS_PORT="0", **fake.env())
    env.pop("MLOPS_DATABASE_URL", None)
    nb = write_notebook(repo / "nb.ipynb", "a = 1")
    try:
        out = subprocess.run(
            [sys.executable, "-m", "mlops_daemon", "extract", str(nb), "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
        assert out.returncode == 0, show(out)
        assert "starting the mlops daemon" in out.stderr
        assert json.loads(out.stdout)["version"] == 1  # stdout is only the JSON
    finally:
        subprocess.run(
            [sys.executable, "-m", "mlops_daemon", "daemon", "stop"],
            env=env,
            capture_output=True,
            timeout=60,
        )
        kill_run_processes(home)
