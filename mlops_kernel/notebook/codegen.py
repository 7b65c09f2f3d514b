"""Writing the module's source from a :class:`ModulePlan`.

The generated module reads like a person wrote it: the author's imports at the
top, their functions and classes next, a ``Params`` dataclass, one function per
step holding the author's own lines and comments, ``run`` chaining the steps in
notebook order, and ``main`` for the command line and ``mlops run``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mlops_kernel.notebook.planner import ModulePlan
from mlops_kernel.notebook.steps import Step
from mlops_kernel.notebook.units import indent, strip_blank_edges

_TRIPLE = '"' * 3


def _cells_text(cells: Sequence[int]) -> str:
    numbers = [str(c + 1) for c in cells]
    if len(numbers) > 8:
        return f"{len(numbers)} cells, {numbers[0]} to {numbers[-1]},"
    return ("cell " if len(numbers) == 1 else "cells ") + ", ".join(numbers)


def _returns(names: Sequence[str]) -> str:
    return ", ".join(names)


_GLOBAL = re.compile(r"^(\s*)global\s+([\w\s,]+?)\s*(#.*)?$")


def localise_globals(code: str, local_names: set[str]) -> str:
    """``global x`` inside a function of a step means the step's ``x``: make it ``nonlocal``.

    In the notebook a function's ``global`` reached the notebook's namespace; in the
    module that namespace is the step function's locals. A ``global`` at the top of a
    cell did nothing there and is left out.
    """
    lines = []
    for line in code.splitlines():
        match = _GLOBAL.match(line)
        if match is None:
            lines.append(line)
            continue
        indent, names = match.group(1), [n.strip() for n in match.group(2).split(",")]
        if not indent:
            continue
        if all(name in local_names for name in names):
            lines.append(f"{indent}nonlocal {', '.join(names)}")
        else:
            lines.append(line)
    return "\n".join(lines)


def step_source(step: Step, local_names: set[str] | None = None) -> str:
    title = f": {step.title}" if step.title else ""
    end = "" if title[-1:] in (".", "?", "!") else "."
    text = f"Notebook {_cells_text(step.cells)}{title}{end}".replace("\\", "\\\\")
    doc = _TRIPLE + text.replace(_TRIPLE, "'''") + _TRIPLE
    code = strip_blank_edges(step.code)
    if "global" in code:
        code = localise_globals(code, (local_names or set()) | set(step.inputs))
    body = indent(code)
    lines = [f"def {step.name}({', '.join(step.inputs)}):", f"    {doc}", body]
    if step.outputs:
        lines.append(f"    return {_returns(step.outputs)}")
    return "\n".join(lines)


def _run_source(plan: ModulePlan, metric_names: Sequence[str]) -> str:
    params = {f.name for f in plan.params}
    holder = plan.params_name
    available: set[str] = set()
    lines = [
        f"def run({holder}: Params) -> dict[str, object]:",
        '    """Run the steps in notebook order; returns the values of the final step."""',
    ]
    for step in plan.steps:
        args = [name if name in available else f"{holder}.{name}" for name in step.inputs]
        for name in step.inputs:
            if name not in available and name not in params:
                raise AssertionError(f"step {step.name} reads {name!r}, which nothing provides")
        call = f"{step.name}({', '.join(args)})"
        if step.outputs:
            lines.append(f"    {_returns(step.outputs)} = {call}")
            available.update(step.outputs)
        else:
            lines.append(f"    {call}")
    entries = [f'"{name}": {name}' for name in metric_names if name in available]
    for metric in plan.metrics:
        entries.append(f'"{metric.name}": {metric.expression}')
    lines.append("    return {" + ", ".join(entries) + "}")
    return "\n".join(lines)


def module_source(plan: ModulePlan, *, module: str, metric_names: Sequence[str] = ()) -> str:
    """The module text (before formatting); ``metric_names`` are final values to return."""
    notebook = plan.notebook.path.name if plan.notebook.path else "the notebook"
    header = [
        f'"""Training pipeline extracted from {notebook} by jupyter-mlops.',
        "",
        f"Notebook {_cells_text(plan.selected)} became the steps below. Train with",
        f"``mlops run {module}:main`` or ``python -m {module} --seed 1``.",
        '"""',
        "",
        "import dataclasses",
    ]
    parts = ["\n".join(header)]
    imports = [strip_blank_edges(u.text) for u in plan.imports]
    imports.append("from mlops_kernel.pipeline import parse_params, run_pipeline")
    parts.append("\n".join(imports))
    for unit in plan.hoisted:
        parts.append(strip_blank_edges(unit.text))
    fields = "\n".join(f"    {f.declaration()}" for f in plan.params)
    parts.append(
        "@dataclasses.dataclass\nclass Params:\n"
        '    """Parameters of a run: ``--name value`` on the command line, or run params."""\n\n'
        + fields
    )
    for step in plan.steps:
        local_names = {n for i in step.cells for n in plan.production.by_index(i).defines}
        parts.append(step_source(step, local_names))
    parts.append(_run_source(plan, metric_names))
    parts.append(
        "def main(argv: list[str] | None = None, **overrides: object) -> None:\n"
        '    """Train: parameters from the command line, a JSON file or `mlops run`."""\n'
        "    run_pipeline(run, parse_params(Params, argv, overrides))"
    )
    parts.append('if __name__ == "__main__":\n    main()')
    return "\n\n\n".join(parts) + "\n"
