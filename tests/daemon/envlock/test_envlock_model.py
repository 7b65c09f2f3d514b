"""EnvLock's identity, JSON form, requirement lines and lock files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from mlops_daemon.envlock import (
    JSON_FILE,
    REQUIREMENTS_FILE,
    EnvLock,
    EnvLockError,
    LockedPackage,
    gather_wheels,
    read_lock_file,
    write_lock_files,
)

SHA_A = "a" * 64
SHA_B = "b" * 64


def lock(numpy: str = "2.0.0", python: str = "3.11") -> EnvLock:
    return EnvLock(
        python=python,
        packages=(LockedPackage("numpy", numpy), LockedPackage("pyyaml", "6.0.3")),
        imports=("numpy", "yaml"),
        requirements=("numpy>=2",),
    )


def gathered(base: EnvLock) -> EnvLock:
    files = {"numpy": ("numpy-2.0.0-cp311-none-any.whl", SHA_A), "pyyaml": ("x.whl", SHA_B)}
    return replace(
        base,
        packages=tuple(
            replace(p, filename=files[p.name][0], sha256=files[p.name][1]) for p in base.packages
        ),
    )


def test_id_is_stable_and_follows_versions_not_hashes() -> None:
    assert lock().id == lock().id
    assert len(lock().id) == 16 and all(c in "0123456789abcdef" for c in lock().id)
    assert lock(numpy="2.0.1").id != lock().id
    assert lock(python="3.12").id != lock().id
    assert gathered(lock()).id == lock().id
    assert replace(lock(), imports=(), requirements=(), notes=("n",)).id == lock().id
    shuffled = replace(lock(), packages=tuple(reversed(lock().packages)))
    assert shuffled == lock() and shuffled.id == lock().id


def test_json_round_trip_and_tampering() -> None:
    for original in (lock(), gathered(lock())):
        data = json.loads(json.dumps(original.to_json()))
        assert data["id"] == original.id
        assert EnvLock.from_json(data) == original
    data = lock().to_json()
    data["packages"][0]["version"] = "1.0"
    with pytest.raises(EnvLockError, match="edited by hand"):
        EnvLock.from_json(data)
    with pytest.raises(EnvLockError, match="not a valid environment lock"):
        EnvLock.from_json({"python": "3.11", "packages": [{"name": 1}]})


def test_requirements_text_needs_hashes() -> None:
    with pytest.raises(EnvLockError, match="gather"):
        lock().requirements_text()
    lines = [line for line in gathered(lock()).requirements_text().splitlines() if line[0] != "#"]
    assert lines == [f"numpy==2.0.0 --hash=sha256:{SHA_A}", f"pyyaml==6.0.3 --hash=sha256:{SHA_B}"]


def test_write_lock_files(tmp_path: Path) -> None:
    target = tmp_path / "image"
    with pytest.raises(EnvLockError):
        write_lock_files(lock(), target)
    write_lock_files(gathered(lock()), target)
    assert (target / REQUIREMENTS_FILE).read_text() == gathered(lock()).requirements_text()
    assert read_lock_file(target / JSON_FILE) == gathered(lock())
    assert sorted(p.name for p in target.iterdir()) == [JSON_FILE, REQUIREMENTS_FILE]


def test_wheels_are_gathered_only_for_the_python_that_resolved(tmp_path: Path) -> None:
    with pytest.raises(EnvLockError, match="resolve the lock again"):
        gather_wheels(lock(python="2.7"), tmp_path / "wh")
