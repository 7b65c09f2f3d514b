"""Resolve a run's environment lock from the code and this interpreter, offline.

1. :func:`.scan.scan` finds the third-party modules the entry point's code imports,
2. :func:`.declared.read_declared` adds what the project declares,
3. both are mapped onto the distributions installed in the interpreter that
   trains (this one), at their installed versions, and closed over their
   ``Requires-Dist`` with markers evaluated and requested extras included.

Anything missing or not matching what is declared is reported together, each
problem with where it comes from and the command that fixes it.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from .declared import Declared, read_declared
from .installed import SELF, Installed, installed
from .model import EnvLock, EnvLockError, LockedPackage, python_version
from .scan import ImportSite, scan_code

TOOLING = frozenset({"pip", "setuptools", "wheel"})
"""Locked only when the project imports or declares them, not as someone's dependency."""

# Import names that differ from the distribution to install (for the fix we suggest).
PIP_NAMES = {
    "sklearn": "scikit-learn",
    "yaml": "PyYAML",
    "cv2": "opencv-python",
    "PIL": "Pillow",
    "bs4": "beautifulsoup4",
    "skimage": "scikit-image",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "jwt": "PyJWT",
    "Crypto": "pycryptodome",
    "attr": "attrs",
    "google": "protobuf",
}


@dataclass
class _Problems:
    messages: list[str] = field(default_factory=list)
    details: list[dict[str, str]] = field(default_factory=list)

    def add(self, message: str, subject: str, where: str, fix: str) -> None:
        self.messages.append(message)
        self.details.append({"subject": subject, "where": where, "fix": fix})

    def raise_if_any(self) -> None:
        if not self.messages:
            return
        if len(self.messages) == 1:
            raise EnvLockError(self.messages[0], self.details)
        listed = "\n".join(f"- {m}" for m in self.messages)
        raise EnvLockError(
            f"{len(self.messages)} problems locking the environment:\n{listed}", self.details
        )


def resolve_lock(project: Path | str, entry_point: str) -> EnvLock:
    """The environment lock for running ``entry_point`` in ``project`` (no network)."""
    root = Path(project)
    if not root.is_dir():
        raise EnvLockError(f"project directory {root} does not exist")
    env = installed()
    sites, files = scan_code(root, entry_point)
    declared = read_declared(root)
    problems = _Problems()
    notes = list(declared.notes)
    wanted: dict[str, set[str]] = {}
    imports: set[str] = set()
    reported: set[str] = set()
    for site in sites:
        providers = env.distributions_for(site.name)
        if not providers:
            if site.optional:
                notes.append(f"{site.where}: optional import {site.name!r} is not installed")
            elif site.name not in reported:
                reported.add(site.name)
                _missing_import(site, sites, problems)
            continue
        names = [n for n in env.narrow(providers, site.dotted) if n != SELF]
        if names:
            imports.add(site.name)
        for name in names:
            wanted.setdefault(name, set())
    requirements = [_check_declared(d, env, problems, notes, wanted) for d in declared.requirements]
    for name in model_export_packages(files, imports, env) + test_packages(root, env):
        wanted.setdefault(name, set())
    closure = _close(wanted, env, problems)
    problems.raise_if_any()
    for name in sorted(closure):
        url = env.direct_url(name)
        if url:
            notes.append(
                f"{name} was installed from {url}, not from a package index: "
                "gathering its wheel needs it on the index (or its wheel in the wheelhouse)"
            )
    packages = tuple(LockedPackage(name, env.version(name) or "") for name in sorted(closure))
    return EnvLock(
        python=python_version(),
        packages=packages,
        imports=tuple(sorted(imports)),
        requirements=tuple(r for r in requirements if r),
        notes=tuple(notes),
    )


def lock_for_packages(names: list[str]) -> EnvLock:
    """The lock of the named installed distributions and all they require, at the
    versions installed here (EnvLockError naming what is missing)."""
    env = installed()
    problems = _Problems()
    wanted: dict[str, set[str]] = {}
    for name in names:
        canonical = canonicalize_name(name)
        if env.version(canonical) is None:
            fix = f"{sys.executable} -m pip install {name}"
            problems.add(f"{name} is not installed here. Fix: {fix}", canonical, name, fix)
            continue
        wanted[canonical] = set()
    closure = _close(wanted, env, problems)
    problems.raise_if_any()
    packages = tuple(LockedPackage(n, env.version(n) or "") for n in sorted(closure))
    return EnvLock(python=python_version(), packages=packages)


MODEL_EXPORT = ("onnx", "onnxruntime", "pydantic")
"""What ``log_model`` needs in the run's environment to export and check a model..."""
EXPORTERS = {"sklearn": ("skl2onnx",), "torch": ("onnxscript",)}
"""...and per training library, its ONNX converter (where installed here)."""


