"""``from module import *`` made explicit, so the module says where each name comes from.

Extraction imports the module (in this process) to learn its public names and
rewrites the star import to import just the names the notebook uses. A module
that cannot be imported here keeps its star import; names nothing else defines
are then assumed to come from it.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import replace

from mlops_kernel.notebook.source import Cell, Notebook

_STAR = re.compile(r"^from\s+([A-Za-z_][\w.]*)\s+import\s+\*\s*(#.*)?$")


def _public_names(module_name: str) -> set[str] | None:
    try:
        module = importlib.import_module(module_name)
    except Exception:  # not importable here (a local module, a missing package): keep the star
        return None
    names = getattr(module, "__all__", None)
    if isinstance(names, list | tuple):
        return {str(n) for n in names}
    return {n for n in dir(module) if not n.startswith("_")}


def resolve_star_imports(notebook: Notebook, used: set[str]) -> tuple[Notebook, list[str]]:
    """The notebook with resolvable star imports rewritten; and notes on what changed.

    ``used`` are the names the notebook reads that none of its cells define.
    """
    notes: list[str] = []
    cells: list[Cell] = []
    for cell in notebook.cells:
        if cell.kind != "code" or "import" not in cell.source or "*" not in cell.source:
            cells.append(cell)
            continue
        lines = cell.source.splitlines()
        for number, line in enumerate(lines):
            match = _STAR.match(line)
            if match is None:
                continue
            public = _public_names(match.group(1))
            if public is None:
                continue
            names = sorted(used & public)
            lines[number] = f"from {match.group(1)} import {', '.join(names)}" if names else ""
            notes.append(
                f"cell {cell.index + 1}: 'from {match.group(1)} import *' became "
                + (f"an import of {', '.join(names)}" if names else "nothing (no name used)")
            )
        cells.append(replace(cell, source="\n".join(lines)))
    return replace(notebook, cells=tuple(cells)), notes
