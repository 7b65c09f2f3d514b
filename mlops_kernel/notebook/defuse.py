"""Names a block of Python code binds, reads and changes in place (one cell at a time).

A small scope-aware AST walk: module-level statements run in order; function,
lambda, class and comprehension bodies get their own scope, and what they read
from outside it counts as a read of the cell. In-place changes (``df["x"] = 1``,
``x += 1``, ``lst.append(v)``, ``df.drop(..., inplace=True)``, a method call
used as a statement such as ``clf.fit(X, y)``) count as a read *and* a new
definition of the changed name, because the value a later cell sees is now
this cell's.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "get_ipython", "display"}

MUTATORS = frozenset(
    {
        "append", "extend", "insert", "remove", "pop", "popitem", "clear", "update", "add",
        "discard", "sort", "reverse", "setdefault", "fit", "partial_fit", "fit_transform",
        "fit_predict", "set_params", "drop", "fillna", "rename", "reset_index", "set_index",
        "sort_values", "sort_index", "dropna", "replace", "load_state_dict", "to", "train",
        "eval", "zero_grad", "step", "backward", "requires_grad_", "apply_", "fill_",
        "zero_", "add_", "mul_", "copy_", "resize", "shuffle", "seed",
    }
)  # fmt: skip
"""Method names that change their object (``x = lst.pop()`` still changes ``lst``)."""

LOOK_METHODS = frozenset(
    {"head", "tail", "describe", "info", "value_counts", "nunique", "unique", "corr", "cov",
     "isnull", "isna", "notnull", "notna", "count", "memory_usage", "sum", "mean", "median",
     "std", "min", "max", "to_string", "get_params", "state_dict", "parameters", "summary",
     "groupby", "agg", "aggregate", "round", "quantile", "idxmax", "idxmin", "nlargest",
     "nsmallest", "corrwith", "pivot_table", "select_dtypes"}
)  # fmt: skip
"""Methods that only look at their object: called as a statement, they just show it."""


def looks_only(node: ast.expr) -> bool:
    """``df.head()``, ``df.isnull().sum()``: a chain of look-only method calls on a name."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr not in LOOK_METHODS:
            return False
        node = node.func.value
    return isinstance(node, ast.Name | ast.Attribute | ast.Subscript)


@dataclass
class DefUse:
    """What one block binds, reads (before binding it), changes and imports."""

    defines: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)
    mutates: set[str] = field(default_factory=set)
    deletes: set[str] = field(default_factory=set)
    imports: dict[str, str] = field(default_factory=dict)
    star_imports: list[str] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)
    classes: set[str] = field(default_factory=set)
    globals_declared: set[str] = field(default_factory=set)


