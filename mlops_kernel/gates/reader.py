"""Typed reading of parsed TOML values, turning every mistake into a located GateConfigError."""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection
from pathlib import Path
from typing import Any

from .config_lines import PathKey, key_lines, locate
from .rules import GateConfigError

_TABLE_DEPTH = {"data": 3, "tests": 2, "fairness": 2, "onnx_parity": 2, "reproducible": 2}


def key_text(path: PathKey) -> str:
    """``("gates", "metrics", 1)`` -> ``gates.metrics[1]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if part and all(c.isalnum() or c in "_-" for c in part) else f'"{part}"'
            out += f".{name}" if out else name
    return out


def display(path: PathKey) -> str:
    """``[gates.data.iris] ranges.age``: the table the key belongs to, then the key."""
    depth = 1
    if len(path) > 1 and isinstance(path[1], str):
        depth = _TABLE_DEPTH.get(path[1], 1)
    depth = min(depth, len(path))
    # a path that is the table itself is shown as the table
    table, rest = path[:depth], path[depth:]
    shown = f"[{key_text(table)}]"
    return f"{shown} {key_text(rest).lstrip('.')}" if rest else shown


class Reader:
    """Builds located errors and checks the type of each value."""

    def __init__(self, text: str, source: Path | None) -> None:
        self.text = text
        self.file = source.name if source is not None else "mlops.toml"
        self._index: dict[PathKey, int] | None = None

    def line_of(self, path: PathKey) -> int | None:
        if self._index is None:
            self._index = key_lines(self.text)
        return locate(self._index, path)

    def error(self, path: PathKey, message: str) -> GateConfigError:
        line = self.line_of(path)
        where = f"{self.file} line {line}" if line is not None else self.file
        return GateConfigError(
            f"{where}: {display(path)}: {message}", key=key_text(path), line=line
        )

    # -- structure -------------------------------------------------------------------

    def table(self, value: Any, path: PathKey, example: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(path, f"must be a table, not {_kind(value)}; write it like {example}")
        return value

    def known_keys(self, table: dict[str, Any], path: PathKey, known: Collection[str]) -> None:
        """Unknown keys are errors: a typo must never silently switch a gate off."""
        for key in table:
            if key in known:
                continue
            close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
            listed = ", ".join(sorted(known))
            hint = f"did you mean '{close[0]}'?" if close else f"the keys here are: {listed}"
            raise self.error((*path, key), f"unknown key '{key}'; {hint}")

    # -- scalars ---------------------------------------------------------------------

    def boolean(self, value: Any, path: PathKey) -> bool:
        if not isinstance(value, bool):
            raise self.error(path, f"must be true or false, not {_kind(value)}")
        return value

    def number(
        self,
        value: Any,
        path: PathKey,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(path, f"must be a number, not {_kind(value)}")
        number = float(value)
        if not math.isfinite(number):
            raise self.error(path, f"must be a finite number, not {value}")
        if positive and number <= 0:
            raise self.error(path, f"must be greater than 0, not {value}")
        if minimum is not None and number < minimum:
            raise self.error(path, f"must be at least {minimum:g}, not {value}")
        if maximum is not None and number > maximum:
            raise self.error(path, f"must be at most {maximum:g}, not {value}")
        return number

    def integer(self, value: Any, path: PathKey, *, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(path, f"must be a whole number, not {_kind(value)}")
        if value < minimum:
            raise self.error(path, f"must be at least {minimum}, not {value}")
        return value

    def string(self, value: Any, path: PathKey) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(path, f"must be a non-empty string, not {_kind(value)}")
        return value.strip()

    def strings(self, value: Any, path: PathKey, example: str) -> tuple[str, ...]:
        """A list of non-empty strings; a single string is accepted as a list of one."""
        if isinstance(value, str):
            return (self.string(value, path),)
        if not isinstance(value, list):
            raise self.error(path, f"must be a list of strings, not {_kind(value)}; e.g. {example}")
        if not value:
            raise self.error(path, f"is an empty list; list at least one, e.g. {example}")
        return tuple(self.string(item, (*path, i)) for i, item in enumerate(value))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
