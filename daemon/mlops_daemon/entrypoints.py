"""Check a RunSpec's project and entry point, and turn them into a command."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from mlops_kernel.launch import parse_entry_point
from mlops_kernel.schemas import RunSpec

from .errors import InvalidInput


def check_project(spec: RunSpec) -> Path:
    project = Path(spec.project)
    if not project.is_absolute():
        raise InvalidInput(
            f"project {spec.project!r} must be an absolute path (the CLI resolves it for you)"
        )
    try:
        exists, is_dir = project.exists(), project.is_dir()
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"project {spec.project!r} is not a usable path: {exc}") from exc
    if not exists:
        raise InvalidInput(f"project directory {spec.project} does not exist")
    if not is_dir:
        raise InvalidInput(f"project {spec.project} is a file, not a directory")
    return project


def command_for(spec: RunSpec, python: str = sys.executable) -> list[str]:
    """The argv that runs ``spec.entry_point`` (raises InvalidInput when it cannot)."""
    project = check_project(spec)
    entry = spec.entry_point.strip()
    try:
        if ":" in entry:
            return _function_command(project, entry, python)
        return [python, str(_script(project, entry))]
    except (OSError, ValueError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(f"entry point {entry!r} is not a usable path: {exc}") from exc


def _function_command(project: Path, entry: str, python: str) -> list[str]:
    try:
        module, _function = parse_entry_point(entry)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if not _module_exists(project, module):
        raise InvalidInput(
            f"module {module!r} was found neither in {project} nor among the installed packages"
        )
    return [python, "-m", "mlops_kernel.launch", entry]


def _script(project: Path, entry: str) -> Path:
    root = project.resolve()
    script = (root / entry).resolve()
    if not script.is_relative_to(root):
        raise InvalidInput(
            f"script {entry!r} lies outside the project {project}; runs may only start "
            "code that is part of their project"
        )
    if not script.is_file():
        raise InvalidInput(
            f"script {entry!r} does not exist in {project}; give a path relative to the "
            "project, or 'package.module:function'"
        )
    return script


def _module_exists(project: Path, module: str) -> bool:
    parts = module.split(".")
    base = project.joinpath(*parts)
    if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
        return True
    if (project / parts[0]).is_dir() or (project / f"{parts[0]}.py").is_file():
        return True  # a namespace package or a submodule the launcher will report on
    try:
        return importlib.util.find_spec(parts[0]) is not None
    except (ImportError, ValueError):
        return False
