"""Which top-level statements only display things (plots, bare expressions).

A production module should not draw figures or echo values, so these statements
are left out of the extracted code and reported. The rules are conservative:
a statement is display-only when

* it is a bare expression with no call in it (``df.head``, ``X[:10], y[:10]``), or
  a call of ``display``/``plt.show``-like functions;
* or every call that decides its effect is rooted at a *plot name*: a name imported
  from a plotting library, a name bound by an earlier plot statement (``fig, ax``),
  or a *plot function* (a function defined in the notebook whose body only plots).

Anything else -- training, printing, writing files -- is kept. Statements whose only
purpose was to feed dropped plots are then removed too, unless they call something
that could draw random numbers or change other objects.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field

from mlops_kernel.notebook.defuse import looks_only

PLOT_MODULES = ("matplotlib", "seaborn", "plotly", "bokeh", "altair", "pylab", "IPython.display")
DISPLAY_CALLS = frozenset({"display", "show", "clear_output", "display_html", "display_markdown"})
NEUTRAL_CALLS = frozenset(
    {"zip", "range", "len", "enumerate", "str", "repr", "list", "tuple", "dict", "sorted",
     "min", "max", "abs", "round", "float", "int", "format", "reversed", "iter", "next"}
)  # fmt: skip


@dataclass
class PlotContext:
    """Names known to stand for plotting things, grown as the notebook is read."""

    names: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)

    def add_imports(self, imports: dict[str, str]) -> None:
        for name, module in imports.items():
            if module.startswith(PLOT_MODULES) or name in ("plt", "sns"):
                self.names.add(name)

    def is_plot_root(self, name: str) -> bool:
        return name in self.names or name in self.functions


def _root(node: ast.expr) -> str | None:
    while True:
        if isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            break
    return node.id if isinstance(node, ast.Name) else None


def _pandas_plot(func: ast.expr) -> bool:
    """``df.plot(...)``, ``s.plot.barh()``, ``df.hist()``: pandas drawing through matplotlib."""
    while isinstance(func, ast.Attribute):
        if func.attr in ("plot", "hist", "boxplot"):
            return True
        func = func.value
    return False


def _has_call(node: ast.AST) -> bool:
    return any(isinstance(sub, ast.Call) for sub in ast.walk(node))


def _outer_calls(node: ast.expr) -> list[ast.Call]:
    """Calls that make the expression's value, not those computing their arguments."""
    if isinstance(node, ast.Call):
        inner = _outer_calls(node.func) if isinstance(node.func, ast.Call | ast.Attribute) else []
        return [node, *inner]
    if isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
        return _outer_calls(node.value)
    if isinstance(node, ast.Tuple | ast.List):
        return [call for element in node.elts for call in _outer_calls(element)]
    return []


def _targets(statement: ast.stmt) -> list[str]:
    names: list[str] = []
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = list(statement.targets)
    elif isinstance(statement, ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor):
        targets = [statement.target]
    elif isinstance(statement, ast.With | ast.AsyncWith):
        targets = [i.optional_vars for i in statement.items if i.optional_vars is not None]
    for target in targets:
        names.extend(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _plot_value(node: ast.expr, ctx: PlotContext) -> bool:
    """An expression whose deciding calls are all plot calls (at least one of them)."""
    calls = _outer_calls(node)
    if not calls:
        return False
    for call in calls:
        root = _root(call.func)
        if root is None:
            return False
        if root in NEUTRAL_CALLS and isinstance(call.func, ast.Name):
            if not any(_plot_value(arg, ctx) or _mentions_plot(arg, ctx) for arg in call.args):
                return False
            continue
        if not ctx.is_plot_root(root):
            return False
    return True


def _mentions_plot(node: ast.AST, ctx: PlotContext) -> bool:
    return any(isinstance(n, ast.Name) and ctx.is_plot_root(n.id) for n in ast.walk(node))


def is_display_only(statement: ast.stmt, ctx: PlotContext) -> bool:
    """True when dropping ``statement`` changes nothing but what is shown."""
    if isinstance(statement, ast.Expr):
        value = statement.value
        if isinstance(value, ast.Constant):
            return False  # a docstring-like string: harmless, keep the author's words
        if not _has_call(value) or (isinstance(value, ast.Call) and looks_only(value)):
            return True
        if isinstance(value, ast.Call) and _pandas_plot(value.func):
            return True
        if isinstance(value, ast.Call):
            func = value.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in DISPLAY_CALLS and (isinstance(func, ast.Name) or _root(func) in ctx.names):
                return True
        return _plot_value(value, ctx)
    if isinstance(statement, ast.Assign | ast.AnnAssign):
        assigned = statement.value
        if assigned is None:
            return False
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        plain = all(isinstance(t, ast.Name | ast.Tuple | ast.List) for t in targets)
        attribute_of_plot = all(
            isinstance(t, ast.Attribute | ast.Subscript) and ctx.is_plot_root(_root(t) or "")
            for t in targets
        )
        return (plain or attribute_of_plot) and _plot_value(assigned, ctx)
    if isinstance(statement, ast.For | ast.AsyncFor):
        if not _mentions_plot(statement.iter, ctx) or statement.orelse:
            return False
        inner = PlotContext(ctx.names | set(_targets(statement)), set(ctx.functions))
        return _block_display_only(statement.body, inner)
    if isinstance(statement, ast.If):
        return (
            not _has_call(statement.test)
            and _block_display_only(statement.body, ctx)
            and (not statement.orelse or _block_display_only(statement.orelse, ctx))
        )
    if isinstance(statement, ast.With):
        return _block_display_only(statement.body, ctx)
    return False


def _block_display_only(body: Iterable[ast.stmt], ctx: PlotContext) -> bool:
    """Every statement plots, or only prepares values without calling anything."""
    plotted = False
    local = PlotContext(set(ctx.names), set(ctx.functions))
    for statement in body:
        if isinstance(statement, ast.Pass):
            continue
        if is_display_only(statement, local):
            plotted = True
            local.names.update(_targets(statement))
        elif isinstance(statement, ast.Assign) and not _has_call(statement.value):
            continue
        else:
            return False
    return plotted


def is_plot_function(node: ast.stmt, ctx: PlotContext) -> bool:
    """A function defined in the notebook whose body only draws (``save_fig``)."""
    if not isinstance(node, ast.FunctionDef):
        return False
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return bool(body) and _block_display_only(body, ctx)


def plot_bindings(statement: ast.stmt) -> list[str]:
    """Names a dropped plot statement binds (they stand for figures and axes)."""
    return _targets(statement)


RANDOM_HINTS = ("random", "rand", "shuffle", "permutation", "choice", "sample", "normal")


def may_have_side_effects(node: ast.AST) -> bool:
    """Calls that could draw random numbers or change objects: keep such statements."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            text = ast.unparse(sub.func)
            if any(hint in text for hint in RANDOM_HINTS):
                return True
            if isinstance(sub.func, ast.Attribute) and sub.func.attr in (
                "fit", "append", "extend", "update", "pop", "write", "save", "mkdir", "to_csv",
            ):  # fmt: skip
                return True
    return False
