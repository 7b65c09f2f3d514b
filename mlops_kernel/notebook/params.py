"""The notebook's ``parameters`` cell (papermill's convention) as a typed dataclass."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

from mlops_kernel.notebook.units import Unit

_SIMPLE = {bool: "bool", int: "int", float: "float", str: "str"}


@dataclass(frozen=True)
class ParamField:
    name: str
    type: str
    default: str
    """Python source of the default value."""
    factory: str | None = None
    """Source of a mutable default (list, dict), given through ``default_factory``."""

    def with_default(self, value: object) -> ParamField:
        return replace(self, default=repr(value), type=_type_of(value) or self.type, factory=None)

    def declaration(self) -> str:
        if self.factory is not None:
            factory = f"dataclasses.field(default_factory=lambda: {self.factory})"
            return f"{self.name}: {self.type} = {factory}"
        return f"{self.name}: {self.type} = {self.default}"


def _type_of(value: object) -> str | None:
    if value is None:
        return "str | None"
    for kind, name in _SIMPLE.items():
        if type(value) is kind:
            return name
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, tuple):
        return "tuple"
    return None


def _literal(node: ast.expr) -> tuple[bool, object]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def params_from_cell(units: list[Unit]) -> list[ParamField]:
    """Fields from ``name = <literal>`` lines; other statements stay code.

    The units that become fields are marked ``kind = "param"`` so they leave
    the step code (the values come from the Params instance instead).
    """
    fields: list[ParamField] = []
    for unit in units:
        if unit.kind != "code" or len(unit.nodes) != 1:
            continue
        node = unit.node
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        ok, literal = _literal(value)
        kind = _type_of(literal) if ok else None
        if kind is None:
            continue
        source = ast.unparse(value)
        mutable = isinstance(literal, list | dict)
        fields.append(ParamField(target.id, kind, source, source if mutable else None))
        unit.kind, unit.reason = "param", "a parameter"
    return fields
