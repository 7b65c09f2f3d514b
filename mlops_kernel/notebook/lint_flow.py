"""Checks across cells, on the def-use graph: use-before-define, undefined-name, unused-result.

A notebook function body runs when the function is *called*, not when it is
defined, so names read only inside function bodies are not "used" by the
defining cell: they count at the cells that call the function. Everything
here leans towards silence when unsure (a false alarm teaches the wrong thing).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from mlops_kernel.notebook.analysis import CellAnalysis, NotebookAnalysis
from mlops_kernel.notebook.defuse import BUILTINS, def_use, root_name
from mlops_kernel.notebook.lint_lessons import finding, names, where
from mlops_kernel.notebook.lint_names import (
    eager_loads,
    eager_nodes,
    eager_reads,
    top_level_definitions,
)
from mlops_kernel.notebook.schemas import Finding

IPYTHON_NAMES = frozenset(
    {"In", "Out", "_", "__", "___", "_i", "_ii", "_iii", "_ih", "_oh", "_dh", "exit", "quit"}
)
_WORD = re.compile(r"[A-Za-z_]\w*")
_NAME_INJECTING_MAGICS = ("%run", "%store", "%load", "%%capture", "%env", "%who")


def _known(name: str) -> bool:
    return name in BUILTINS or name in IPYTHON_NAMES


def _magic_words(analysis: NotebookAnalysis) -> set[str]:
    """Identifiers written in IPython lines (``files = !ls``, ``%timeit f(x)``)."""
    words: set[str] = set()
    for info in analysis.cells:
        for magic in info.magics:
            words.update(_WORD.findall(magic.text))
    return words


def _lazy_reads(definition: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> set[str]:
    """Global names a function (or a class's methods) reads when called."""
    module = ast.Module(body=[definition], type_ignores=[])
    return set(def_use(module).reads) - {definition.name}


def check_definition_order(analysis: NotebookAnalysis) -> Iterator[Finding]:
    """use-before-define and undefined-name, for eager reads and reads through calls."""
    lazy: dict[str, set[str]] = {}  # notebook function/class -> globals it reads when called
    # a cell that does not parse, or a star import, may define anything: never say undefined
    unknowable = any(info.tree is None for info in analysis.cells)
    magic_words = _magic_words(analysis)
    injecting = any(
        magic.text.lstrip().startswith(_NAME_INJECTING_MAGICS)
        for info in analysis.cells
        for magic in info.magics
    )
    for info in analysis.cells:
        unknowable = unknowable or bool(info.star_imports)
        if info.tree is None:
            continue
        loads = eager_loads(info.tree)
        reads: dict[str, tuple[int, str | None]] = {
            name: (loads.get(name, 1), None) for name in sorted(eager_reads(info.tree))
        }
        for function in sorted(set(loads) & set(lazy) - info.defines):
            for name in sorted(_through(function, lazy) - info.defines):
                reads.setdefault(name, (loads[function], function))
        for name, (line, via) in reads.items():
            if _known(name) or analysis.producer(info.index, name) is not None:
                continue
            quiet = unknowable or injecting or name in magic_words
            yield from _order_finding(analysis, info, name, line, via, quiet)
        for definition in top_level_definitions(info.tree):
            lazy[definition.name] = _lazy_reads(definition)


def _through(function: str, lazy: dict[str, set[str]]) -> set[str]:
    """Globals read by calling ``function``, following the notebook functions it calls."""
    found: set[str] = set()
    pending = [function]
    visited: set[str] = set()
    while pending:
        current = pending.pop()
        if current in visited:
            continue
        visited.add(current)
        for name in lazy.get(current, ()):
            found.add(name)
            if name in lazy:
                pending.append(name)
    return found


def _order_finding(
    analysis: NotebookAnalysis,
    info: CellAnalysis,
    name: str,
    line: int,
    via: str | None,
    quiet_if_undefined: bool,
) -> Iterator[Finding]:
    cell = info.cell
    read = f"'{name}' is read" if via is None else f"'{via}' (called) reads '{name}'"
    later = [index for index in analysis.definers(name) if index > info.index]
    creating = [index for index in later if name not in analysis.by_index(index).mutates]
    if later:
        later = creating or later
        message = f"{read} in {where(cell, line)}, but it is first defined in {where(later[0])}"
        yield finding("use-before-define", cell, message, line)
    elif not quiet_if_undefined:
        message = f"{read} in {where(cell, line)}, but no cell defines or imports it"
        yield finding("undefined-name", cell, message, line)


# -- unused-result -------------------------------------------------------------------------

PURE_MODULES = frozenset(
    {
        "numpy", "pandas", "polars", "sklearn", "scipy", "statsmodels", "math", "cmath",
        "statistics", "torch", "collections", "itertools", "functools", "operator", "re",
        "json", "datetime", "copy", "string", "typing", "decimal", "fractions",
        "pathlib", "dataclasses", "enum", "textwrap", "numbers", "heapq", "bisect", "array",
        "hashlib", "base64", "uuid", "xgboost", "lightgbm", "catboost", "sympy",
    }
)  # fmt: skip
"""Libraries whose calls compute values; other libraries' calls may write, plot or send."""

EFFECT_CALLS = frozenset(
    {
        "print", "display", "pprint", "open", "input", "exec", "eval", "breakpoint", "help",
        "exit", "quit", "setattr", "delattr", "show", "savefig", "save", "save_model",
        "save_pretrained", "save_weights", "to_csv", "to_parquet", "to_pickle", "to_json",
        "to_excel", "to_sql", "to_hdf", "to_feather", "to_netcdf", "to_file", "tofile",
        "savetxt", "savez", "savez_compressed", "write", "write_text", "write_bytes",
        "writelines", "dump", "mkdir", "makedirs", "touch", "unlink", "remove", "rmdir",
        "rmtree", "rename", "log", "log_metric", "log_metrics", "log_param", "log_params",
        "log_artifact", "log_model", "upload", "upload_file", "download", "push_to_hub",
        "send", "post", "put", "commit", "execute", "info", "warning", "error", "debug",
        "plot", "scatter", "hist", "bar", "barh", "imshow", "matshow", "pcolormesh",
        "contour", "contourf", "pie", "boxplot", "violinplot", "heatmap", "legend",
        "set_title", "set_xlabel", "set_ylabel", "text", "annotate", "axhline", "axvline",
        "fill_between", "errorbar", "suptitle", "tight_layout", "colorbar", "figure",
        "subplots", "subplot", "plot_tree", "from_estimator", "from_predictions",
    }
)  # fmt: skip
"""Function and method names whose call shows, writes, logs or sends something."""

_CONFIGURING = ("set_", "use_", "enable_", "disable_", "seed", "manual_seed", "filterwarnings")
"""Name prefixes of calls that change settings for the cells after them."""


def _function_body_loads(analysis: NotebookAnalysis) -> set[str]:
    """Every name read inside some function or lambda body of the notebook."""
    found: set[str] = set()
    for info in analysis.cells:
        if info.tree is None:
            continue
        eager = {id(node) for node in eager_nodes(info.tree)}
        found.update(
            node.id
            for node in ast.walk(info.tree)
            if isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)
            and id(node) not in eager
        )
    return found


