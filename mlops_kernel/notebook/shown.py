"""Numbers a notebook *displays* (``model.score(X_test, y_test)`` as a cell's last line)
become printed metrics of the module.

A cell's last expression is how many notebooks show their result, but a module
discards it. When the fresh-kernel run showed a single number there, the statement
becomes ``print("score:", model.score(X_test, y_test))``, so the module reports the
same value the notebook showed, and the run logs it as a metric.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from mlops_kernel.notebook.defuse import BUILTINS, def_use
from mlops_kernel.notebook.planner import ModulePlan
from mlops_kernel.notebook.steps import Step

MAX_PARTS = 3


def label_of(expr: ast.expr) -> str:
    """``cross_val_score(...).mean()`` -> ``cross_val_score_mean``; ``m.score()`` -> ``score``;
    ``acc`` -> ``acc``; ``grid.best_score_`` -> ``best_score``."""
    if isinstance(expr, ast.Name):
        return expr.id.strip("_").lower() or "value"
    if isinstance(expr, ast.Attribute):
        return expr.attr.strip("_").lower() or "value"
    parts: list[str] = []
    node: ast.expr = expr
    while isinstance(node, ast.Call | ast.Attribute | ast.Subscript):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                parts.append(func.attr)
                node = func.value
                continue
            if isinstance(func, ast.Name):
                parts.append(func.id)
            break
        node = node.value
    label = "_".join(reversed(parts[:MAX_PARTS])).lower().strip("_")
    return label if label and label[0].isalpha() else "value"


def _available(plan: ModulePlan, step: Step, cell: int, expr: ast.expr) -> bool:
    """Everything ``expr`` reads exists in the step's function when the cell ends."""
    known = set(step.inputs) | plan.module_names | BUILTINS
    for index in step.cells:
        if index > cell:
            break
        known |= plan.production.by_index(index).defines
    reads = def_use(ast.Module(body=[ast.Expr(expr)], type_ignores=[])).reads
    return reads <= known


def show_displayed(
    plan: ModulePlan, displayed: Mapping[int, float], taken: set[str]
) -> dict[str, float]:
    """Rewrite the last statement of cells that displayed a number; returns label -> value.

    A print binds nothing, and a dropped expression is brought back only when all it
    reads already exists in its step, so the steps' inputs and outputs (and the
    captured fixtures) stay valid.
    """
    shown: dict[str, float] = {}
    touched: set[int] = set()
    step_of = {cell: step for step in plan.steps for cell in step.cells}
    for cell, value in sorted(displayed.items()):
        units = plan.units.get(cell)
        step = step_of.get(cell)
        if not units or step is None or len(units[-1].nodes) != 1:
            continue
        node = units[-1].node
        if not isinstance(node, ast.Expr) or units[-1].kind not in ("code", "dropped"):
            continue
        if not isinstance(node.value, ast.Call | ast.Name | ast.Attribute | ast.Subscript):
            continue
        if units[-1].kind == "dropped" and not _available(plan, step, cell, node.value):
            continue
        segment = ast.get_source_segment(plan.analysis.by_index(cell).code, node.value)
        position = units[-1].text.rfind(segment) if segment else -1
        if segment is None or position < 0:
            continue
        label = base = label_of(node.value)
        number = 2
        while label in taken:
            label, number = f"{base}_{number}", number + 1
        taken.add(label)
        unit = units[-1]
        end = position + len(segment)
        unit.text = f'{unit.text[:position]}print("{label}:", {segment}){unit.text[end:]}'
        unit.kind, unit.reason = "code", ""
        shown[label] = value
        touched.add(cell)
    for step in plan.steps:
        if touched & set(step.cells):
            step.code = "\n\n".join(
                "\n".join(u.text for u in plan.units[i] if u.kind == "code").strip("\n")
                for i in step.cells
            )
    return shown
