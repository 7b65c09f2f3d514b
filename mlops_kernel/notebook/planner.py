"""From a notebook selection to a module plan: what is kept, hoisted, dropped, and the steps.

The plan is computed from the code alone (no kernel), so previews are instant:

1. the selection grows to include the cells that define what it reads (a module must
   run on its own); names read that no cell defines are a SelectionError;
2. each cell is split into units; imports are hoisted, display-only code dropped
   (:mod:`display`), and dropped code that kept code still needs is restored;
3. the kept code is analysed again and cut into steps (:mod:`steps`), each with
   the inputs it reads and the outputs later steps need;
4. functions and classes that depend only on imports move to module level.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from mlops_kernel.notebook import display
from mlops_kernel.notebook.analysis import NotebookAnalysis, analyse
from mlops_kernel.notebook.defuse import BUILTINS, def_use
from mlops_kernel.notebook.errors import SelectionError
from mlops_kernel.notebook.params import ParamField, params_from_cell
from mlops_kernel.notebook.source import Cell, Notebook
from mlops_kernel.notebook.stars import resolve_star_imports
from mlops_kernel.notebook.steps import Step, group_steps
from mlops_kernel.notebook.units import Unit, split_units

RESERVED = frozenset({"Params", "run", "main", "parse_params", "run_pipeline", "dataclasses"})


@dataclass
class UserMetric:
    name: str
    expression: str


@dataclass
class ModulePlan:
    notebook: Notebook
    analysis: NotebookAnalysis
    selected: list[int]
    added: dict[int, list[str]]
    units: dict[int, list[Unit]]
    imports: list[Unit]
    hoisted: list[Unit]
    params: list[ParamField]
    steps: list[Step]
    metrics: list[UserMetric]
    production: NotebookAnalysis
    seed_torch: bool
    parameters_cell: int | None = None
    params_name: str = "params"
    module_names: set[str] = field(default_factory=set)
    """Names the module binds at top level (hoisted imports, functions and classes)."""
    notes: list[str] = field(default_factory=list)

    @property
    def dropped(self) -> list[Unit]:
        return [u for cell in self.selected for u in self.units[cell] if u.kind == "dropped"]


def parse_metric(text: str) -> UserMetric:
    name, sep, expression = text.partition("=")
    name = name.strip()
    if not name.isidentifier():
        raise SelectionError(f"metric {text!r}: expected NAME or NAME=EXPRESSION")
    expression = expression.strip() if sep else name
    try:
        ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise SelectionError(
            f"metric {name}: {expression!r} is not a Python expression ({exc.msg})"
        ) from None
    return UserMetric(name, expression)


def _selection(analysis: NotebookAnalysis, cells: list[int] | None) -> list[int]:
    code = {info.index for info in analysis.cells if info.code.strip()}
    if cells is None:
        return sorted(code)
    total = len(analysis.notebook.cells)
    bad = [c for c in cells if c < 0 or c >= total]
    if bad:
        shown = ", ".join(str(c + 1) for c in bad)
        raise SelectionError(f"no cell {shown}: the notebook has {total} cells")
    chosen = sorted(set(cells) & code)
    if not chosen:
        raise SelectionError("the selected cells hold no code")
    return chosen


def _check_syntax(analysis: NotebookAnalysis, selected: list[int]) -> None:
    for index in selected:
        info = analysis.by_index(index)
        if info.syntax_error:
            line, message = info.syntax_error
            raise SelectionError(
                f"cell {index + 1} has a syntax error at line {line} ({message}); "
                f"fix it in the notebook, then extract again"
            )


def _close_over_inputs(
    analysis: NotebookAnalysis, selected: list[int]
) -> tuple[list[int], dict[int, list[str]]]:
    """Add the cells that define what the selection reads (recursively)."""
    missing = analysis.missing_inputs(selected)
    if any(analysis.by_index(i).star_imports for i in selected):
        missing = {}  # names nothing defines may come from a star import (lint warns)
    later = {name: cell for name, cell in missing.items() if analysis.definers(name)}
    if later:
        parts = [
            f"'{name}' is read in cell {cell + 1} but first defined in cell "
            f"{analysis.definers(name)[0] + 1}"
            for name, cell in later.items()
        ]
        raise SelectionError(
            "; ".join(parts) + ". The notebook only works when cells run out of order (or a "
            "function reads a name defined below it): move the definition above its first "
            "use, or pass the value to the function as an argument"
        )
    if missing:
        parts = [f"'{name}' (read in cell {cell + 1})" for name, cell in missing.items()]
        raise SelectionError(
            "these names come from nowhere -- no earlier cell defines them: "
            + ", ".join(parts)
            + ". Define them in an earlier cell (or select it), or run the notebook "
            "top to bottom to find the cell that needed hidden state"
        )
    chosen = set(selected)
    added: dict[int, list[str]] = {}
    queue = list(selected)
    while queue:
        index = queue.pop()
        for name in analysis.by_index(index).reads:
            source = analysis.producer(index, name)
            if source is not None and source not in chosen:
                chosen.add(source)
                added.setdefault(source, []).append(name)
                queue.append(source)
    return sorted(chosen), {k: sorted(set(v)) for k, v in added.items()}


def _classify(
    analysis: NotebookAnalysis, selected: list[int], ctx: display.PlotContext
) -> dict[int, list[Unit]]:
    units: dict[int, list[Unit]] = {}
    for index in selected:
        info = analysis.by_index(index)
        assert info.tree is not None
        ctx.add_imports(info.imports)
        cell_units = split_units(index, info.code, info.tree)
        for unit in cell_units:
            node = unit.node
            if all(isinstance(n, ast.Import | ast.ImportFrom) for n in unit.nodes):
                unit.kind = "import"
            elif len(unit.nodes) == 1 and display.is_plot_function(node, ctx):
                assert isinstance(node, ast.FunctionDef)
                ctx.functions.add(node.name)
                unit.kind, unit.reason = "dropped", "a function that only plots"
            elif all(display.is_display_only(n, ctx) for n in unit.nodes):
                unit.kind, unit.reason = "dropped", "display only"
                for n in unit.nodes:
                    ctx.names.update(display.plot_bindings(n))
        units[index] = cell_units
    return units


def _ordered(units: dict[int, list[Unit]], selected: list[int]) -> list[Unit]:
    return [u for cell in selected for u in units[cell]]


def _restore_needed(units: dict[int, list[Unit]], selected: list[int]) -> None:
    """Bring back dropped code whose names kept code reads (e.g. ``fig, axes`` used by a loop)."""
    changed = True
    while changed:
        changed = False
        defined_by: dict[str, Unit] = {}
        kept_defined: set[str] = set()
        for unit in _ordered(units, selected):
            if unit.kind == "dropped":
                # what it binds; a method call on a frame it only showed is no new value
                for name in unit.facts.defines - unit.facts.mutates:
                    defined_by[name] = unit
                    kept_defined.discard(name)
                continue
            for name in unit.facts.reads:
                if name not in kept_defined and name in defined_by:
                    restored = defined_by[name]
                    restored.kind, restored.reason = "code", ""
                    changed = True
                    break
            if changed:
                break
            kept_defined.update(unit.facts.defines)


def _drop_plot_feeders(units: dict[int, list[Unit]], selected: list[int], keep: set[str]) -> None:
    """Remove assignments whose values only dropped plots used."""
    changed = True
    while changed:
        changed = False
        ordered = _ordered(units, selected)
        for position, unit in enumerate(ordered):
            if unit.kind != "code" or not all(isinstance(n, ast.Assign) for n in unit.nodes):
                continue
            targets = unit.facts.defines
            if not targets or targets & keep or unit.facts.mutates:
                continue
            if any(display.may_have_side_effects(n) for n in unit.nodes):
                continue
            read_by_kept = read_by_dropped = False
            for later in ordered[position + 1 :]:
                hits = later.facts.reads & targets
                if hits:
                    if later.kind == "dropped":
                        read_by_dropped = True
                    elif later.kind != "import":
                        read_by_kept = True
                        break
                targets = targets - (later.facts.defines - later.facts.reads)
                if not targets:
                    break
            if read_by_dropped and not read_by_kept:
                unit.kind, unit.reason = "dropped", "only used by plots"
                changed = True


def _production_notebook(notebook: Notebook, units: dict[int, list[Unit]]) -> Notebook:
    cells = []
    for cell in notebook.cells:
        if cell.index in units:
            code = "\n".join(u.text for u in units[cell.index] if u.kind == "code")
            cells.append(Cell(cell.index, cell.cell_id, "code", code, None, cell.tags, ()))
    return Notebook(notebook.path, tuple(cells), notebook.kernel_name, "python", 4)


def _hoist_imports(units: list[Unit]) -> list[Unit]:
    """Imports whose names nothing else rebinds go to the top, once each."""
    other_bindings: set[str] = set()
    for unit in units:
        if unit.kind in ("code", "hoist", "param"):
            other_bindings |= unit.facts.defines - unit.facts.mutates
    seen: set[str] = set()
    hoisted: list[Unit] = []
    for unit in units:
        if unit.kind != "import":
            continue
        if unit.facts.defines & other_bindings:
            unit.kind = "code"
            continue
        key = "\n".join(ast.unparse(n) for n in unit.nodes)
        if key not in seen:
            seen.add(key)
            hoisted.append(unit)
    return hoisted


def _hoist_definitions(units: list[Unit], available: set[str]) -> list[Unit]:
    bindings: dict[str, int] = {}
    for unit in units:
        if unit.kind in ("code", "param"):
            for name in unit.facts.defines:
                bindings[name] = bindings.get(name, 0) + 1
    hoisted: list[Unit] = []
    known = set(available)
    for unit in units:
        if unit.kind != "code" or len(unit.nodes) != 1:
            continue
        node = unit.node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if bindings.get(node.name, 0) != 1 or node.name in RESERVED or unit.facts.mutates:
            continue
        if unit.facts.defines != {node.name}:  # it also sets globals: it belongs to a step
            continue
        if all(name in known or name in BUILTINS for name in unit.facts.reads):
            unit.kind = "hoist"
            hoisted.append(unit)
            known.add(node.name)
    return hoisted


def plan_module(
    notebook: Notebook,
    cells: list[int] | None = None,
    *,
    metrics: list[str] | None = None,
    params: dict[str, object] | None = None,
    seed: int = 0,
) -> ModulePlan:
    """Plan the module for ``cells`` (0-based notebook indices; None: all code cells)."""
    original = analyse(notebook)
    undefined = {
        name
        for info in original.cells
        for name in info.reads
        if not original.definers(name) and name not in BUILTINS
    }
    notebook, star_notes = resolve_star_imports(notebook, undefined)
    analysis = analyse(notebook) if star_notes else original
    user_metrics = [parse_metric(text) for text in metrics or []]
    selected = _selection(analysis, cells)
    _check_syntax(analysis, selected)
    selected, added = _close_over_inputs(analysis, selected)
    _check_syntax(analysis, selected)
    plot_context = display.PlotContext()
    units = _classify(analysis, selected, plot_context)
    _restore_needed(units, selected)
    metric_reads: set[str] = set()
    for metric in user_metrics:
        metric_reads |= def_use(ast.parse(metric.expression)).reads
    _drop_plot_feeders(units, selected, metric_reads)

    parameters_cell = next(
        (i for i in selected if "parameters" in analysis.by_index(i).cell.tags), None
    )
    fields = params_from_cell(units[parameters_cell]) if parameters_cell is not None else []
    fields = _with_seed(fields, seed, params or {})

    ordered = _ordered(units, selected)
    imports = _hoist_imports(ordered)
    imported = {name for unit in imports for name in unit.facts.defines}
    hoisted = _hoist_definitions(ordered, imported)
    module_names = imported | {u.node.name for u in hoisted}  # type: ignore[attr-defined]
    if any(analysis.by_index(i).star_imports for i in selected):  # unresolved: trust them
        module_names |= {n for n in undefined if not analysis.definers(n)}
    production = analyse(_production_notebook(notebook, units))
    steps = group_steps(
        notebook,
        production,
        selected,
        module_names=module_names,
        param_names={f.name for f in fields},
        final_reads=metric_reads,
        taken=set(analysis._definers) | set(BUILTINS) | RESERVED,
        plot_names=plot_context.names | plot_context.functions,
    )
    if not steps:
        raise SelectionError("nothing to extract: the selected cells only display things")
    imported_modules = {module for unit in imports for module in unit.facts.imports.values()}
    seed_torch = any(m == "torch" or m.startswith("torch.") for m in imported_modules)
    taken = set(analysis._definers) | {s.name for s in steps}
    params_name = next(n for n in ("params", "run_params", "settings", "config_") if n not in taken)
    return ModulePlan(
        notebook, analysis, selected, added, units, imports, hoisted, fields, steps,
        user_metrics, production, seed_torch, parameters_cell, params_name, module_names,
        star_notes,
    )  # fmt: skip


def _with_seed(
    fields: list[ParamField], seed: int, overrides: dict[str, object]
) -> list[ParamField]:
    names = {f.name for f in fields}
    unknown = sorted(set(overrides) - names - {"seed"})
    if unknown:
        raise SelectionError(
            f"unknown parameter(s) {', '.join(unknown)}: the notebook's parameters cell "
            f"defines {', '.join(sorted(names)) or 'none (tag a cell parameters)'}"
        )
    result = [f.with_default(overrides[f.name]) if f.name in overrides else f for f in fields]
    if "seed" not in names:
        result.append(ParamField("seed", "int", repr(int(overrides.get("seed", seed))), None))  # type: ignore[call-overload]
    return result
