"""Which modules a run's code imports: the entry point's file and, transitively,
the project-local modules it imports (read with :mod:`ast`, never executed).

Local modules are looked up the way the run will find them: in the script's own
directory (``sys.path[0]`` of ``python script.py``) and in the project directory
(``PYTHONPATH``). What is neither local nor built in is reported as an
:class:`ImportSite`, for :mod:`.resolve` to map onto distributions.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mlops_kernel.launch import parse_entry_point

from ..modules import module_file
from .model import EnvLockError

PROVIDED = frozenset({"mlops_kernel", "mlops_daemon", "mlops_labextension"})
"""Top-level modules of jupyter-mlops itself: provided to every run separately."""

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@dataclass(frozen=True)
class ImportSite:
    name: str
    """The top-level module, e.g. ``sklearn``."""
    dotted: str
    """The full module named, e.g. ``sklearn.linear_model`` (to tell namespace packages apart)."""
    where: str
    """``path/relative/to/project.py:LINE``."""
    optional: bool = False
    """Inside ``try: ... except ImportError`` or a version/platform check."""


@dataclass(frozen=True)
class _Raw:
    parts: tuple[str, ...]
    line: int
    optional: bool
    names: tuple[str, ...] = ()
    """For ``from X import a, b``: a and b (which may be submodules of X)."""


def scan(project: Path, entry_point: str) -> list[ImportSite]:
    """The third-party imports of ``entry_point``'s code (stdlib, local, jupyter-mlops left out)."""
    return scan_code(project, entry_point)[0]


def scan_code(project: Path, entry_point: str) -> tuple[list[ImportSite], list[Path]]:
    """The third-party imports of ``entry_point``'s code, and the project files it runs
    (the entry point's own file and every local module it imports, transitively)."""
    root = project.resolve()
    entry = entry_point.strip()
    first = module_file(root, entry)
    if first is None:
        site = _installed_entry(root, entry)
        return ([] if site.name in PROVIDED or _is_stdlib(site.name) else [site]), []
    roots = [root] if ":" in entry else list(dict.fromkeys([first.parent, root]))
    sites: list[ImportSite] = []
    seen: set[Path] = set()
    queue = [first]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        where = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        package = _package_of(path, roots)
        for raw in _imports(path, where):
            parts = raw.parts
            if parts and parts[0] == "":  # relative: resolve against this file's package
                absolute = _absolute(parts, package)
                if absolute is None:
                    continue
                parts, local = absolute, True
            else:
                local = _is_local(parts[0], roots)
            if local:
                queue += _files_for(parts, raw.names, roots)
            elif parts[0] not in PROVIDED and not _is_stdlib(parts[0]):
                dotted = ".".join(parts + raw.names[:1])
                sites.append(ImportSite(parts[0], dotted, f"{where}:{raw.line}", raw.optional))
    return sites, sorted(seen)


def _installed_entry(root: Path, entry: str) -> ImportSite:
    """An entry point whose module is not a project file: an installed package, if any."""
    if ":" not in entry:
        raise EnvLockError(
            f"script {entry!r} does not exist in {root}; give a path relative to the project, "
            "or 'package.module:function'"
        )
    try:
        module, _ = parse_entry_point(entry)
    except ValueError as exc:
        raise EnvLockError(str(exc)) from exc
    top = module.split(".")[0]
    if (root / top).is_dir():
        raise EnvLockError(f"entry point {entry!r}: module {module!r} was not found in {root}")
    return ImportSite(top, module, f"entry point {entry!r}")


def _is_stdlib(name: str) -> bool:
    return name in sys.stdlib_module_names or name in sys.builtin_module_names


def _is_local(top: str, roots: list[Path]) -> bool:
    if top in sys.builtin_module_names:
        return False
    for root in roots:
        if (root / f"{top}.py").is_file() or (root / top / "__init__.py").is_file():
            return True
    # A bare directory is only a namespace package if nothing else of that name exists.
    return not _is_stdlib(top) and any((root / top).is_dir() for root in roots) and _no_dist(top)


def _no_dist(top: str) -> bool:
    from .installed import installed  # late: the cached snapshot is only needed here

    return not installed().distributions_for(top)


def _package_of(path: Path, roots: list[Path]) -> tuple[str, ...]:
    for root in roots:
        if path.is_relative_to(root):
            return path.relative_to(root).parent.parts
    return ()


def _absolute(parts: tuple[str, ...], package: tuple[str, ...]) -> tuple[str, ...] | None:
    level = 0
    while level < len(parts) and parts[level] == "":
        level += 1
    up = level - 1
    if up > len(package):
        return None  # beyond the top of the project: the run would fail anyway
    base = package[: len(package) - up] if up else package
    return base + parts[level:]


def _files_for(parts: tuple[str, ...], names: tuple[str, ...], roots: list[Path]) -> list[Path]:
    """The project files importing ``parts`` (and ``from parts import names``) executes."""
    files: list[Path] = []
    for root in roots:
        base = root
        for part in parts:
            base = base / part
            files += [p for p in (base / "__init__.py",) if p.is_file()]
        module = base.with_name(base.name + ".py") if parts else None
        if module is not None and module.is_file():
            files.append(module)
        for name in names:
            files += [p for p in (base / f"{name}.py", base / name / "__init__.py") if p.is_file()]
        if files:
            return [f.resolve() for f in files]
    return []


def _imports(path: Path, where: str) -> Iterator[_Raw]:
    try:
        source = path.read_bytes()
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise EnvLockError(
            f"{where.rsplit(':', 1)[0]}:{exc.lineno}: syntax error ({exc.msg}); "
            "the run could not import this file either"
        ) from exc
    except OSError as exc:
        raise EnvLockError(f"cannot read {where}: {exc}") from exc
    yield from _Visitor().collect(tree)


class _Visitor(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[_Raw] = []
        self.optional = 0

    def collect(self, tree: ast.AST) -> list[_Raw]:
        self.visit(tree)
        return self.found

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append(_Raw(tuple(alias.name.split(".")), node.lineno, self.optional > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        parts = ("",) * node.level + tuple(node.module.split(".") if node.module else ())
        names = tuple(a.name for a in node.names if a.name != "*")
        self.found.append(_Raw(parts, node.lineno, self.optional > 0, names))

    def visit_Try(self, node: ast.Try) -> None:
        guarded = any(_catches_import_error(h) for h in node.handlers)
        self.optional += guarded
        for child in node.body:
            self.visit(child)
        self.optional -= guarded
        rest: list[ast.AST] = [*node.handlers, *node.orelse, *node.finalbody]
        for other in rest:
            self.visit(other)

    visit_TryStar = visit_Try  # type: ignore[assignment]

    def visit_If(self, node: ast.If) -> None:
        test = ast.unparse(node.test)
        if "TYPE_CHECKING" in test:
            for child in node.orelse:
                self.visit(child)
            return
        conditional = "sys.version_info" in test or "sys.platform" in test
        self.optional += conditional
        self.generic_visit(node)
        self.optional -= conditional


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(ast.unparse(kind).rsplit(".", 1)[-1] in _IMPORT_ERRORS for kind in kinds)