def _has_effect(info: CellAnalysis, modules: dict[str, str], callables: set[str]) -> bool:
    """Whether running the cell does more than bind names (shows, writes, changes others)."""
    assert info.tree is not None
    body = info.tree.body
    if body and isinstance(body[-1], ast.Expr):  # the last expression is displayed
        return True
    if info.mutates & info.reads:  # changes something an earlier cell created
        return True
    for node in eager_nodes(info.tree):
        if isinstance(node, ast.Assert | ast.Raise | ast.Delete | ast.Global | ast.Nonlocal):
            return True
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if called in EFFECT_CALLS or (called or "").startswith(_CONFIGURING):
            return True
        root = root_name(func)
        origin = f"{modules.get(root or '', '')}.{ast.unparse(func)}"
        if "random" in _WORD.findall(origin):  # draws move the global generator: later cells see it
            return True
        if root in modules and modules[root].split(".")[0] not in PURE_MODULES:
            return True
        if isinstance(func, ast.Name) and root in callables:
            return True
    return False


def check_unused(analysis: NotebookAnalysis) -> Iterator[Finding]:
    """unused-result: cells whose results nothing later uses and that have no other effect."""
    cells = [info for info in analysis.cells if info.cell.source.strip()]
    if len(cells) < 2:
        return
    body_loads = _function_body_loads(analysis)
    magic_words = _magic_words(analysis)
    modules: dict[str, str] = {}
    callables: set[str] = set()
    for position, info in enumerate(cells[:-1]):
        modules.update(info.imports)
        callables |= info.functions | info.classes
        if info.tree is None or info.magics:
            continue
        if any(other.tree is None for other in cells[position + 1 :]):
            break  # a later cell that does not parse may read anything
        defined = set(info.defines) - set(info.imports) - info.functions - info.classes
        results = {name for name in defined if not name.startswith("_")}
        if not results or _has_effect(info, modules, callables):
            continue
        later_reads: set[str] = set()
        for other in cells[position + 1 :]:
            later_reads |= other.reads
        used = later_reads | body_loads | magic_words
        if info.defines & used or _read_too_early(analysis, cells[:position], results):
            continue
        plural = "them" if len(results) > 1 else "it"
        message = f"{where(info.cell)} computes {names(results)} but no later cell uses {plural}"
        yield finding("unused-result", info.cell, message)


def _read_too_early(
    analysis: NotebookAnalysis, earlier: list[CellAnalysis], results: set[str]
) -> bool:
    """Whether an earlier cell reads one of ``results`` before any cell defines it.

    The result is then used, only in the wrong place: use-before-define says so.
    """
    return any(
        name in info.reads and analysis.producer(info.index, name) is None
        for info in earlier
        for name in results
    )
