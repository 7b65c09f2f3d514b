"""Cutting the kept code into steps, naming them, and finding their inputs and outputs.

Steps come from cells tagged ``step:<name>``; else from markdown headings (when
they split the selection in two or more); else every cell is a step.
"""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass, field

from mlops_kernel.notebook.analysis import NotebookAnalysis
from mlops_kernel.notebook.errors import SelectionError
from mlops_kernel.notebook.source import Notebook

_STOP = {"a", "an", "the", "of", "and", "vs", "for", "with", "to", "in", "on", "our", "its", "by"}
MAX_WORDS = 4


@dataclass
class Step:
    name: str
    title: str | None
    cells: list[int]
    code: str
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


def slug(text: str, max_words: int = MAX_WORDS) -> str:
    """``'## 1. Data (preparing and loading)'`` -> ``'data_preparing_loading'``."""
    words = re.findall(r"[a-z][a-z0-9]*", text.lower())
    kept = [w for w in words if w not in _STOP] or words
    return "_".join(kept[:max_words])


def _heading(source: str) -> str | None:
    for line in source.splitlines():
        match = re.match(r"^\s{0,3}#{1,6}\s+(.*\S)", line)
        if match:
            text = re.sub(r"\]\([^)]*\)", "]", match.group(1))
            return re.sub(r"[*`\[\]]", "", text).strip() or None
    return None


def _comment_title(code: str) -> str | None:
    for line in code.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#") and len(stripped.split()) <= 10:
            return stripped.lstrip("#").strip() or None
        return None
    return None


def _groups(notebook: Notebook, cells: list[int]) -> list[tuple[str | None, list[int]]]:
    chosen = set(cells)
    tagged = {
        c.index: t.split(":", 1)[1]
        for c in notebook.cells
        if c.index in chosen
        for t in c.tags
        if t.startswith("step:") and t[5:].strip()
    }
    groups: list[tuple[str | None, list[int]]] = []
    if tagged:
        for index in cells:
            if index in tagged or not groups:
                groups.append((tagged.get(index), [index]))
            else:
                groups[-1][1].append(index)
        return groups
    title: str | None = None
    for cell in notebook.cells:
        if cell.kind == "markdown":
            heading = _heading(cell.source)
            if heading:
                title = heading
                groups.append((title, []))
        elif cell.index in chosen:
            if not groups:
                groups.append((None, []))
            groups[-1][1].append(cell.index)
    groups = [g for g in groups if g[1]]
    if len(groups) >= 2:
        return groups
    return [(None, [index]) for index in cells]


def _unique(base: str, taken: set[str]) -> str:
    base = base if base and base[0].isalpha() else f"step_{base}".rstrip("_")
    name = base
    if keyword.iskeyword(name) or name in taken:
        name = f"{base}_step"
    number = 2
    while keyword.iskeyword(name) or name in taken:
        name = f"{base}_step{number}"
        number += 1
    taken.add(name)
    return name


def _order(names: set[str], code: str) -> list[str]:
    def first(name: str) -> tuple[int, str]:
        match = re.search(rf"(?<![\w.]){re.escape(name)}\b", code)
        return (match.start() if match else len(code), name)

    return sorted(names, key=first)


def group_steps(
    notebook: Notebook,
    production: NotebookAnalysis,
    selected: list[int],
    *,
    module_names: set[str],
    param_names: set[str],
    final_reads: set[str],
    taken: set[str],
    plot_names: set[str] | None = None,
) -> list[Step]:
    """The steps of the module, with their inputs and outputs (empty steps left out)."""
    with_code = [i for i in selected if production.by_index(i).code.strip()]
    taken = set(taken)
    steps: list[Step] = []
    for title, cells in _groups(notebook, with_code):
        code = "\n\n".join(production.by_index(i).code.strip("\n") for i in cells)
        if not code.strip():
            continue
        label = title or _comment_title(production.by_index(cells[0]).code)
        name = _unique(slug(label) if label else f"cell_{cells[0] + 1}", taken)
        steps.append(Step(name, title, cells, code))
    universe = [i for step in steps for i in step.cells]
    last_definer: dict[str, int] = {}
    for index in universe:
        for name in production.by_index(index).defines:
            last_definer[name] = index
    for position, step in enumerate(steps):
        inputs, outputs = production.selection_io(step.cells, universe)
        unknown = []
        kept_inputs = set()
        for name in inputs:
            if name in module_names:
                continue
            producer = production.producer(step.cells[0], name)
            if producer is None and name not in param_names:
                unknown.append(name)
            kept_inputs.add(name)
        if unknown:
            raise SelectionError(
                f"step {step.name} (cell {step.cells[0] + 1}) reads {', '.join(sorted(unknown))}, "
                f"which only display code defines; assign it in a cell that computes something"
            )
        wanted = set(outputs)
        for name in final_reads:
            if last_definer.get(name) in step.cells:
                wanted.add(name)
        if position == len(steps) - 1:
            wanted |= _final_values(production, step.cells) - (plot_names or set())
        step.inputs = _order(kept_inputs, step.code)
        step.outputs = _order(wanted - module_names, step.code)
    return steps


def _final_values(production: NotebookAnalysis, cells: list[int]) -> set[str]:
    """What the last step computes: its definitions, less functions, classes and ``_``."""
    names: set[str] = set()
    loop_targets: set[str] = set()
    for index in cells:
        info = production.by_index(index)
        names -= info.deletes  # ``del x`` in a later cell of the step: x is gone
        names |= info.defines - info.functions - info.classes - set(info.imports) - info.deletes
        if info.tree is not None:
            for node in ast.walk(info.tree):
                if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                    loop_targets |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    return {n for n in names - loop_targets if not n.startswith("_")}
