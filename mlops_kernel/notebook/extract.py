"""Lint, preview and extract: the three things a user asks of a notebook.

``extract`` does the whole job in a staging folder first -- run the notebook in a
fresh kernel (papermill), capture each step's inputs and outputs, write the module
and its tests, run those tests -- and only when they pass copies the files into
the project and commits them. A failure leaves the project untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlops_kernel.notebook import gitrepo
from mlops_kernel.notebook.analysis import NotebookAnalysis, analyse
from mlops_kernel.notebook.codegen import module_source
from mlops_kernel.notebook.errors import GeneratedTestsFailed, SelectionError, VersioningError
from mlops_kernel.notebook.formatting import tidy
from mlops_kernel.notebook.naming import Layout, layout_for
from mlops_kernel.notebook.planner import ModulePlan, plan_module
from mlops_kernel.notebook.report import extraction_findings, lint_report
from mlops_kernel.notebook.schemas import (
    ExtractionPlan,
    ExtractionRequest,
    ExtractionResult,
    Finding,
    LintReport,
    Severity,
)
from mlops_kernel.notebook.shown import show_displayed
from mlops_kernel.notebook.source import Notebook, load_notebook
from mlops_kernel.printed_metrics import single_number

TEST_TIMEOUT_S = 900


@dataclass(frozen=True)
class ExtractionProgress:
    stage: str
    done: int
    total: int
    message: str


Progress = Callable[[ExtractionProgress], None]


def lint_analysis(analysis: NotebookAnalysis, project: Path | None) -> LintReport:
    from mlops_kernel.notebook.lint import lint
    from mlops_kernel.notebook.readiness import readiness

    findings = lint(analysis, project=project)
    return lint_report(analysis, project, findings, readiness(analysis, findings, project=project))


def lint_notebook(path: str | Path, project: str | Path | None = None) -> LintReport:
    """Lint lessons and the readiness checklist of one notebook."""
    return lint_analysis(analyse(load_notebook(path)), Path(project) if project else None)


def _project(request: ExtractionRequest, notebook: Path) -> Path:
    project = Path(request.project).expanduser() if request.project else notebook.parent
    if not project.is_dir():
        raise SelectionError(f"project directory {project} does not exist")
    return project.resolve()


def plan_request(request: ExtractionRequest) -> tuple[Notebook, Layout, ModulePlan]:
    notebook = load_notebook(request.notebook)
    path = Path(request.notebook).resolve()
    layout = layout_for(_project(request, path), path, request.package, request.name)
    plan = plan_module(
        notebook,
        request.cells,
        metrics=request.metrics,
        params=dict(request.params),
        seed=request.seed,
    )
    return notebook, layout, plan


def plan_extraction(request: ExtractionRequest) -> ExtractionPlan:
    """The preview of an extraction; nothing is written (:mod:`.preview`)."""
    from mlops_kernel.notebook.preview import plan_extraction as preview

    return preview(request)


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _source_key(request: ExtractionRequest, notebook: Notebook, plan: ModulePlan) -> str:
    from mlops_kernel import __version__

    payload = {
        "cells": [notebook.cells[i].source for i in plan.selected],
        "tags": [list(notebook.cells[i].tags) for i in plan.selected],
        "metrics": request.metrics,
        "params": request.params,
        "seed": request.seed,
        "tool": __version__,
    }
    return _sha256(json.dumps(payload, sort_keys=True, default=str).encode())


def _ensure_repository(project: Path, git_init: bool) -> Path:
    root = gitrepo.repository_root(project)
    if root is not None:
        return root
    if not git_init:
        raise VersioningError(
            f"{project} is not a git repository: run 'git init' there, or let mlops do it "
            f"(mlops extract --yes)"
        )
    return gitrepo.init(project)


def _unchanged(layout: Layout, repo: Path, key: str) -> dict[str, object] | None:
    """The previous extraction record when nothing it depends on has changed."""
    record_file = layout.project / layout.fixtures_path / "extraction.json"
    module_file = layout.project / layout.module_path
    try:
        record = json.loads(record_file.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("source_key") != key or not module_file.exists():
        return None
    paths = [layout.project / p for p in layout.written() if (layout.project / p).exists()]
    return record if gitrepo.is_clean(repo, paths) else None


def capture_plan_for(plan: ModulePlan, request: ExtractionRequest) -> object:
    import ast

    from mlops_kernel.notebook.capture import CapturePlan, StepSpec

    # Each step runs the cells since the previous step (display-only ones included,
    # as the notebook did) up to its own last cell; cells after the last step only
    # display things and are not run, so they cannot change the captured outputs.
    specs: list[StepSpec] = []
    remaining = list(plan.selected)
    for step in plan.steps:
        cells = [c for c in remaining if c <= step.cells[-1]]
        remaining = [c for c in remaining if c not in cells]
        specs.append(StepSpec(step.name, tuple(cells), tuple(step.inputs), tuple(step.outputs)))
    sources = {i: plan.notebook.cells[i].source for i in plan.selected}
    if plan.parameters_cell is not None:
        units = plan.units[plan.parameters_cell]
        sources[plan.parameters_cell] = "\n".join(u.text for u in units if u.kind != "param")
    values = {f.name: ast.literal_eval(f.factory or f.default) for f in plan.params}
    path = plan.notebook.path
    assert path is not None
    return CapturePlan(
        notebook=path,
        steps=tuple(specs),
        cell_sources=sources,
        params=values,
        seed=int(values.get("seed", request.seed)),
        seed_torch=plan.seed_torch,
        size_cap_bytes=int(request.fixture_cap_mb * 1_000_000),
    )


def _run_tests(staging: Path, test_path: Path) -> int:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(staging), env.get("PYTHONPATH")]))
    env.setdefault("MPLBACKEND", "Agg")
    # No colour: with FORCE_COLOR=1 in the environment the count below would not parse.
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--color=no",
        str(test_path),
    ]
    try:
        result = subprocess.run(
            command, cwd=staging, env=env, capture_output=True, text=True, timeout=TEST_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        raise GeneratedTestsFailed(
            f"the generated tests took longer than {TEST_TIMEOUT_S} s", ""
        ) from None
    output = (result.stdout + result.stderr)[-6000:]
    if result.returncode != 0:
        raise GeneratedTestsFailed(
            "the generated tests do not pass against the generated module, so nothing was "
            "written; this is a bug in the extraction or code that behaves differently outside "
            "the notebook (see the output)",
            output,
        )
    summary = [line for line in output.splitlines() if " passed" in line]
    digits = summary[-1].split(" passed")[0].split()[-1] if summary else "0"
    return int(digits) if digits.isdigit() else 0


_CONFTEST = '''"""Puts the project root on sys.path: tests import its packages (jupyter-mlops)."""
'''


def _stage(layout: Layout, staging: Path) -> Path:
    """A mirror of the project (links), so generated tests see its data files as they will."""
    from mlops_kernel.notebook.capture import scratch_workdir

    scratch_workdir(layout.project, staging)
    for relative in (layout.module_path.parent, layout.test_path.parent, layout.fixtures_path):
        _real_directory(staging, relative, layout.project)
    fixtures = staging / layout.fixtures_path
    shutil.rmtree(fixtures)  # links to the previous capture: the new one replaces them
    for relative in (layout.module_path, layout.test_path, layout.init_path, layout.conftest_path):
        if (staging / relative).is_symlink():  # written anew here, never through the link
            (staging / relative).unlink()
    return staging


def _real_directory(staging: Path, relative: Path, project: Path) -> None:
    """Make ``staging/relative`` a real folder (never a link into the project)."""
    from mlops_kernel.notebook.capture import scratch_workdir

    current = staging
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            current.unlink()
            current.mkdir()
            scratch_workdir(project / current.relative_to(staging), current)
        current.mkdir(exist_ok=True)


def _write(path: Path, text: str) -> None:
    """Write a staged file, replacing a link to the project's copy rather than writing through."""
    if path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _inside(layout: Layout, notebook: Path) -> bool:
    folder = notebook.parent.resolve()
    return folder == layout.project or layout.project in folder.parents


