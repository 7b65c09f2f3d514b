"""Small AST helpers shared by the lint checks: what a call refers to, what runs when.

``qualname`` turns ``np.random.rand`` into ``numpy.random.rand`` and
``ensemble.GradientBoostingRegressor`` into
``sklearn.ensemble.GradientBoostingRegressor``, using the imports seen so far,
so checks match on where a name comes from rather than on how it is spelled.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator, Mapping

from mlops_kernel.notebook.defuse import def_use

_FUNCTION = ast.FunctionDef | ast.AsyncFunctionDef


def import_targets(tree: ast.AST) -> dict[str, str]:
    """Bound name -> fully qualified dotted name, for the imports that run with ``tree``.

    ``import numpy as np`` gives np -> numpy, ``import sklearn.ensemble`` gives
    sklearn -> sklearn, ``from torch import nn`` gives nn -> torch.nn.
    Relative imports are left out (they cannot be resolved here).
    """
    found: dict[str, str] = {}
    for node in eager_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    found[top] = top
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                if alias.name != "*":
                    found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return found


def qualname(node: ast.expr, imports: Mapping[str, str]) -> str | None:
    """Dotted name of ``node`` through the imports, or None when it is not an imported name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in imports:
        return None
    return ".".join([imports[node.id], *reversed(parts)])


def eager_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Nodes evaluated when ``tree`` runs: function and lambda bodies are skipped.

    Class bodies run at definition time, so they are included (their methods
    are not); decorators, default values and annotations of functions are.
    """
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _FUNCTION):
            args = node.args
            stack.extend(node.decorator_list)
            stack.extend(args.defaults)
            stack.extend(d for d in args.kw_defaults if d is not None)
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
            stack.extend(a.annotation for a in every if a.annotation is not None)
            if node.returns is not None:
                stack.append(node.returns)
        elif isinstance(node, ast.Lambda):
            stack.extend(node.args.defaults)
            stack.extend(d for d in node.args.kw_defaults if d is not None)
        else:
            stack.extend(ast.iter_child_nodes(node))


def eager_reads(tree: ast.Module) -> frozenset[str]:
    """Free names read when ``tree`` runs, with function and lambda bodies left out.

    The def-use walk runs on a copy whose function bodies are emptied, so
    scoping (comprehensions, class bodies, binding before reading) stays right.
    """
    shell = copy.deepcopy(tree)
    for node in ast.walk(shell):
        if isinstance(node, _FUNCTION):
            node.body = [ast.Pass()]
        elif isinstance(node, ast.Lambda):
            node.body = ast.Constant(None)
    return frozenset(def_use(shell).reads)


def eager_calls(tree: ast.AST) -> list[ast.Call]:
    """The calls that run when ``tree`` runs, in source order."""
    calls = [node for node in eager_nodes(tree) if isinstance(node, ast.Call)]
    return sorted(calls, key=lambda call: (call.lineno, call.col_offset))


def eager_loads(tree: ast.AST) -> dict[str, int]:
    """Names read when ``tree`` runs -> first line (function bodies excluded)."""
    found: dict[str, int] = {}
    for node in eager_nodes(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            line = found.get(node.id)
            found[node.id] = node.lineno if line is None else min(line, node.lineno)
    return found


def top_level_definitions(
    tree: ast.Module,
) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    """Functions and classes bound at module level (inside if/try/with too, not methods)."""
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, _FUNCTION | ast.ClassDef):
            yield node
        elif isinstance(node, ast.stmt | ast.ExceptHandler):
            inner = ast.iter_child_nodes(node)
            stack.extend(
                reversed([c for c in inner if isinstance(c, ast.stmt | ast.ExceptHandler)])
            )


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value passed as ``name=`` to ``call``, if any."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def constant(node: ast.expr | None) -> object:
    """The Python value of a literal constant, else a sentinel that equals nothing."""
    if isinstance(node, ast.Constant):
        return node.value
    return _NOT_CONSTANT


class _NotConstant:
    def __repr__(self) -> str:
        return "<not a constant>"


_NOT_CONSTANT = _NotConstant()


def callee(call: ast.Call) -> str:
    """How the call's function is written, e.g. 'np.random.rand' (shortened when long)."""
    text = ast.unparse(call.func)
    return text if len(text) <= 60 else text[:57] + "..."
