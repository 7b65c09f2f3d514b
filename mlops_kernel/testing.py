"""Helpers for the generated characterisation tests (``tests/test_<name>.py``).

A generated test gives one step function of an extracted module what that step saw
when the notebook ran in a fresh kernel (its inputs and the random generators'
states, stored by the capture run) and checks that it computes what the notebook
computed (the fingerprints of its outputs). The helpers keep those tests short.
Fixture layout: see :mod:`mlops_kernel.notebook.capture_cells`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from mlops_kernel.fingerprint import differences, fingerprint
from mlops_kernel.fixtures import FixtureError, load_value
from mlops_kernel.notebook.capture import scratch_workdir
from mlops_kernel.notebook.capture_cells import (
    FILES_DIR,
    INPUTS_FILE,
    MANIFEST,
    OUTPUTS_FILE,
    RNG_FILE,
    set_rng_states,
)

__all__ = [
    "as_outputs",
    "assert_fingerprints",
    "assert_outputs",
    "expected_outputs",
    "fingerprints",
    "load_inputs",
    "replay",
    "restore_files",
    "restore_rng",
    "scratch_workdir",
]

StepTable = Sequence[tuple[str, Sequence[str], Sequence[str]]]


def load_inputs(fixtures: Path, step: str, sha256: str, *, module: str) -> dict[str, Any]:
    """The inputs ``step`` received in the notebook, keyed by parameter name.

    Classes and functions the notebook defined are looked up in ``module``, the
    extracted module, which defines them under the same names.
    """
    value = load_value(Path(fixtures) / step / INPUTS_FILE, sha256, main_module=module)
    if not isinstance(value, dict):
        raise FixtureError(f"fixture {Path(fixtures) / step / INPUTS_FILE} is not a dict")
    return value


def restore_rng(fixtures: Path, step: str, sha256: str | None) -> None:
    """Put the random generators back in the state they had when ``step`` started.

    ``sha256`` None means the state was not stored: nothing to restore.
    """
    if sha256 is None:
        return
    states = load_value(Path(fixtures) / step / RNG_FILE, sha256)
    if not isinstance(states, dict) or "random" not in states:
        raise FixtureError(f"fixture {Path(fixtures) / step / RNG_FILE} holds no RNG states")
    set_rng_states(states)


def restore_files(fixtures: Path, step: str, into: Path) -> None:
    """Put back, under ``into``, the files earlier cells had written when ``step`` started.

    A step may read what an earlier one saved (a model file, a CSV). Each file's
    content is checked against the sha256 it was stored under.
    """
    import hashlib

    manifest_path = Path(fixtures) / MANIFEST
    try:
        entry = json.loads(manifest_path.read_text(encoding="utf-8"))["steps"][step]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FixtureError(f"fixture {manifest_path} has no entry for step {step}: {exc}") from exc
    root = Path(into)
    for relative, sha256 in entry.get("files", {}).items():
        parts = Path(relative).parts
        if Path(relative).is_absolute() or ".." in parts:
            raise FixtureError(f"fixture {manifest_path}: {relative!r} is outside the work folder")
        stored = Path(fixtures) / FILES_DIR / sha256
        try:
            data = stored.read_bytes()
        except OSError as exc:
            raise FixtureError(f"fixture {stored} (for {relative}) cannot be read: {exc}") from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise FixtureError(f"fixture {stored} was changed since it was captured")
        target = root.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():  # a link to the notebook's folder: never write through it
            target.unlink()
        target.write_bytes(data)


def expected_outputs(fixtures: Path, step: str) -> dict[str, dict[str, Any]]:
    """The fingerprints of ``step``'s outputs in the notebook, by output name."""
    path = Path(fixtures) / step / OUTPUTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FixtureError(f"fixture {path} is missing; capture the notebook again") from None
    except ValueError as exc:
        raise FixtureError(f"fixture {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise FixtureError(f"fixture {path} is not a JSON object")
    return data


def as_outputs(result: object, names: Sequence[str]) -> dict[str, object]:
    """A step's return value as ``{output name: value}``.

    Steps return nothing for no outputs, the value for one and a tuple for several.
    """
    if not names:
        return {}
    if len(names) == 1:
        return {names[0]: result}
    count = len(result) if isinstance(result, tuple) else None
    assert count == len(names), (
        f"the step should return {len(names)} values ({', '.join(names)}), "
        f"but returned {'a ' + type(result).__name__ if count is None else count}"
    )
    assert isinstance(result, tuple)
    return dict(zip(names, result, strict=True))


def fingerprints(values: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    """Fingerprints as they read back from the JSON fixtures (tuples become lists...)."""
    prints = {name: fingerprint(value) for name, value in values.items()}
    result: dict[str, dict[str, Any]] = json.loads(json.dumps(prints))
    return result


def assert_outputs(expected: dict[str, dict[str, Any]], actual: Mapping[str, object]) -> None:
    """Fail, naming what changed, unless ``actual`` values match the expected fingerprints.

    Only outputs the notebook run could fingerprint are compared; an expected output
    missing from ``actual`` is a difference.
    """
    assert_fingerprints(
        expected, fingerprints({name: actual[name] for name in expected if name in actual})
    )


def assert_fingerprints(
    expected: dict[str, dict[str, Any]], actual: Mapping[str, dict[str, Any]]
) -> None:
    """:func:`assert_outputs` for values already fingerprinted (what :func:`replay` gives)."""
    found = differences(
        _unlocal(expected), _unlocal({name: actual[name] for name in expected if name in actual})
    )
    if found:
        listed = "\n".join(f"  {line}" for line in found)
        raise AssertionError(f"outputs differ from the notebook's:\n{listed}")


_LOCALS = re.compile(r"^.*<locals>\.")


def _unlocal(value: Any) -> Any:
    """Drop ``step.<locals>.`` from qualified names: the notebook defined at top level
    the lambdas and classes that the extracted step defines inside its function."""
    if isinstance(value, dict):
        return {
            key: _LOCALS.sub("", item)
            if key in ("name", "class") and isinstance(item, str)
            else _unlocal(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_unlocal(item) for item in value]
    return value


def replay(
    module: ModuleType,
    steps: StepTable,
    params: object,
    *,
    seed: int,
    seed_torch: bool,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Run every step of ``module`` in order, as the notebook did; fingerprint each step.

    For steps whose inputs could not be stored (a lambda, over the size cap): their
    inputs are rebuilt by running the steps before them. The generators are seeded
    first exactly as in the capture run, and the namespace starts with ``params``'
    fields (the module's ``Params`` dataclass). Returns ``{step: {output: print}}``,
    each taken right after its step, before later steps can change the values.
    """
    from mlops_kernel.pipeline import seed_everything

    if not dataclasses.is_dataclass(params) or isinstance(params, type):
        raise TypeError(f"params must be a dataclass instance, not {type(params).__name__}")
    namespace: dict[str, object] = {
        item.name: getattr(params, item.name) for item in dataclasses.fields(params)
    }
    seed_everything(seed, torch=seed_torch)
    prints: dict[str, dict[str, dict[str, Any]]] = {}
    for name, inputs, outputs in steps:
        missing = [item for item in inputs if item not in namespace]
        assert not missing, f"step {name} needs {', '.join(missing)}, which no earlier step made"
        result = getattr(module, name)(**{item: namespace[item] for item in inputs})
        values = as_outputs(result, outputs)
        prints[name] = fingerprints(values)
        namespace.update(values)
    return prints
