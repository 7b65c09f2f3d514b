"""A small stand-in for the kernel's ``mlops_kernel.notebook.extract``, for daemon tests.

It keeps the contract (signatures, schemas, exceptions) and nothing else: it
reads the notebook's JSON, and what a cell's source says decides what happens:

- ``ERROR`` / ``WARN``: a lint finding of that severity for the cell;
- ``raise``: extracting fails in that cell (CellExecutionError, with a lesson);
- ``FAILTEST``: the generated tests fail (GeneratedTestsFailed);
- ``HOLD``: extracting waits (bounded) until a file ``.go`` exists in the project.

``extract`` writes ``PACKAGE/NAME.py`` (importable, with a ``main``), its package's
``__init__.py`` and ``tests/test_NAME.py``, and hashes the module as the kernel
does (``sha256:`` + hex SHA-256 of the file's bytes). It does not run git: with
``git_init`` it creates an empty ``.git`` folder, and its "commit" is a made-up sha.

``install()`` makes ``mlops_daemon.notebooks.kernel()`` return this module; the
``fake_kernel_site/sitecustomize.py`` beside it does that in a daemon subprocess
(put that folder on its PYTHONPATH, see ``env()``).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlops_kernel.notebook.errors import (
    CellExecutionError,
    GeneratedTestsFailed,
    NotebookFormatError,
    SelectionError,
)
from mlops_kernel.notebook.extract import ExtractionProgress
from mlops_kernel.notebook.schemas import (
    CellSummary,
    CheckItem,
    ExtractionPlan,
    ExtractionRequest,
    ExtractionResult,
    Finding,
    LintReport,
    Readiness,
    Severity,
    StepPlan,
)

SITE_DIR = Path(__file__).resolve().parent / "fake_kernel_site"
LESSON = "A cell that fails in a fresh kernel relied on state from an earlier session."


def env() -> dict[str, str]:
    """Environment for a process (daemon or CLI) that should use this fake."""
    rest = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": str(SITE_DIR) + (os.pathsep + rest if rest else "")}


def install() -> None:
    import mlops_daemon.notebooks as notebooks

    notebooks.kernel = lambda: sys.modules[__name__]  # type: ignore[assignment,return-value]


# -- notebooks -------------------------------------------------------------------------


def _cells(path: str | Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NotebookFormatError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or int(data.get("nbformat", 0)) < 4:
        raise NotebookFormatError(f"{path} is not an nbformat 4 notebook")
    cells = data.get("cells") or []
    if not cells:
        raise NotebookFormatError(f"{path} has no cells")
    return [dict(c, source="".join(c.get("source", ""))) for c in cells]


def _findings(cells: list[dict[str, Any]]) -> list[Finding]:
    out = []
    for i, cell in enumerate(cells):
        for word, severity in (("ERROR", Severity.error), ("WARN", Severity.warning)):
            if word in cell["source"]:
                out.append(
                    Finding(
                        id=f"fake-{severity.value}",
                        severity=severity,
                        cell=i,
                        cell_id=cell.get("id"),
                        line=1,
                        message=f"the cell says {word}",
                        lesson=f"Production code must not say {word}. Remove it.",
                    )
                )
    return out


def _summaries(cells: list[dict[str, Any]]) -> list[CellSummary]:
    return [
        CellSummary(
            index=i,
            cell_id=c.get("id"),
            kind=c.get("cell_type", "code"),
            execution_count=c.get("execution_count"),
            defines=[],
            reads=[],
            imports=[],
            magics=[],
            depends_on=[],
        )
        for i, c in enumerate(cells)
    ]


def _readiness(findings: list[Finding]) -> Readiness:
    errors = sum(f.severity == Severity.error for f in findings)
    return Readiness(
        score=max(0, 100 - 40 * errors),
        checklist=[
            CheckItem(id="no-errors", label="no lint errors", passed=errors == 0),
            CheckItem(id="seeded", label="randomness is seeded", passed=True, detail="seed 0"),
        ],
    )


def lint_notebook(path: str | Path, project: str | Path | None = None) -> LintReport:
    cells = _cells(path)
    findings = _findings(cells)
    return LintReport(
        notebook=str(path),
        findings=findings,
        readiness=_readiness(findings),
        cells=_summaries(cells),
    )


# -- plan and extract ---------------------------------------------------------------------


def _layout(request: ExtractionRequest) -> tuple[Path, str, str, str, str]:
    project = Path(request.project or Path(request.notebook).parent)
    package = request.package or "pkg"
    name = request.name or re.sub(r"\W", "_", Path(request.notebook).stem).lower()
    return project, package, name, f"{package}/{name}.py", f"tests/test_{name}.py"


def _selected(request: ExtractionRequest, cells: list[dict[str, Any]]) -> list[int]:
    if request.cells is None:
        return [i for i, c in enumerate(cells) if c.get("cell_type", "code") == "code"]
    bad = [i for i in request.cells if i >= len(cells)]
    if bad:
        raise SelectionError(f"the notebook has {len(cells)} cells; there is no cell {bad[0] + 1}")
    return list(request.cells)


def _source(cells: list[dict[str, Any]], selected: list[int], name: str) -> str:
    lines = [f'"""Extracted by the fake kernel from cells {[i + 1 for i in selected]}."""', ""]
    for i in selected:
        lines += [f"# cell {i + 1}: {line}" for line in cells[i]["source"].splitlines()]
    lines += ["", "", "def main() -> None:", f"    print('trained {name}')", ""]
    return "\n".join(lines)


def plan_extraction(request: ExtractionRequest) -> ExtractionPlan:
    cells = _cells(request.notebook)
    selected = _selected(request, cells)
    project, package, name, module_path, test_path = _layout(request)
    findings = _findings(cells)
    return ExtractionPlan(
        notebook=request.notebook,
        project=str(project),
        package=package,
        name=name,
        module_path=module_path,
        test_path=test_path,
        steps=[StepPlan(name="step", cells=selected, inputs=[], outputs=[], dropped=[])],
        inputs=[],
        outputs=[],
        params={k: type(v).__name__ for k, v in request.params.items()},
        module_source=_source(cells, selected, name),
        findings=findings,
        readiness=_readiness(findings),
        cells=_summaries(cells),
    )


def _hold(project: Path) -> None:
    deadline = time.monotonic() + 60
    while not (project / ".go").exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def extract(
    request: ExtractionRequest,
    progress: Callable[[ExtractionProgress], None] | None = None,
) -> ExtractionResult:
    report = progress or (lambda _: None)
    cells = _cells(request.notebook)
    selected = _selected(request, cells)
    project, package, name, module_path, test_path = _layout(request)
    report(ExtractionProgress("analyse", 1, 1, "analysed the notebook"))
    for n, i in enumerate(selected, 1):
        report(ExtractionProgress("run", n, len(selected), f"running cell {i + 1}"))
        source = cells[i]["source"]
        if "HOLD" in source:
            _hold(project)
        if "raise" in source:
            raise CellExecutionError(i, "ValueError", "boom", LESSON)
    report(ExtractionProgress("tests", 1, 1, "running the generated tests"))
    if any("FAILTEST" in cells[i]["source"] for i in selected):
        raise GeneratedTestsFailed("1 of 2 generated tests failed", "E   assert 1 == 2\n")
    report(ExtractionProgress("write", 1, 1, f"writing {module_path}"))
    text = _source(cells, selected, name)
    target = project / module_path
    before = target.read_text() if target.exists() else ""
    target.parent.mkdir(parents=True, exist_ok=True)
    (target.parent / "__init__.py").touch()
    target.write_text(text)
    (project / test_path).parent.mkdir(parents=True, exist_ok=True)
    (project / test_path).write_text(f"def test_{name}() -> None:\n    pass\n")
    changed = before != text
    report(ExtractionProgress("commit", 1, 1, "committing"))
    if request.git_init:
        (project / ".git").mkdir(exist_ok=True)
    data = target.read_bytes()
    return ExtractionResult(
        notebook=request.notebook,
        project=str(project),
        module=f"{package}.{name}",
        module_path=module_path,
        test_path=test_path,
        entry_point=f"{package}.{name}:main",
        content_hash="sha256:" + hashlib.sha256(data).hexdigest(),
        notebook_hash="sha256:" + hashlib.sha256(Path(request.notebook).read_bytes()).hexdigest(),
        cell_ids=[str(cells[i].get("id", i)) for i in selected],
        git_sha=hashlib.sha1(data).hexdigest() if changed else None,
        changed=changed,
        diff="".join(difflib.unified_diff(before.splitlines(True), text.splitlines(True))),
        metrics={"accuracy": 0.9},
        tests_passed=2,
        findings=_findings(cells),
    )


def notebook(*sources: str, markdown: tuple[int, ...] = (), nbformat: int = 4) -> dict[str, Any]:
    """A notebook whose cells have these sources (the ones at ``markdown`` are markdown)."""
    cells = []
    for i, source in enumerate(sources):
        kind = "markdown" if i in markdown else "code"
        cell: dict[str, Any] = {"cell_type": kind, "id": f"c{i}", "metadata": {}, "source": source}
        if kind == "code":
            cell.update(execution_count=i + 1, outputs=[])
        cells.append(cell)
    return {
        "nbformat": nbformat,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "cells": cells,
    }


def write_notebook(path: Path, *sources: str, **kwargs: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook(*sources, **kwargs)))
    return path