def tests_notebook_dir(layout: Layout, notebook: Path) -> tuple[str, str | None]:
    """(the folder the tests mirror, the subfolder they run in).

    A notebook inside the project runs in its own subfolder of a mirror of the whole
    project, so ``../data/train.csv`` resolves as it did for the author.
    """
    tests = (layout.project / layout.test_path).parent
    if _inside(layout, notebook):
        sub = os.path.relpath(notebook.parent.resolve(), layout.project)
        return os.path.relpath(layout.project, tests), (
            None if sub == "." else Path(sub).as_posix()
        )
    return str(notebook.parent.resolve()), None


def _capture_workdir(layout: Layout, notebook: Path, scratch: Path) -> Path:
    """Where the notebook runs for the capture: its folder inside a mirror of its project."""
    from mlops_kernel.notebook.capture import scratch_workdir

    if not _inside(layout, notebook):
        return scratch_workdir(notebook.parent, scratch)
    scratch_workdir(layout.project, scratch)
    return scratch / notebook.parent.resolve().relative_to(layout.project)


def _install(staging: Path, layout: Layout) -> None:
    """Copy the staged files into the project (fixtures replaced as a whole)."""
    project = layout.project
    for relative in (layout.module_path, layout.test_path):
        target = project / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(staging / relative, target)
    for relative, content in ((layout.init_path, ""), (layout.conftest_path, _CONFTEST)):
        if not (project / relative).exists():
            (project / relative).write_text(content)
    fixtures = project / layout.fixtures_path
    if fixtures.exists():
        shutil.rmtree(fixtures)
    shutil.copytree(staging / layout.fixtures_path, fixtures)


