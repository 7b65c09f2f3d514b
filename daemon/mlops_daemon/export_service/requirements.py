"""The pinned ``requirements.txt`` of an exported service.

numpy and onnxruntime are pinned to the versions installed where the export runs (the
versions the daemon serves the model with). For a model with ``preprocess.py``, the
packages it imports at module level are added, best effort: each imported top-level
name is mapped to the installed distribution that provides it; a name with none is
listed as a comment to fill in. pandas is added when the preprocess function receives
a DataFrame (the model was logged from one).
"""

from __future__ import annotations

import ast
import sys
from importlib import metadata

from mlops_kernel.models.manifest import ModelManifest

ALWAYS = ("numpy", "onnxruntime")


def service_packages(
    manifest: ModelManifest, preprocess_source: str | None
) -> tuple[list[str], list[str]]:
    """(the distributions the service needs, sorted; imported names no installed
    distribution provides)."""
    wanted = set(ALWAYS)
    unknown: list[str] = []
    if preprocess_source is not None:
        if manifest.input_columns is not None:
            wanted.add("pandas")
        provided = metadata.packages_distributions()
        for name in sorted(imported_modules(preprocess_source)):
            dists = provided.get(name)
            if dists:
                wanted.update(dists)
            else:
                unknown.append(name)
    return sorted(wanted, key=str.lower), unknown


def requirements_txt(manifest: ModelManifest, preprocess_source: str | None) -> str:
    wanted, unknown = service_packages(manifest, preprocess_source)
    lines = [
        f"# The packages of the prediction service for {manifest.name}, pinned to the versions",
        "# installed where it was exported (the versions the mlops daemon serves it with).",
        *(_pin(name, manifest) for name in wanted),
    ]
    lines += [
        f"# preprocess.py imports {name!r}, which no installed package provides: add it here"
        for name in unknown
    ]
    return "\n".join(lines) + "\n"


def imported_modules(source: str) -> set[str]:
    """Top-level names of the non-standard modules a source file imports (any depth in
    the file: an import inside a function is needed at serving time too)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "__future__"}


def _pin(name: str, manifest: ModelManifest) -> str:
    try:
        return f"{name}=={metadata.version(name)}"
    except metadata.PackageNotFoundError:
        logged = manifest.libraries.get(name)
        return f"{name}=={logged}" if logged else name
