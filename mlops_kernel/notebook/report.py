"""Turning analysis and plans into the wire schemas (lint reports, previews)."""

from __future__ import annotations

import ast
from pathlib import Path

from mlops_kernel.notebook.analysis import NotebookAnalysis
from mlops_kernel.notebook.planner import ModulePlan
from mlops_kernel.notebook.schemas import (
    CellSummary,
    Finding,
    LintReport,
    Readiness,
    Severity,
    StepPlan,
)


def cell_summaries(analysis: NotebookAnalysis) -> list[CellSummary]:
    summaries: list[CellSummary] = []
    for info in analysis.cells:
        depends = {analysis.producer(info.index, name) for name in info.reads}
        summaries.append(
            CellSummary(
                index=info.index,
                cell_id=info.cell.cell_id,
                kind=info.cell.kind,
                execution_count=info.cell.execution_count,
                defines=sorted(info.defines),
                reads=sorted(n for n in info.reads if not analysis.is_external(n)),
                imports=sorted(info.imports),
                magics=[m.text for m in info.magics],
                depends_on=sorted(d for d in depends if d is not None),
                syntax_error=(
                    f"line {info.syntax_error[0]}: {info.syntax_error[1]}"
                    if info.syntax_error
                    else None
                ),
            )
        )
    return summaries


def lint_report(
    analysis: NotebookAnalysis, project: Path | None, findings: list[Finding], readiness: Readiness
) -> LintReport:
    path = analysis.notebook.path
    return LintReport(
        notebook=str(path) if path else "",
        findings=findings,
        readiness=readiness,
        cells=cell_summaries(analysis),
    )


def step_plans(plan: ModulePlan) -> list[StepPlan]:
    dropped: dict[int, list[str]] = {}
    for unit in plan.dropped:
        dropped.setdefault(unit.cell, []).append(
            f"cell {unit.cell + 1}: {unit.statement_text} ({unit.reason})"
        )
    result: list[StepPlan] = []
    for step in plan.steps:
        lines = [line for cell in step.cells for line in dropped.pop(cell, [])]
        result.append(
            StepPlan(
                name=step.name,
                cells=step.cells,
                inputs=step.inputs,
                outputs=step.outputs,
                dropped=lines,
            )
        )
    if dropped and result:  # cells that became no step at all (only plots)
        result[-1].dropped.extend(line for lines in dropped.values() for line in lines)
    return result


def extraction_findings(plan: ModulePlan) -> list[Finding]:
    """What extraction itself wants the user to know (added cells, dropped display code)."""
    findings: list[Finding] = []
    for cell, names in sorted(plan.added.items()):
        findings.append(
            Finding(
                id="selection-extended",
                severity=Severity.info,
                cell=cell,
                cell_id=plan.notebook.cells[cell].cell_id,
                message=f"cell {cell + 1} was added to the selection: it defines "
                + ", ".join(names),
                lesson="A module must run on its own, so the cells that compute what your "
                "selection reads come with it. Select them yourself to see the whole pipeline.",
            )
        )
    for info in plan.production.cells:
        for node in ast.walk(info.tree) if info.tree is not None else ():
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = sorted(
                    {n for g in ast.walk(node) if isinstance(g, ast.Global) for n in g.names}
                )
                if names:
                    findings.append(
                        Finding(
                            id="global-state",
                            severity=Severity.warning,
                            cell=info.index,
                            cell_id=info.cell.cell_id,
                            message=f"function {node.name} in cell {info.index + 1} changes "
                            f"global {', '.join(names)}",
                            lesson="A function that changes globals hides where a value comes "
                            "from: in the module its changes stay inside the step that defines "
                            "it. Return the new value instead and assign it where you call it.",
                        )
                    )
    for note in plan.notes:
        findings.append(
            Finding(
                id="star-import-resolved",
                severity=Severity.info,
                cell=None,
                message=note,
                lesson="A star import hides where names come from and can silently replace "
                "your own; the module imports the names it uses by name instead.",
            )
        )
    count = len(plan.dropped)
    if count:
        findings.append(
            Finding(
                id="display-dropped",
                severity=Severity.info,
                cell=None,
                message=f"{count} display-only statement(s) left out of the module "
                "(plots, bare expressions); see each step's 'dropped' list",
                lesson="Production code should compute, not draw: figures and echoed values "
                "slow training down and need a display. Save a plot as an artifact if you need it.",
            )
        )
    return findings