def _report(progress: Progress | None, stage: str, done: int, total: int, message: str) -> None:
    if progress is not None:
        progress(ExtractionProgress(stage, done, total, message))


def _commit_message(layout: Layout, plan: ModulePlan, notebook_hash: str, tests: int) -> str:
    path = plan.notebook.path
    cells = ", ".join(str(c + 1) for c in plan.selected)
    return (
        f"Extract {layout.module} from {path.name if path else 'a notebook'} (cells {cells})\n\n"
        f"Generated by jupyter-mlops: {len(plan.steps)} steps, {tests} passing tests.\n"
        f"Notebook: {path} ({notebook_hash})\n"
    )


def extract(request: ExtractionRequest, progress: Progress | None = None) -> ExtractionResult:
    """Turn the selected cells into a tested module, committed to git.

    Raises NotebookError subclasses: NotebookFormatError and SelectionError before
    anything runs, VersioningError when the project is not a repository (and
    ``git_init`` is false), CellExecutionError when the notebook fails in a fresh
    kernel, GeneratedTestsFailed when the generated tests do not pass.
    """
    from mlops_kernel.notebook.capture import run_capture
    from mlops_kernel.notebook.testgen import write_tests

    _report(progress, "analyse", 0, 1, "analysing the notebook")
    notebook, layout, plan = plan_request(request)
    assert notebook.path is not None
    repo = _ensure_repository(layout.project, request.git_init)
    notebook_hash = _sha256(notebook.path.read_bytes())
    cell_ids = [notebook.cells[i].cell_id or f"index-{i}" for i in plan.selected]
    key = _source_key(request, notebook, plan)
    findings = extraction_findings(plan)
    module_file = layout.project / layout.module_path
    previous = _unchanged(layout, repo, key)
    if previous is not None:
        content = module_file.read_bytes()
        head = gitrepo.head(repo)
        return ExtractionResult(
            notebook=str(notebook.path), project=str(layout.project), module=layout.module,
            module_path=str(layout.module_path), test_path=str(layout.test_path),
            entry_point=layout.entry_point, content_hash=_sha256(content),
            notebook_hash=notebook_hash, cell_ids=cell_ids, git_sha=head or None, changed=False,
            metrics=dict(previous.get("metrics", {})),  # type: ignore[call-overload]
            tests_passed=int(previous.get("tests_passed", 0)),  # type: ignore[call-overload]
            findings=findings,
        )  # fmt: skip
    old_source = module_file.read_text() if module_file.exists() else ""
    with tempfile.TemporaryDirectory(prefix="mlops-extract-") as tmp:
        staging = _stage(layout, Path(tmp) / "project")
        fixtures = staging / layout.fixtures_path
        fixtures.mkdir(parents=True)
        workdir = _capture_workdir(layout, notebook.path, Path(tmp) / "work")
        capture_plan = capture_plan_for(plan, request)

        def on_cell(done: int, total: int, message: str) -> None:
            _report(progress, "run", done, total, message)

        capture = run_capture(capture_plan, fixtures, workdir, on_cell)  # type: ignore[arg-type]
        final = set(plan.steps[-1].outputs)
        metric_names = [name for name in capture.final_values if name in final]
        numbers = {c: single_number(text) for c, text in capture.displayed.items()}
        shown = show_displayed(
            plan,
            {c: v for c, v in numbers.items() if v is not None},
            set(capture.printed) | set(metric_names),
        )
        source, problems = tidy(
            module_source(plan, module=layout.module, metric_names=metric_names),
            layout.module_path.name,
        )
        for problem in problems:
            findings.append(
                Finding(id="generated-code-style", severity=Severity.info, cell=None,
                        message=problem, lesson="The generated module keeps your code as written; "
                        "tidy this line in the notebook and extract again.")
            )  # fmt: skip
        init = layout.project / layout.init_path
        _write(staging / layout.init_path, init.read_text() if init.exists() else "")
        _write(staging / layout.module_path, source)
        conftest = layout.project / layout.conftest_path
        _write(
            staging / layout.conftest_path, conftest.read_text() if conftest.exists() else _CONFTEST
        )
        tests_dir, tests_subdir = tests_notebook_dir(layout, notebook.path)
        write_tests(
            staging / layout.test_path,
            module=layout.module,
            steps=capture_plan.steps,  # type: ignore[attr-defined]
            capture=capture,
            fixtures_rel=str(layout.fixtures_path.relative_to("tests")),
            seed=capture_plan.seed,  # type: ignore[attr-defined]
            seed_torch=plan.seed_torch,
            notebook=notebook.path.name,
            notebook_dir_rel=tests_dir,
            workdir_subdir=tests_subdir,
            module_names=plan.module_names,
        )
        _report(progress, "tests", 0, 1, "running the generated tests")
        tests_passed = _run_tests(staging, layout.test_path)
        metrics = {label: values[-1] for label, values in capture.printed.items() if values}
        metrics.update({name: capture.final_values[name] for name in metric_names})
        metrics.update(shown)
        record = {"source_key": key, "metrics": metrics, "tests_passed": tests_passed}
        (fixtures / "extraction.json").write_text(json.dumps(record, indent=2, sort_keys=True))
        _report(progress, "write", 0, 1, f"writing {layout.module_path} and its tests")
        _install(staging, layout)
    _report(progress, "commit", 0, 1, "committing to git")
    paths = [layout.project / p for p in layout.written()]
    sha, _committed = gitrepo.commit(
        repo, paths, _commit_message(layout, plan, notebook_hash, tests_passed)
    )
    import difflib

    diff = "".join(
        difflib.unified_diff(
            old_source.splitlines(keepends=True), source.splitlines(keepends=True),
            f"a/{layout.module_path}", f"b/{layout.module_path}",
        )
    )  # fmt: skip
    return ExtractionResult(
        notebook=str(notebook.path), project=str(layout.project), module=layout.module,
        module_path=str(layout.module_path), test_path=str(layout.test_path),
        entry_point=layout.entry_point, content_hash=_sha256(module_file.read_bytes()),
        notebook_hash=notebook_hash, cell_ids=cell_ids, git_sha=sha or None,
        changed=source != old_source, diff=diff if old_source else "",
        metrics=metrics, tests_passed=tests_passed, findings=findings,
    )  # fmt: skip
