"""The preprocessing function of a logged model: checked, copied, hashed and loaded back.

Serving must run the very code that training ran, without the training process. So
the function must be a module-level function of a module with a ``.py`` source file
(not ``__main__``: a script or notebook would re-run its training when loaded). The
whole module file is copied into the model folder as ``preprocess.py`` with its
SHA-256; loading checks the hash and imports the copy under a private module name.
The copy is imported on its own, so it may import installed packages, not its siblings.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import shutil
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlops_kernel.models.errors import ModelError
from mlops_kernel.models.manifest import PREPROCESS_FILE, PreprocessInfo

Preprocess = Callable[[Any], Any]

_WHY = "so serving can load the same code"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def describe(fn: object) -> tuple[PreprocessInfo, Path]:
    """Check ``fn`` can be served; returns its info and its module's source file."""
    what = "log_model: preprocess must be a module-level function in a .py file " + _WHY
    if not isinstance(fn, types.FunctionType):
        raise ModelError(f"{what}; got {type(fn).__name__} {fn!r}")
    if fn.__name__ == "<lambda>":
        raise ModelError(f"{what}; got a lambda")
    if "<locals>" in fn.__qualname__ or fn.__closure__:
        raise ModelError(f"{what}; got {fn.__qualname__}, defined inside another function")
    if fn.__module__ == "__main__":
        raise ModelError(
            f"{what}; got {fn.__name__} from __main__ (a script or notebook): move it into a "
            "module of its own, e.g. features.py, and import it from there"
        )
    module = sys.modules.get(fn.__module__)
    source = inspect.getsourcefile(module) if module is not None else None
    if module is None or source is None or not source.endswith(".py"):
        raise ModelError(f"{what}; module {fn.__module__!r} of {fn.__name__} has no .py file")
    function: object = fn
    if getattr(module, fn.__name__, None) is not function:
        raise ModelError(
            f"{what}; {fn.__module__}.{fn.__name__} is not this function (it was redefined "
            "or renamed): import the module's function itself"
        )
    path = Path(source)
    info = PreprocessInfo(module=fn.__module__, function=fn.__name__, sha256=file_sha256(path))
    return info, path


def copy_into(source: Path, model_dir: Path, info: PreprocessInfo) -> Path:
    """Copy the module file into the model folder; fails if it changed since ``describe``."""
    dest = model_dir / PREPROCESS_FILE
    shutil.copyfile(source, dest)
    if file_sha256(dest) != info.sha256:
        raise ModelError(
            f"log_model: {source} changed while the model was being logged; log it again"
        )
    return dest


def load_file(path: Path, info: PreprocessInfo) -> Preprocess:
    """Import a copied module (after checking its hash) and return the function.

    Raises ModelError when the file changed, cannot be imported on its own, or lacks
    the function. The module gets a private name per hash, so two models' copies of a
    ``features.py`` never clash, and loading the same copy twice reuses the module.
    """
    try:
        sha = file_sha256(path)
    except OSError as exc:
        raise ModelError(f"preprocess file {path} cannot be read: {exc}") from exc
    if sha != info.sha256:
        raise ModelError(
            f"{path} changed since the model was logged (sha256 {sha[:12]}..., expected "
            f"{info.sha256[:12]}...); log the model again instead of editing its files"
        )
    name = f"_mlops_preprocess_{sha[:24]}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ModelError(f"preprocess file {path} cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise ModelError(
                f"the copy of module {info.module!r} ({path}) fails to import on its own: "
                f"{type(exc).__name__}: {exc}; a preprocess module may import installed "
                "packages, not other files of the project"
            ) from exc
    fn = getattr(module, info.function, None)
    if not callable(fn):
        raise ModelError(f"preprocess file {path} has no function {info.function!r}")
    return fn  # type: ignore[no-any-return]
