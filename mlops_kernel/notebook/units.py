"""A cell's code as *units*: top-level statements with their own comments and lines.

Extraction moves whole statements around (imports to the top, functions to module
level, the rest into step functions) and must keep the author's comments and
layout, so each unit carries its exact source lines rather than ``ast.unparse``.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass, field

from mlops_kernel.notebook.defuse import DefUse, def_use


@dataclass
class Unit:
    """One or more top-level statements that share source lines."""

    cell: int
    nodes: list[ast.stmt]
    text: str
    first_line: int
    kind: str = "code"  # code | import | hoist | param | dropped
    reason: str = ""
    facts: DefUse = field(default_factory=DefUse)

    @property
    def node(self) -> ast.stmt:
        return self.nodes[0]

    @property
    def statement_text(self) -> str:
        """The code without the leading comment and blank lines (for reports)."""
        lines = [line for line in self.text.splitlines() if line.strip()]
        code = [line for line in lines if not line.lstrip().startswith("#")]
        first = code[0].strip() if code else ""
        return first if len(code) <= 1 else f"{first} ..."


def _start(node: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def split_units(cell: int, code: str, tree: ast.Module) -> list[Unit]:
    """Top-level statements of ``code`` with preceding comments attached."""
    lines = code.splitlines()
    groups: list[list[ast.stmt]] = []
    last_end = 0
    for node in tree.body:
        if groups and _start(node) <= last_end:
            groups[-1].append(node)
        else:
            groups.append([node])
        last_end = max(last_end, node.end_lineno or node.lineno)
    units: list[Unit] = []
    begin = 1
    for index, group in enumerate(groups):
        end = max(n.end_lineno or n.lineno for n in group)
        if index == len(groups) - 1:
            end = max(end, len(lines))
        text = "\n".join(lines[begin - 1 : end])
        module = ast.Module(body=list(group), type_ignores=[])
        units.append(Unit(cell, list(group), text, _start(group[0]), facts=def_use(module)))
        begin = end + 1
    return units


def string_lines(text: str) -> set[int]:
    """1-based lines that lie inside a multi-line string (never re-indent those)."""
    inside: set[int] = set()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return inside
    for token in tokens:
        if token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            start, end = token.start[0], token.end[0]
            inside.update(range(start + 1, end + 1))
    return inside


def indent(text: str, prefix: str = "    ") -> str:
    """Indent code by ``prefix`` without changing the value of multi-line strings."""
    keep = string_lines(text)
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if number in keep or not line.strip():
            out.append(line if number in keep else "")
        else:
            out.append(prefix + line)
    return "\n".join(out)


def strip_blank_edges(text: str) -> str:
    lines = text.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(line.rstrip() for line in lines)
