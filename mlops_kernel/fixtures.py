"""Stored inputs for generated tests: pickled values, checked by their sha256.

The capture run pickles what each step received in the notebook; a generated
test loads it back and feeds it to the extracted step. The sha256 recorded in
the test guards against a fixture that was edited, truncated or swapped: a test
must never pass on data other than what the notebook saw.

Classes and functions defined in a notebook are pickled as ``__main__.Name``.
In a test ``__main__`` is pytest, so :func:`load_value` can map ``__main__`` to
the generated module (``main_module``), which defines the same names.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
from pathlib import Path
from typing import Any

__all__ = ["PROTOCOL", "FixtureError", "dump_value", "load_value", "save_value"]

PROTOCOL = 5
_MAIN_MODULES = frozenset({"__main__", "__mp_main__"})


class FixtureError(Exception):
    """A fixture cannot be written or read; the message names the file and the reason."""


def dump_value(value: object) -> bytes | None:
    """``value`` pickled (protocol 5), or None when it cannot be pickled.

    Lambdas, closures, generators, open files, locks... cannot: the generated
    test then rebuilds such an input by running the producing step instead.
    """
    try:
        return pickle.dumps(value, protocol=PROTOCOL)
    except Exception:  # PicklingError, TypeError, AttributeError, RecursionError, ...
        return None


def save_value(path: Path, value: object) -> str:
    """Pickle ``value`` into ``path`` atomically; returns the sha256 hex of the bytes.

    Raises FixtureError when the value cannot be pickled.
    """
    data = dump_value(value)
    if data is None:
        kind = type(value).__qualname__
        raise FixtureError(f"cannot store fixture {path}: a {kind} value cannot be pickled")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise FixtureError(f"cannot store fixture {path}: {exc.strerror or exc}") from exc
    return hashlib.sha256(data).hexdigest()


class _Unpickler(pickle.Unpickler):
    """Resolves ``__main__.Name`` in ``main_module`` (the generated module) when given."""

    def __init__(self, data: bytes, main_module: str | None) -> None:
        super().__init__(io.BytesIO(data))
        self._main_module = main_module

    def find_class(self, module: str, name: str) -> Any:
        if module in _MAIN_MODULES and self._main_module:
            module = self._main_module
        return super().find_class(module, name)


def load_value(path: Path, sha256: str | None = None, *, main_module: str | None = None) -> Any:
    """The value stored in ``path``, after checking its sha256 (when given).

    ``main_module`` (e.g. ``'pkg.name'``) is where classes and functions pickled
    from ``__main__`` (defined in the notebook) are looked up. Raises FixtureError
    when the file is missing, its hash differs, or it cannot be unpickled.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FixtureError(
            f"fixture {path} is missing; capture the notebook again to recreate it"
        ) from None
    except OSError as exc:
        raise FixtureError(f"cannot read fixture {path}: {exc.strerror or exc}") from exc
    if sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256.lower():
            raise FixtureError(
                f"fixture {path} was changed since it was captured "
                f"(sha256 {actual[:12]}..., expected {sha256[:12]}...); "
                "capture the notebook again instead of editing fixtures"
            )
    try:
        return _Unpickler(data, main_module).load()
    except (ImportError, AttributeError) as exc:
        where = f" (notebook names are looked up in {main_module!r})" if main_module else ""
        raise FixtureError(f"cannot load fixture {path}: {exc}{where}") from exc
    except Exception as exc:
        raise FixtureError(f"cannot load fixture {path}: {type(exc).__name__}: {exc}") from exc
