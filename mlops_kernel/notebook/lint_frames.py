"""dataframe-mutated-elsewhere: a pandas frame loaded in one cell and changed in place in another.

A frame counts as *loaded* where a top-level assignment binds a name to
``pd.read_*(...)`` or ``pd.DataFrame(...)`` (method chains on them included,
``pd.read_csv(p).dropna()``). Rebinding the name to anything else ends the
tracking, so ``df = df.drop(columns="x")`` is never reported; only in-place
changes are: ``df["x"] = ...``, ``df.loc[...] = ...``, ``df.columns = ...``,
``del df["x"]``, ``df.insert/pop/update(...)`` and any ``inplace=True`` call.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from mlops_kernel.notebook.analysis import NotebookAnalysis
from mlops_kernel.notebook.defuse import root_name
from mlops_kernel.notebook.lint_lessons import finding, where
from mlops_kernel.notebook.lint_names import eager_nodes, import_targets, keyword, qualname
from mlops_kernel.notebook.schemas import Finding

_IN_PLACE_METHODS = frozenset({"insert", "pop", "update"})


def _loads_frame(value: ast.expr, imports: dict[str, str]) -> bool:
    """``pd.read_csv(...)``, ``pd.DataFrame(...)`` or a method chain starting with one."""
    node: ast.expr = value
    while True:
        if isinstance(node, ast.Call):
            qual = qualname(node.func, imports)
            if qual is not None and qual.startswith("pandas."):
                last = qual.rsplit(".", 1)[1]
                return last.startswith("read_") or last == "DataFrame"
            node = node.func
        elif isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        else:
            return False


def _mutations(statement: ast.stmt) -> Iterator[tuple[str, int]]:
    """(name, line) for every in-place change the statement makes when it runs."""
    for node in eager_nodes(statement):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            inplace = keyword(node, "inplace")
            changes = isinstance(inplace, ast.Constant) and inplace.value is True
            if changes or node.func.attr in _IN_PLACE_METHODS:
                name = root_name(node.func.value)
                if name is not None:
                    yield name, node.lineno
        for target in targets:
            for element in target.elts if isinstance(target, ast.Tuple | ast.List) else [target]:
                if isinstance(element, ast.Attribute | ast.Subscript):
                    name = root_name(element)
                    if name is not None:
                        yield name, element.lineno


def _rebinds(statement: ast.stmt) -> Iterator[tuple[str, ast.expr | None]]:
    """(name, value) for names the statement binds directly (value None: not a plain x = v)."""
    for node in eager_nodes(statement):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    yield target.id, node.value
                elif isinstance(target, ast.Tuple | ast.List):
                    for element in ast.walk(target):
                        if isinstance(element, ast.Name):
                            yield element.id, None
        elif isinstance(node, ast.AnnAssign | ast.For | ast.AsyncFor | ast.NamedExpr):
            for element in ast.walk(node.target):
                if isinstance(element, ast.Name):
                    yield element.id, node.value if isinstance(node, ast.AnnAssign) else None
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    yield target.id, None


def check_frames(analysis: NotebookAnalysis) -> Iterator[Finding]:
    """Report each (cell, frame) changed in place away from the cell that loaded it."""
    imports: dict[str, str] = {}
    frames: dict[str, int] = {}  # name -> notebook index of the cell that loaded it
    for info in analysis.cells:
        if info.tree is None:
            continue
        imports.update(import_targets(info.tree))
        reported: set[str] = set()
        for statement in info.tree.body:
            for name, line in _mutations(statement):
                loaded = frames.get(name)
                if loaded is None or loaded == info.index or name in reported:
                    continue
                reported.add(name)
                message = (
                    f"'{name}' is loaded in {where(loaded)} "
                    f"and changed in place in {where(info.cell, line)}"
                )
                yield finding("dataframe-mutated-elsewhere", info.cell, message, line)
            for name, value in _rebinds(statement):
                if value is not None and _loads_frame(value, imports):
                    frames[name] = info.index
                else:
                    frames.pop(name, None)
