"""The def-use graph of a notebook: which cell defines what, and who reads it.

``analyse`` parses every code cell once (IPython syntax stripped first), keeps
going past cells with syntax errors, and indexes definitions by name so that
``producer``, ``consumers`` and ``selection_io`` answer in O(log n) per name --
a 500-cell notebook analyses in well under a second.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from mlops_kernel.notebook.defuse import BUILTINS, DefUse, def_use
from mlops_kernel.notebook.source import Cell, Magic, Notebook, strip_ipython


@dataclass
class CellAnalysis:
    cell: Cell
    code: str
    tree: ast.Module | None
    syntax_error: tuple[int, str] | None
    magics: list[Magic]
    defines: frozenset[str]
    reads: frozenset[str]
    mutates: frozenset[str]
    imports: dict[str, str]
    functions: frozenset[str]
    classes: frozenset[str]
    star_imports: tuple[str, ...] = ()
    deletes: frozenset[str] = frozenset()

    @property
    def index(self) -> int:
        return self.cell.index


def analyse_cell(cell: Cell) -> CellAnalysis:
    """Def-use facts of one code cell; a syntax error is recorded, not raised."""
    code, magics = strip_ipython(cell.source)
    try:
        tree: ast.Module | None = ast.parse(code)
        error = None
    except SyntaxError as exc:
        tree = None
        error = (exc.lineno or 1, exc.msg)
    facts = def_use(tree) if tree is not None else DefUse()
    return CellAnalysis(
        cell=cell,
        code=code,
        tree=tree,
        syntax_error=error,
        magics=magics,
        defines=frozenset(facts.defines),
        reads=frozenset(facts.reads),
        mutates=frozenset(facts.mutates),
        imports=dict(facts.imports),
        functions=frozenset(facts.functions),
        classes=frozenset(facts.classes),
        star_imports=tuple(facts.star_imports),
        deletes=frozenset(facts.deletes),
    )


@dataclass
class NotebookAnalysis:
    notebook: Notebook
    cells: list[CellAnalysis]
    _by_index: dict[int, CellAnalysis] = field(default_factory=dict, repr=False)
    _definers: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _readers: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for info in self.cells:
            self._by_index[info.index] = info
            for name in info.defines:
                self._definers.setdefault(name, []).append(info.index)
            for name in info.reads:
                self._readers.setdefault(name, []).append(info.index)

    def by_index(self, index: int) -> CellAnalysis:
        try:
            return self._by_index[index]
        except KeyError:
            raise KeyError(f"cell {index + 1} is not a code cell") from None

    def definers(self, name: str) -> list[int]:
        """Notebook indices of the code cells that define ``name``, in order."""
        return list(self._definers.get(name, ()))

    def producer(self, index: int, name: str) -> int | None:
        """The last code cell before ``index`` that defines ``name`` (None: none does)."""
        cells = self._definers.get(name)
        if not cells:
            return None
        position = bisect.bisect_left(cells, index)
        return cells[position - 1] if position else None

    def consumers(self, index: int, name: str) -> list[int]:
        """Later code cells that read ``name`` while the definition from ``index`` is live."""
        readers = self._readers.get(name, [])
        definers = self._definers.get(name, [])
        following = bisect.bisect_right(definers, index)
        until = definers[following] if following < len(definers) else None
        start = bisect.bisect_right(readers, index)
        found: list[int] = []
        for reader in readers[start:]:
            if until is not None and reader > until:
                break
            found.append(reader)
        return found

    def is_external(self, name: str) -> bool:
        """Read but never defined in the notebook: a builtin (or an IPython global)."""
        return name not in self._definers and name in BUILTINS

    def selection_io(
        self, indices: Iterable[int], universe: Iterable[int] | None = None
    ) -> tuple[list[str], list[str]]:
        """(inputs, outputs) of the selected code cells.

        Inputs: names the selection reads whose definition comes from a cell
        outside it (or from nowhere: the caller decides whether that is an
        error, see :meth:`missing_inputs`). Outputs: names the selection
        defines that a later cell of ``universe`` (default: every code cell)
        outside the selection reads while the selection's definition is live.
        """
        selected = sorted(set(indices))
        chosen = set(selected)
        within = set(universe) if universe is not None else None
        inputs: set[str] = set()
        outputs: set[str] = set()
        for index in selected:
            info = self.by_index(index)
            for name in info.reads:
                source = self.producer(index, name)
                if source not in chosen and not (source is None and self.is_external(name)):
                    inputs.add(name)
        last_definition: dict[str, int] = {}
        for index in selected:
            for name in self.by_index(index).defines:
                last_definition[name] = index
        for name, index in last_definition.items():
            for reader in self.consumers(index, name):
                if reader not in chosen and (within is None or reader in within):
                    outputs.add(name)
                    break
        return sorted(inputs), sorted(outputs)

    def missing_inputs(self, indices: Iterable[int]) -> dict[str, int]:
        """Names the selection reads that no earlier cell defines: name -> first reader."""
        missing: dict[str, int] = {}
        for index in sorted(set(indices)):
            for name in sorted(self.by_index(index).reads):
                if self.producer(index, name) is None and not self.is_external(name):
                    missing.setdefault(name, index)
        return missing


def _module_names(cells: list[CellAnalysis]) -> set[str]:
    """Names only ever bound by imports: calling their methods changes no notebook data."""
    imported: set[str] = set()
    other: set[str] = set()
    for info in cells:
        for name in info.defines:
            if name in info.imports and name not in info.mutates:
                imported.add(name)
            elif name not in info.mutates:
                other.add(name)
    return imported - other


def analyse(notebook: Notebook) -> NotebookAnalysis:
    """Analyse every code cell of ``notebook`` and index the def-use graph."""
    cells = [analyse_cell(cell) for cell in notebook.code_cells]
    modules = _module_names(cells)
    for info in cells:
        changed = info.mutates & modules
        if changed:
            info.mutates = info.mutates - changed
            info.defines = info.defines - (changed - set(info.imports))
    return NotebookAnalysis(notebook, cells)
