"""Reading notebooks: nbformat v4 in, plain frozen cells out, IPython syntax set apart.

The rest of the package works on :class:`Notebook` and :class:`Cell`, never on
nbformat's dict-like nodes, so analysis code is typed and easy to test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlops_kernel.notebook.errors import NotebookFormatError

MagicKind = Literal["line-magic", "cell-magic", "shell", "help"]

MAX_NOTEBOOK_BYTES = 200 * 1024 * 1024
"""Refuse files above this size before parsing them (outputs can be huge)."""


@dataclass(frozen=True)
class Magic:
    """An IPython-only line, removed from the Python code of its cell."""

    line: int
    text: str
    kind: MagicKind


@dataclass(frozen=True)
class Cell:
    index: int
    cell_id: str | None
    kind: str
    source: str
    execution_count: int | None
    tags: tuple[str, ...]
    outputs: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Notebook:
    path: Path | None
    cells: tuple[Cell, ...]
    kernel_name: str
    language: str
    nbformat: int

    @property
    def code_cells(self) -> tuple[Cell, ...]:
        return tuple(cell for cell in self.cells if cell.kind == "code")


def load_notebook(path: str | Path) -> Notebook:
    """Read and check a notebook file; every problem is a NotebookFormatError."""
    file = Path(path)
    try:
        size = file.stat().st_size
    except FileNotFoundError:
        raise NotebookFormatError(f"{file}: no such notebook") from None
    except OSError as exc:
        raise NotebookFormatError(f"{file}: cannot read it ({exc.strerror})") from None
    if size > MAX_NOTEBOOK_BYTES:
        mib = size // (1024 * 1024)
        raise NotebookFormatError(
            f"{file}: {mib} MiB is too large to analyse; clear the outputs "
            f"(Edit > Clear Outputs of All Cells) and save it again"
        )
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotebookFormatError(f"{file}: not UTF-8 text, so not a notebook") from None
    except OSError as exc:
        raise NotebookFormatError(f"{file}: cannot read it ({exc.strerror})") from None
    return parse_notebook(text, file)


def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    return value if isinstance(value, str) else ""


def parse_notebook(text: str, path: Path | None = None) -> Notebook:
    """Parse notebook JSON text (nbformat 4); raise NotebookFormatError with the reason."""
    where = f"{path}: " if path else ""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookFormatError(
            f"{where}not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, Mapping):
        raise NotebookFormatError(f"{where}not a notebook (the JSON is not an object)")
    major = data.get("nbformat")
    if not isinstance(major, int):
        raise NotebookFormatError(f"{where}not a notebook (no 'nbformat' version)")
    if major < 4:
        raise NotebookFormatError(
            f"{where}nbformat {major} is too old; open it in JupyterLab and save it, "
            f"or run 'jupyter nbconvert --to notebook --nbformat 4' to upgrade"
        )
    raw_cells = data.get("cells")
    if not isinstance(raw_cells, list):
        raise NotebookFormatError(f"{where}not a notebook ('cells' is missing)")
    metadata = data.get("metadata") if isinstance(data.get("metadata"), Mapping) else {}
    assert isinstance(metadata, Mapping)
    kernel_name, language = _kernel(metadata)
    if language and language.lower() != "python":
        raise NotebookFormatError(
            f"{where}the notebook's kernel is {language!r} ({kernel_name or 'unnamed'}); "
            f"only Python notebooks can become Python modules"
        )
    cells = tuple(_cell(index, raw) for index, raw in enumerate(raw_cells))
    if not any(cell.kind == "code" and cell.source.strip() for cell in cells):
        raise NotebookFormatError(f"{where}the notebook has no code to extract")
    return Notebook(path, cells, kernel_name, language or "python", major)


def _kernel(metadata: Mapping[str, Any]) -> tuple[str, str]:
    spec = metadata.get("kernelspec")
    info = metadata.get("language_info")
    name = spec.get("name", "") if isinstance(spec, Mapping) else ""
    language = ""
    if isinstance(spec, Mapping) and isinstance(spec.get("language"), str):
        language = spec["language"]
    elif isinstance(info, Mapping) and isinstance(info.get("name"), str):
        language = info["name"]
    return str(name or ""), str(language or "")


def _cell(index: int, raw: object) -> Cell:
    if not isinstance(raw, Mapping):
        raise NotebookFormatError(f"cell {index + 1} is not an object")
    kind = raw.get("cell_type")
    if kind not in ("code", "markdown", "raw"):
        raise NotebookFormatError(f"cell {index + 1} has an unknown type {kind!r}")
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), Mapping) else {}
    assert isinstance(metadata, Mapping)
    tags = metadata.get("tags")
    count = raw.get("execution_count")
    outputs = raw.get("outputs") if kind == "code" else None
    return Cell(
        index=index,
        cell_id=str(raw["id"]) if isinstance(raw.get("id"), str) else None,
        kind=str(kind),
        source=_text(raw.get("source")),
        execution_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        tags=tuple(str(tag) for tag in tags) if isinstance(tags, list) else (),
        outputs=tuple(o for o in outputs if isinstance(o, dict))
        if isinstance(outputs, list)
        else (),
    )


_ASSIGN_SHELL = re.compile(r"^\s*[A-Za-z_][\w, ]*=\s*[!%]")
_HELP = re.compile(r"^\s*(\?\??[\w.]+|[\w.]+\?\??)\s*$")


class _LineState:
    """Where a line of Python leaves us: inside brackets, a triple-quoted string, a ``\\``."""

    def __init__(self) -> None:
        self.depth = 0
        self.triple: str | None = None
        self.continued = False

    @property
    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.triple is None and not self.continued

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        while i < n:
            if self.triple is not None:
                end = line.find(self.triple, i)
                if end < 0:
                    break
                self.triple, i = None, end + 3
                continue
            char = line[i]
            if char == "#":
                break
            if char in "\"'":
                if line.startswith(char * 3, i):
                    self.triple, i = char * 3, i + 3
                    continue
                i += 1
                while i < n and line[i] != char:
                    i += 2 if line[i] == "\\" else 1
            elif char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            i += 1
        self.continued = self.triple is None and line.rstrip().endswith("\\")


def strip_ipython(source: str) -> tuple[str, list[Magic]]:
    """Python code of a cell with IPython-only lines blanked, and those lines.

    The result has as many lines as the input, so line numbers still match the
    cell. A blanked line inside a block becomes ``pass`` at its indentation, so
    the block stays valid Python. Magics are only recognised where a statement
    starts: never inside brackets or triple-quoted strings. A cell magic
    (``%%time``, ``%%capture``) keeps its body when the body is Python; other cell
    magics (``%%bash``) blank the whole cell.
    """
    lines = source.splitlines()
    magics: list[Magic] = []
    out: list[str] = []
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].strip()
        magics.append(Magic(1, magic, "cell-magic"))
        name = magic[2:].split(maxsplit=1)[0] if len(magic) > 2 else ""
        if name not in ("time", "timeit", "capture", "prun", "python", "python3", "debug"):
            return "\n".join("" for _ in lines), magics
        out.append("")
        lines = lines[1:]
    state = _LineState()
    in_magic = False
    for number, line in enumerate(lines, start=len(out) + 1):
        stripped = line.lstrip()
        kind: MagicKind | None = None
        if in_magic:
            kind = magics[-1].kind
        elif state.at_statement_start:
            if stripped.startswith("!"):
                kind = "shell"
            elif stripped.startswith("%"):
                kind = "line-magic"
            elif _HELP.match(line) and "?" in line:
                kind = "help"
            elif _ASSIGN_SHELL.match(line):
                kind = "shell" if "!" in line.split("=", 1)[1][:3] else "line-magic"
        if kind is None:
            out.append(line)
            state.feed(line)
            continue
        if not in_magic:
            magics.append(Magic(number, stripped.rstrip(), kind))
        in_magic = line.rstrip().endswith("\\")
        indent = line[: len(line) - len(stripped)]
        out.append(f"{indent}pass" if indent else "")
    return "\n".join(out), magics
