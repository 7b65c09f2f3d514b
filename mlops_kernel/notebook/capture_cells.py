"""Kernel-side half of the capture: what the instrumented notebook's capture cells call.

:mod:`mlops_kernel.notebook.capture` inserts a cell before and after every step of the
notebook; each is one call into this module, run inside the fresh kernel with the
notebook's own namespace. The calls must not disturb the notebook they observe: they
print nothing, never draw from a random generator, and bind no names in the namespace.

Layout they write under the fixtures folder (names are relative to it)::

    manifest.json          {"format": 1, "seed": ..., "steps": {step: entry, ...}}
    <step>/inputs.pkl      the step's inputs, one dict {name: value} (when storable)
    <step>/rng.pkl         random generator states when the step started
    <step>/outputs.json    {name: fingerprint} of the step's outputs when it ended
    written-files/<sha256> a file the notebook wrote before a step that stored its
                           inputs (the test puts it back: the step may read it)

A manifest entry holds ``inputs``, ``outputs`` (names), ``inputs_file``,
``inputs_sha256``, ``rng_file``, ``rng_sha256`` (None when not stored), ``files``
({path relative to the working directory: sha256}), ``main_names`` (what the stored
inputs look up in ``__main__``, i.e. names the notebook defined), ``values`` (the
finite numeric scalar outputs, for metrics) and ``note`` (why inputs were not stored,
outputs missing, ...). The host adds run-level fields when the run is over.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
INPUTS_FILE = "inputs.pkl"
RNG_FILE = "rng.pkl"
OUTPUTS_FILE = "outputs.json"
FILES_DIR = "written-files"  # not an identifier: no step can have this name
FORMAT = 1


_STATE: dict[str, Any] = {"baseline": None}


def begin(fixtures_dir: str, seed: int, seed_torch: bool, baseline: str | None = None) -> None:
    """Seed every generator as the extracted module's ``run`` does; start the manifest.

    ``baseline`` is a JSON file of :func:`regular_files` of the working directory before
    the run: files not in it (or changed since) were written by the notebook. Without
    it, written files are not looked for.
    """
    from mlops_kernel.pipeline import seed_everything

    seed_everything(seed, torch=seed_torch)
    _STATE["baseline"] = None if baseline is None else _read_json(Path(baseline))
    manifest = {"format": FORMAT, "seed": seed, "seed_torch": seed_torch, "steps": {}}
    _write_json(Path(fixtures_dir) / MANIFEST, manifest)


def record_inputs(
    step: str,
    names: Sequence[str],
    namespace: Mapping[str, Any],
    fixtures_dir: str,
    cap: int,
) -> None:
    """Store the step's inputs, the files earlier cells wrote and the RNG states.

    Inputs and files are stored together or not at all (the test then replays the
    pipeline): when something cannot be pickled, or they take more than ``cap`` bytes.
    """
    from mlops_kernel.fixtures import dump_value, save_value

    root = Path(fixtures_dir)
    folder = root / step
    folder.mkdir(parents=True, exist_ok=True)
    entry: dict[str, Any] = {
        "inputs": list(names),
        "outputs": [],
        "inputs_file": None,
        "inputs_sha256": None,
        "rng_file": None,
        "rng_sha256": None,
        "files": {},
        "main_names": [],
        "values": {},
        "note": "",
    }
    notes: list[str] = []
    blob = _pickled_inputs(names, namespace, cap, notes)
    baseline = _STATE["baseline"]
    written = {} if baseline is None else written_files(Path.cwd(), baseline)
    size = sum(path.stat().st_size for path in written.values())
    if blob is not None and written and len(blob) + size > cap:
        notes.append(
            f"inputs not stored: with the {len(written)} files earlier cells wrote they take "
            f"{(len(blob) + size) / 1e6:.3g} MB, over the {cap / 1e6:.3g} MB cap"
        )
    elif blob is not None:
        entry["inputs_sha256"] = save_value(folder / INPUTS_FILE, {n: namespace[n] for n in names})
        entry["inputs_file"] = f"{step}/{INPUTS_FILE}"
        entry["files"] = {rel: _store_file(root, path) for rel, path in written.items()}
        entry["main_names"] = main_names(blob)
    states = rng_states()
    if dump_value(states) is not None:
        entry["rng_sha256"] = save_value(folder / RNG_FILE, states)
        entry["rng_file"] = f"{step}/{RNG_FILE}"
    else:
        notes.append("random generator states not stored: cannot be pickled")
    entry["note"] = "; ".join(notes)
    manifest = _read_json(root / MANIFEST)
    manifest["steps"][step] = entry
    _write_json(root / MANIFEST, manifest)


def _pickled_inputs(
    names: Sequence[str], namespace: Mapping[str, Any], cap: int, notes: list[str]
) -> bytes | None:
    """The inputs pickled as one dict, or None with the reason added to ``notes``."""
    from mlops_kernel.fixtures import dump_value

    missing = [name for name in names if name not in namespace]
    if missing:
        notes.append(f"inputs not defined when the step started: {', '.join(missing)}")
        return None
    values = {name: namespace[name] for name in names}
    estimate = sum(_size_in_memory(value) for value in values.values())
    if estimate > cap:
        notes.append(
            f"inputs not stored: about {estimate / 1e6:.3g} MB in memory, over the "
            f"{cap / 1e6:.3g} MB cap"
        )
        return None
    blob = dump_value(values)
    if blob is None:
        culprits = [name for name in names if dump_value(values[name]) is None]
        what = ", ".join(culprits) if culprits else "the inputs taken together"
        notes.append(f"inputs not stored: cannot be pickled: {what}")
    elif len(blob) > cap:
        notes.append(
            f"inputs not stored: {len(blob) / 1e6:.3g} MB pickled, over the {cap / 1e6:.3g} MB cap"
        )
        return None
    return blob


def main_names(blob: bytes) -> list[str]:
    """Names a pickle looks up in ``__main__``: what the notebook itself defined, which
    the extracted module must define at its top level for the inputs to load."""
    import pickletools

    found: set[str] = set()
    memo: dict[int, object] = {}
    pushed: list[object] = [None, None]  # the last two values pushed (strings, else None)
    try:
        for opcode, arg, _ in pickletools.genops(blob):
            name = opcode.name
            if name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
                pushed.append(str(arg))
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                pushed.append(memo.get(arg) if isinstance(arg, int) else None)
            elif name == "MEMOIZE":
                memo[len(memo)] = pushed[-1]
            elif name in ("PUT", "BINPUT", "LONG_BINPUT") and isinstance(arg, int):
                memo[arg] = pushed[-1]
            elif name == "STACK_GLOBAL":
                if pushed[-2] == "__main__" and isinstance(pushed[-1], str):
                    found.add(pushed[-1])
                pushed.append(None)
            elif name == "GLOBAL" and isinstance(arg, str):
                module, _, qualname = arg.partition(" ")
                if module == "__main__":
                    found.add(qualname)
                pushed.append(None)
            elif name not in ("PROTO", "FRAME"):
                pushed.append(None)
            del pushed[:-2]
    except Exception:  # a pickle pickletools cannot walk: nothing to report
        return []
    return sorted(found)


def regular_files(root: Path) -> dict[str, list[int]]:
    """``{relative path: [size, mtime_ns]}`` of the real files under ``root``.

    Symbolic links (what :func:`~mlops_kernel.notebook.capture.scratch_workdir` makes)
    are not followed, and byte-code caches are left out.
    """
    found: dict[str, list[int]] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not os.path.islink(Path(folder, d))]
        for name in files:
            path = Path(folder, name)
            if path.is_symlink() or name.endswith(".pyc"):
                continue
            info = path.stat()
            found[path.relative_to(root).as_posix()] = [info.st_size, info.st_mtime_ns]
    return found


def written_files(root: Path, baseline: Mapping[str, Any]) -> dict[str, Path]:
    """Files under ``root`` that are not in ``baseline`` or changed since: the notebook's."""
    return {
        rel: root / rel
        for rel, stat in sorted(regular_files(root).items())
        if baseline.get(rel) != stat
    }