def model_export_packages(files: list[Path], imports: set[str], env: Installed) -> list[str]:
    """The packages a run needs because its code calls ``log_model``: the ONNX export
    happens inside the run (its container has no network and no daemon)."""
    if not any(_calls_log_model(path) for path in files):
        return []
    names = list(MODEL_EXPORT)
    for library, exporters in EXPORTERS.items():
        if library in imports:
            names += exporters
    return [canonicalize_name(n) for n in names if env.version(canonicalize_name(n))]


def test_packages(root: Path, env: Installed) -> list[str]:
    """pytest, at the version here, when the project has tests: the ``tests`` gate runs
    them in the run's own environment, so they must find a test runner there."""
    has_tests = (root / "tests").is_dir() or any(root.glob("test_*.py"))
    return ["pytest"] if has_tests and env.version("pytest") else []


def _calls_log_model(path: Path) -> bool:
    try:
        return "log_model" in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _missing_import(site: ImportSite, sites: list[ImportSite], problems: _Problems) -> None:
    others = [s.where for s in sites if s.name == site.name and s is not site]
    also = f" (also {', '.join(others[:3])}{', ...' if len(others) > 3 else ''})" if others else ""
    pip_name = PIP_NAMES.get(site.name, site.name.replace("_", "-"))
    try:
        spec = importlib.util.find_spec(site.name)
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        origin = spec.origin or ", ".join(spec.submodule_search_locations or [])
        fix = f"pip install {pip_name} (a package, so that it can be locked)"
        message = (
            f"{site.where}: module {site.name!r}{also} is importable from {origin} but belongs "
            f"to no installed distribution, so it cannot be locked; install it as a package "
            f"({fix}) or move it into the project"
        )
    else:
        fix = f"{sys.executable} -m pip install {pip_name}; add {pip_name} to requirements.txt"
        message = (
            f"{site.where}: imports {site.name!r}{also}, which is not installed in the Python "
            f"that runs training ({sys.executable}). Fix: install it there ({fix.split(';')[0]})"
            f" and add '{pip_name}' to the project's requirements.txt"
        )
    problems.add(message, site.name, site.where, fix)


def _check_declared(
    declared: Declared,
    env: Installed,
    problems: _Problems,
    notes: list[str],
    wanted: dict[str, set[str]],
) -> str:
    """Add a declared requirement to ``wanted``; the requirement text, or '' if skipped."""
    requirement = declared.requirement
    text = str(requirement)
    name = canonicalize_name(requirement.name)
    if name == SELF:
        notes.append(f"{declared.where}: {text!r} is provided to every run (not locked)")
        return ""
    version = env.version(name)
    if version is None:
        fix = f"{sys.executable} -m pip install '{text}'"
        problems.add(
            f"{declared.where}: requires {text!r}, which is not installed in the Python that "
            f"runs training ({sys.executable}). Fix: {fix} (or remove the requirement)",
            requirement.name,
            declared.where,
            fix,
        )
        return text
    if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
        fix = f"{sys.executable} -m pip install '{text}'"
        problems.add(
            f"{declared.where}: requires {text!r}, but {requirement.name} {version} is installed"
            f". Fix: {fix}, or change the requirement to match {requirement.name}=={version}",
            requirement.name,
            declared.where,
            fix,
        )
        return text
    wanted.setdefault(name, set()).update(requirement.extras)
    return text


def _close(wanted: dict[str, set[str]], env: Installed, problems: _Problems) -> set[str]:
    """``wanted`` and everything it requires, transitively, as installed here."""
    direct = set(wanted)
    done: dict[str, set[str]] = {}
    missing: set[str] = set()
    queue = list(wanted.items())
    while queue:
        name, extras = queue.pop()
        if name in done and extras <= done[name]:
            continue
        done[name] = done.get(name, set()) | extras
        environments = [{"extra": e} for e in ("", *sorted(done[name]))]
        for requirement in env.requires(name):
            marker = requirement.marker
            if marker is not None and not any(marker.evaluate(e) for e in environments):
                continue
            dep = canonicalize_name(requirement.name)
            if dep == SELF or (dep in TOOLING and dep not in direct):
                continue
            if env.version(dep) is None:
                if dep in missing:
                    continue
                missing.add(dep)
                fix = f"{sys.executable} -m pip install '{requirement}'"
                problems.add(
                    f"{name} requires {str(requirement)!r}, which is not installed in the Python "
                    f"that runs training. Fix: {fix}",
                    dep,
                    name,
                    fix,
                )
                continue
            queue.append((dep, set(requirement.extras)))
    return set(done)
