"""A run's identity: what changes it and what does not."""

from __future__ import annotations

from pathlib import Path

from mlops_daemon.identity import IdentityParts, code_hash, run_identity
from mlops_kernel.schemas import Resources, RunSpec

PARTS = IdentityParts(
    code="c" * 64, datasets=(("iris", "sha256:1"),), environment="lock:abc", executor="docker"
)


def spec(**fields: object) -> RunSpec:
    base: dict[str, object] = {"project": "/p", "entry_point": "train.py", "params": {"seed": 1}}
    base.update(fields)
    return RunSpec.model_validate(base)


def test_equal_inputs_give_equal_identities() -> None:
    assert run_identity(spec(), PARTS) == run_identity(spec(), PARTS)
    assert len(run_identity(spec(), PARTS)) == 32


def test_what_decides_the_result_changes_it() -> None:
    first = run_identity(spec(), PARTS)
    others = {
        run_identity(spec(params={"seed": 2}), PARTS),
        run_identity(spec(env={"X": "1"}), PARTS),
        run_identity(spec(entry_point="other.py"), PARTS),
        run_identity(spec(), IdentityParts("d" * 64, PARTS.datasets, "lock:abc", "docker")),
        run_identity(
            spec(), IdentityParts(PARTS.code, (("iris", "sha256:2"),), "lock:abc", "docker")
        ),
        run_identity(spec(), IdentityParts(PARTS.code, PARTS.datasets, "lock:xyz", "docker")),
        run_identity(spec(), IdentityParts(PARTS.code, PARTS.datasets, "lock:abc", "local")),
        run_identity(spec(resources=Resources(gpus=1)), PARTS),
        run_identity(spec(resources=Resources(cpus=2)), PARTS),
    }
    assert first not in others and len(others) == 9


def test_what_only_decides_whether_it_finishes_does_not() -> None:
    first = run_identity(spec(), PARTS)
    assert run_identity(spec(resources=Resources(memory_mb=64, timeout_s=5)), PARTS) == first
    assert run_identity(spec(name="again", force=True), PARTS) == first


def test_code_hash_follows_content_and_names(tmp_path: Path) -> None:
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("x = 1\n")
    b.write_text("y = 2\n")
    first = code_hash(tmp_path, [a, b])
    assert code_hash(tmp_path, [b, a]) == first
    b.write_text("y = 3\n")
    assert code_hash(tmp_path, [a, b]) != first
