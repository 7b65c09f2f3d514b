"""The environment lock: which distributions, at which versions, a run's code needs.

An :class:`EnvLock` is resolved from the daemon's own interpreter without any
network access (:mod:`.resolve`); its :attr:`EnvLock.id` is known at once and
names the Docker image built from it. The wheels and their hashes are filled in
later (:mod:`.wheels`), which :meth:`EnvLock.requirements_text` needs for pip's
hash-checking mode.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from typing import Any

from ..errors import Unprocessable

FORMAT_VERSION = 1


def python_version() -> str:
    """``major.minor`` of this interpreter, as :attr:`EnvLock.python` records it."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


class EnvLockError(Unprocessable):
    """The environment cannot be locked or gathered; the message says what to do (HTTP 422)."""

    code = "env_lock"


@dataclass(frozen=True)
class LockedPackage:
    name: str
    """Canonical distribution name (PEP 503 normalised)."""
    version: str
    filename: str | None = None
    """The wheel in the wheelhouse, once gathered."""
    sha256: str | None = None

    def pin(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class EnvLock:
    python: str
    """``major.minor`` of the interpreter that resolved the lock, e.g. ``"3.11"``."""
    packages: tuple[LockedPackage, ...]
    """Sorted by name."""
    imports: tuple[str, ...] = ()
    """Top-level third-party imports found in the code (shown to the user)."""
    requirements: tuple[str, ...] = ()
    """Requirement strings declared in requirements.txt / pyproject.toml."""
    notes: tuple[str, ...] = field(default=())
    """Things the user may want to know (skipped lines, optional imports not installed)."""

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.packages, key=lambda p: p.name))
        if ordered != self.packages:
            object.__setattr__(self, "packages", ordered)  # "sorted by name", always

    def canonical_text(self) -> str:
        """What :attr:`id` hashes: the Python version and the sorted pins, not the hashes."""
        lines = [f"python {self.python}"]
        lines += sorted(package.pin() for package in self.packages)
        return "\n".join(lines) + "\n"

    @property
    def id(self) -> str:
        """16 hex characters naming this set of pins (known without downloading anything)."""
        return hashlib.sha256(self.canonical_text().encode()).hexdigest()[:16]

    @property
    def gathered(self) -> bool:
        """Whether every package has its wheel and hash (see :func:`.gather_wheels`)."""
        return all(p.filename and p.sha256 for p in self.packages)

    def requirements_text(self) -> str:
        """pip requirement lines in hash-checking mode: ``name==version --hash=sha256:...``."""
        missing = [p.name for p in self.packages if not p.sha256]
        if missing:
            raise EnvLockError(
                f"environment lock {self.id} has no wheel hashes for {', '.join(missing)}: "
                "gather its wheels first (gather_wheels)"
            )
        lines = [
            f"# jupyter-mlops environment lock {self.id} (Python {self.python})",
            "# pip install --no-index --find-links WHEELHOUSE --require-hashes -r THIS_FILE",
        ]
        lines += [f"{p.pin()} --hash=sha256:{p.sha256}" for p in self.packages]
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "id": self.id,
            "python": self.python,
            "packages": [
                {"name": p.name, "version": p.version, "filename": p.filename, "sha256": p.sha256}
                for p in self.packages
            ],
            "imports": list(self.imports),
            "requirements": list(self.requirements),
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EnvLock:
        """The lock :meth:`to_json` wrote; EnvLockError when ``data`` is not one."""
        try:
            packages = tuple(
                LockedPackage(
                    name=_text(p["name"]),
                    version=_text(p["version"]),
                    filename=_optional_text(p.get("filename")),
                    sha256=_optional_text(p.get("sha256")),
                )
                for p in data["packages"]
            )
            lock = cls(
                python=_text(data["python"]),
                packages=packages,
                imports=tuple(_text(i) for i in data.get("imports", ())),
                requirements=tuple(_text(r) for r in data.get("requirements", ())),
                notes=tuple(_text(n) for n in data.get("notes", ())),
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise EnvLockError(f"not a valid environment lock: {exc!r}") from exc
        recorded = data.get("id")
        if recorded is not None and recorded != lock.id:
            raise EnvLockError(
                f"environment lock says its id is {recorded!r} but its packages give {lock.id!r}"
                " (the file was edited by hand?)"
            )
        return lock


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)
