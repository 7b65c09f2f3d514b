"""Default package and module names, and the files an extraction writes."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path


def identifier(text: str, fallback: str, max_length: int = 40) -> str:
    """A Python identifier from free text: ``'04.Training Data'`` -> ``'nb_04_training_data'``."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    name = "_".join(words)[:max_length].strip("_") or fallback
    if name[0].isdigit():
        name = f"nb_{name}"
    if keyword.iskeyword(name) or name in ("test", "tests", "mlops_kernel", "mlops_daemon"):
        name = f"{name}_"
    return name


@dataclass(frozen=True)
class Layout:
    """Where the module, its tests and fixtures live inside the project."""

    project: Path
    package: str
    name: str

    @property
    def module(self) -> str:
        return f"{self.package}.{self.name}"

    @property
    def entry_point(self) -> str:
        return f"{self.module}:main"

    @property
    def module_path(self) -> Path:
        return Path(self.package) / f"{self.name}.py"

    @property
    def init_path(self) -> Path:
        return Path(self.package) / "__init__.py"

    @property
    def test_path(self) -> Path:
        return Path("tests") / f"test_{self.name}.py"

    @property
    def fixtures_path(self) -> Path:
        return Path("tests") / "fixtures" / self.name

    @property
    def conftest_path(self) -> Path:
        return Path("conftest.py")

    def written(self) -> list[Path]:
        return [
            self.module_path,
            self.init_path,
            self.test_path,
            self.fixtures_path,
            self.conftest_path,
        ]


def layout_for(project: Path, notebook: Path, package: str | None, name: str | None) -> Layout:
    return Layout(
        project,
        package or identifier(project.name, "pipelines"),
        name or identifier(notebook.stem, "pipeline"),
    )