def _store_file(root: Path, path: Path) -> str:
    """Copy a written file into ``written-files/<sha256>`` (each content stored once)."""
    import hashlib
    import shutil

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    target = root / FILES_DIR / digest
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return digest


def record_outputs(
    step: str,
    names: Sequence[str],
    namespace: Mapping[str, Any],
    fixtures_dir: str,
) -> None:
    """Write the fingerprints of the step's outputs and its numeric scalar values."""
    from mlops_kernel.fingerprint import fingerprint, metric_value

    root = Path(fixtures_dir)
    prints: dict[str, Any] = {}
    values: dict[str, float] = {}
    notes: list[str] = []
    for name in names:
        if name not in namespace:
            notes.append(f"output {name} not defined when the step ended")
            continue
        value = namespace[name]
        try:
            prints[name] = fingerprint(value)
        except Exception as exc:  # a fingerprint bug must not fail the user's notebook
            notes.append(f"output {name} not fingerprinted: {type(exc).__name__}: {exc}")
            continue
        number = metric_value(value)
        if number is not None and math.isfinite(number):
            values[name] = number
    _write_json(root / step / OUTPUTS_FILE, prints)
    manifest = _read_json(root / MANIFEST)
    entry = manifest["steps"][step]
    entry["outputs"] = list(names)
    entry["values"] = values
    entry["note"] = "; ".join(part for part in [entry["note"], *notes] if part)
    _write_json(root / MANIFEST, manifest)


def _size_in_memory(value: object) -> int:
    """A cheap lower bound of a value's size (arrays, frames, tensors, bytes), so that
    inputs far over the cap are not pickled into memory just to find that out."""
    try:
        if isinstance(value, bytes | bytearray | str):
            return len(value)
        nbytes = getattr(value, "nbytes", None)  # numpy arrays, pandas Series
        if isinstance(nbytes, int):
            return nbytes
        usage = getattr(value, "memory_usage", None)  # pandas DataFrame
        if callable(usage) and type(value).__module__.startswith("pandas"):
            return int(usage(index=True, deep=False).sum())
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(value, torch.Tensor):
            return int(value.nelement() * value.element_size())
    except Exception:  # an odd object: let pickling tell
        return 0
    return 0


def rng_states() -> dict[str, Any]:
    """The global generators' states: ``random``, and numpy's and torch's when imported.

    Reading a state never draws from the generator, and nothing is imported here: a
    library the notebook has not imported has no state worth keeping.
    """
    states: dict[str, Any] = {"random": random.getstate()}
    np = sys.modules.get("numpy")
    if np is not None and hasattr(np, "random"):
        states["numpy"] = np.random.get_state()
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "get_rng_state"):
        states["torch"] = torch.get_rng_state()
        cuda = getattr(torch, "cuda", None)
        if cuda is not None and cuda.is_initialized():
            states["torch_cuda"] = cuda.get_rng_state_all()
    return states


def set_rng_states(states: Mapping[str, Any]) -> None:
    """Put back what :func:`rng_states` read (imports numpy/torch when they are in it)."""
    random.setstate(states["random"])
    if "numpy" in states:
        import numpy

        numpy.random.set_state(states["numpy"])
    if "torch" in states:
        import torch

        torch.set_rng_state(states["torch"])
        if "torch_cuda" in states and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(states["torch_cuda"])


def _read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _write_json(path: Path, data: object) -> None:
    """Write atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(partial, path)