def root_name(node: ast.expr) -> str | None:
    """``df`` for ``df``, ``df["a"]``, ``df.loc[1]``, ``a.b.c`` and ``df["a"].iloc``."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


class _Scope:
    def __init__(
        self, parent: _Scope | None, bound: set[str] | None = None, deferred: bool = False
    ) -> None:
        self.parent = parent
        self.bound: set[str] = set(bound or ())
        self.free: set[str] = set()
        self.late: set[str] = set()
        """Free names read by code that runs later (a function body), not on entry."""
        self.globals: set[str] = set()
        self.deferred = deferred


class DefUseVisitor(ast.NodeVisitor):
    """Walks module-level statements in order, tracking one scope per function/class."""

    def __init__(self) -> None:
        self.result = DefUse()
        self.module = _Scope(None)
        self.scope = self.module
        self.deferred: set[str] = set()
        """Module names function bodies read before the cell binds them (read at call time)."""

    # -- scopes --------------------------------------------------------------
    def _read(self, name: str, late: bool = False) -> None:
        scope = self.scope
        if name in scope.globals or scope is self.module:
            if name not in self.module.bound:
                if late or scope.deferred:
                    self.deferred.add(name)
                else:
                    self.result.reads.add(name)
            return
        if name not in scope.bound:
            scope.free.add(name)
            if late:
                scope.late.add(name)

    def _bind(self, name: str) -> None:
        if self.scope is self.module or name in self.scope.globals:
            self.module.bound.add(name)
            self.result.defines.add(name)
            self.result.deletes.discard(name)
        else:
            self.scope.bound.add(name)

    def _mutate(self, node: ast.expr) -> None:
        name = root_name(node)
        if name is None:
            return
        self._read(name)
        if self.scope is self.module or name in self.scope.globals:
            if name not in self.result.imports:
                self.result.mutates.add(name)
                self.result.defines.add(name)
            self.module.bound.add(name)

    def _close(self, scope: _Scope) -> None:
        """Names a finished inner scope read from outside are reads of its parent."""
        self.scope = scope.parent or self.module
        for name in scope.free - scope.bound:
            self._read(name, late=scope.deferred or name in scope.late)

    def _in_scope(
        self, bound: set[str], body: list[ast.stmt] | list[ast.expr], deferred: bool = False
    ) -> None:
        scope = _Scope(self.scope, bound, deferred)
        # names assigned anywhere in a function body are local for its whole body
        for node in body:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Global):
                    scope.globals.update(sub.names)
                    self.result.globals_declared.update(sub.names)
        for node in body:
            for sub in _walk_local(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store | ast.Del):
                    if sub.id not in scope.globals:
                        scope.bound.add(sub.id)
                elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    scope.bound.add(sub.name)
                elif isinstance(sub, ast.Import | ast.ImportFrom):
                    scope.bound.update(_import_bindings(sub))
        self.scope = scope
        for node in body:
            self.visit(node)
        self._close(scope)

    # -- names ---------------------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._read(node.id)
        elif isinstance(node.ctx, ast.Store):
            self._bind(node.id)
        else:  # del x
            self._read(node.id)
            if self.scope is self.module:
                self.result.deletes.add(node.id)
                self.result.defines.add(node.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self._target(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        if self.scope is self.module:
            self.visit(node.annotation)
        self._target(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self._read(node.target.id)
            self._bind(node.target.id)
            if self.scope is self.module:
                self.result.mutates.add(node.target.id)
        else:
            self._target(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self._bind(node.target.id)

    def _target(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self._bind(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._target(element)
        elif isinstance(target, ast.Starred):
            self._target(target.value)
        elif isinstance(target, ast.Attribute | ast.Subscript):
            self._visit_target_parts(target)
            self._mutate(target)

    def _visit_target_parts(self, target: ast.expr) -> None:
        """Reads inside a subscript/attribute target (the index expressions)."""
        node = target
        while isinstance(node, ast.Attribute | ast.Subscript):
            if isinstance(node, ast.Subscript):
                self.visit(node.slice)
            node = node.value

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, ast.Attribute | ast.Subscript):
                self._visit_target_parts(target)
                self._mutate(target)
            else:
                self.visit(target)

    def visit_Expr(self, node: ast.Expr) -> None:
        value = node.value
        self.visit(value)
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and not looks_only(value)
        ):
            self._mutate(value.func.value)

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Attribute):
            inplace = any(
                kw.arg == "inplace" and isinstance(kw.value, ast.Constant) and kw.value.value
                for kw in node.keywords
            )
            if inplace or func.attr in MUTATORS:
                self._mutate(func.value)

    # -- imports -------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            if self.scope is self.module:
                self.result.imports[bound] = alias.name if alias.asname else bound
            self._bind(bound)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                if self.scope is self.module:
                    self.result.star_imports.append(module)
                continue
            bound = alias.asname or alias.name
            if self.scope is self.module:
                self.result.imports[bound] = module
            self._bind(bound)

    # -- definitions ---------------------------------------------------------
    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        args = node.args
        for default in [*args.defaults, *[d for d in args.kw_defaults if d is not None]]:
            self.visit(default)
        params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        params.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
        if isinstance(node, ast.Lambda):
            self._in_scope(params, [node.body], deferred=True)
            return
        for decorator in node.decorator_list:
            self.visit(decorator)
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if arg.annotation is not None:
                self.visit(arg.annotation)
        if node.returns is not None:
            self.visit(node.returns)
        self._bind(node.name)
        if self.scope is self.module:
            self.result.functions.add(node.name)
        self._in_scope(params | {node.name}, node.body, deferred=True)

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function
    visit_Lambda = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        self._bind(node.name)
        if self.scope is self.module:
            self.result.classes.add(node.name)
        self._in_scope({node.name, "__class__"}, node.body)

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        first, *rest = node.generators
        self.visit(first.iter)  # evaluated in the enclosing scope
        scope = _Scope(self.scope)
        self.scope = scope
        for index, generator in enumerate(node.generators):
            if index:
                self.visit(generator.iter)
            for sub in ast.walk(generator.target):
                if isinstance(sub, ast.Name):
                    scope.bound.add(sub.id)
            for condition in generator.ifs:
                self.visit(condition)
        if isinstance(node, ast.DictComp):
            self.visit(node.key)
            self.visit(node.value)
        else:
            self.visit(node.elt)
        del rest
        self._close(scope)

    visit_ListComp = _comprehension
    visit_SetComp = _comprehension
    visit_GeneratorExp = _comprehension
    visit_DictComp = _comprehension

    # -- statements that bind ------------------------------------------------
    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._target(node.target)
        for statement in [*node.body, *node.orelse]:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._target(item.optional_vars)
        for statement in node.body:
            self.visit(statement)

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self._bind(node.name)
        for statement in node.body:
            self.visit(statement)

    def visit_Global(self, node: ast.Global) -> None:
        self.scope.globals.update(node.names)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.pattern is not None:
            self.visit(node.pattern)
        if node.name:
            self._bind(node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self._bind(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self.generic_visit(node)
        if node.rest:
            self._bind(node.rest)


def _walk_local(node: ast.AST) -> list[ast.AST]:
    """Nodes of a body without descending into nested functions, classes, comprehensions."""
    found: list[ast.AST] = []
    stack = [node]
    while stack:
        current = stack.pop()
        found.append(current)
        if current is not node and isinstance(
            current,
            ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            | ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
        ):  # fmt: skip
            continue
        stack.extend(ast.iter_child_nodes(current))
    return found


def _import_bindings(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.asname or a.name.split(".")[0] for a in node.names}
    return {a.asname or a.name for a in node.names if a.name != "*"}


def def_use(tree: ast.Module) -> DefUse:
    """Def-use facts of a parsed cell (or any module)."""
    visitor = DefUseVisitor()
    for statement in tree.body:
        visitor.visit(statement)
    result = visitor.result
    # a function may read a name its cell binds after the def: it runs later, after the binding
    result.reads |= visitor.deferred - visitor.module.bound
    result.globals_declared -= result.defines
    return result
