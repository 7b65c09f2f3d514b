"""The requirements a project declares: ``requirements.txt`` and ``pyproject.toml``.

Kept simple on purpose: one requirement per line of ``requirements.txt``
(comments, blank lines and line continuations understood); pip options
(``-r``, ``-e``, ``--index-url``...) are skipped with a note, and so are
requirements whose environment marker does not hold here. From
``pyproject.toml`` only ``[project].dependencies``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from .model import EnvLockError


@dataclass(frozen=True)
class Declared:
    requirement: Requirement
    where: str
    """``requirements.txt:3`` or ``pyproject.toml``."""


@dataclass
class Declarations:
    requirements: list[Declared] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_declared(project: Path) -> Declarations:
    found = Declarations()
    _read_requirements_txt(project / "requirements.txt", found)
    _read_pyproject(project / "pyproject.toml", found)
    return found


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with comments removed and ``\\`` continuations joined."""
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = "" if raw.lstrip().startswith("#") else raw
        cuts = [i for i in (line.find(" #"), line.find("\t#")) if i >= 0]
        if cuts:
            line = line[: min(cuts)]
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined = (pending + line).strip()
        pending = ""
        if joined:
            lines.append((start, joined))
    if pending.strip():
        lines.append((start, pending.strip()))
    return lines


def _read_requirements_txt(path: Path, found: Declarations) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvLockError(f"cannot read {path.name}: {exc}") from exc
    for number, line in _logical_lines(text):
        where = f"{path.name}:{number}"
        if line.startswith("-"):
            found.notes.append(f"{where}: skipped pip option {line.split()[0]!r} (not locked)")
            continue
        requirement_text = line.split(" --", 1)[0].strip()  # per-line options: --hash=...
        _add(requirement_text, where, found)


def _read_pyproject(path: Path, found: Declarations) -> None:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EnvLockError(f"cannot read {path.name}: {exc}") from exc
    project = data.get("project")
    dependencies = project.get("dependencies", []) if isinstance(project, dict) else []
    if not isinstance(dependencies, list):
        raise EnvLockError(f"{path.name}: [project].dependencies must be a list of strings")
    for entry in dependencies:
        if not isinstance(entry, str):
            raise EnvLockError(f"{path.name}: [project].dependencies holds {entry!r}, not a string")
        _add(entry, f"{path.name} [project].dependencies", found)


def _add(text: str, where: str, found: Declarations) -> None:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise EnvLockError(
            f"{where}: {text!r} is not a valid requirement ({exc}); "
            "write it as 'name', 'name==1.2' or 'name>=1.2'"
        ) from exc
    if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
        found.notes.append(f"{where}: {text!r} does not apply to this Python/platform (skipped)")
        return
    if requirement.url:
        found.notes.append(
            f"{where}: {text!r} names a URL; the lock pins the installed version, which "
            "gathering wheels will look for on the package index"
        )
    found.requirements.append(Declared(requirement, where))
