"""Fill an environment lock's wheels and hashes from a shared wheelhouse.

Wheels already in the wheelhouse are reused; the rest are fetched with one
``pip download --no-deps --only-binary=:all:`` call (built with
``pip wheel --no-deps`` when a release has no wheel for this Python), into a
temporary directory inside the wheelhouse, and then renamed into it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .model import EnvLock, EnvLockError, LockedPackage, python_version
from .pip import PipOptions, failure, is_network_failure, run_pip
from .wheelhouse import find_wheels, move_in, sha256_of, wheel_rank


def gather_wheels(
    lock: EnvLock,
    wheelhouse: Path,
    *,
    ca_bundle: Path | None = None,
    index_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> EnvLock:
    """``lock`` with every package's wheel file name and SHA-256 filled in."""
    say = progress or (lambda _message: None)
    if lock.python != python_version():
        raise EnvLockError(
            f"environment lock {lock.id} was resolved with Python {lock.python}, but wheels are "
            f"gathered for this Python ({python_version()}): resolve the lock again here"
        )
    try:
        wheelhouse.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvLockError(f"cannot create the wheelhouse {wheelhouse}: {exc}") from exc
    pins = {p.name: p.version for p in lock.packages}
    found = find_wheels(wheelhouse, pins)
    for name in sorted(found):
        say(f"reusing {found[name].name}")
    missing = [p for p in lock.packages if p.name not in found]
    if missing:
        options = PipOptions(ca_bundle=ca_bundle, index_url=index_url)
        with tempfile.TemporaryDirectory(dir=wheelhouse, prefix=".fetch-") as tmp:
            fetched = _fetch(missing, Path(tmp), options, wheelhouse, say)
            for name, path in fetched.items():
                found[name] = move_in(path, wheelhouse)
                say(f"added {path.name}")
    packages = tuple(
        replace(p, filename=found[p.name].name, sha256=sha256_of(found[p.name]))
        for p in lock.packages
    )
    return replace(lock, packages=packages)


def _fetch(
    missing: list[LockedPackage],
    dest: Path,
    options: PipOptions,
    wheelhouse: Path,
    say: Callable[[str], None],
) -> dict[str, Path]:
    """Download (or build) a wheel for each package into ``dest``."""
    remaining = list(missing)
    no_binary: list[LockedPackage] = []
    while remaining:
        result = run_pip("download", _args(remaining, dest, binary=True), options, say)
        if result.returncode == 0:
            break
        unavailable = result.not_found() & {p.name for p in remaining}
        if is_network_failure(result) or not unavailable:
            raise failure(result, _pins(remaining), options, wheelhouse)
        no_binary += [p for p in remaining if p.name in unavailable]
        remaining = [p for p in remaining if p.name not in unavailable]
    if no_binary:
        say(f"no wheel on the index for {_pins(no_binary)}: building")
        result = run_pip("wheel", _args(no_binary, dest, binary=False), options, say)
        if result.returncode != 0:
            raise failure(result, _pins(no_binary), options, wheelhouse)
    fetched = find_wheels(dest, {p.name: p.version for p in missing})
    lacking = [p for p in missing if p.name not in fetched]
    if lacking:
        stray = sorted(f.name for f in dest.iterdir() if wheel_rank(f.name) is None)
        raise EnvLockError(
            f"pip did not produce a wheel this Python can install for {_pins(lacking)}"
            f"{f' (it left {stray})' if stray else ''}; put one into {wheelhouse} by hand"
        )
    return fetched


def _args(packages: list[LockedPackage], dest: Path, *, binary: bool) -> list[str]:
    if binary:
        return ["--no-deps", "--only-binary=:all:", "--dest", str(dest), *_pin_list(packages)]
    return ["--no-deps", "--wheel-dir", str(dest), *_pin_list(packages)]


def _pin_list(packages: list[LockedPackage]) -> list[str]:
    return [p.pin() for p in packages]


def _pins(packages: list[LockedPackage]) -> str:
    return ", ".join(_pin_list(packages))
