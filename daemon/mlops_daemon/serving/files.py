"""The files of a registered version that ``mlops export-service`` downloads.

Only ``model.onnx``, ``model.json`` and ``preprocess.py`` are served, each checked
against what was registered (the ONNX file's and the preprocess source's SHA-256, the
manifest's ONNX hash), so an exported service holds exactly the registered model.
"""

from __future__ import annotations

import hashlib

from mlops_kernel.models.manifest import (
    MANIFEST_FILE,
    ONNX_FILE,
    PREPROCESS_FILE,
    ModelManifest,
)

from ..errors import InvalidInput, NotFound
from ..store.repository import Store
from .errors import ModelUnavailable

SERVED_FILES = (ONNX_FILE, MANIFEST_FILE, PREPROCESS_FILE)


def version_file(store: Store, name: str, version: str, path: str) -> bytes:
    """The bytes of one of a version's served files (blocking: runs on the store's pool)."""
    if path not in SERVED_FILES:
        raise NotFound(
            f"only {', '.join(SERVED_FILES)} of a model version can be downloaded, not {path!r}"
        )
    if not version.isdigit():
        raise InvalidInput(f"a model version is a number, not {version!r}")
    model_dir, sha256, manifest = store.model_version_files(name, int(version))
    if path == PREPROCESS_FILE and manifest.preprocess is None:
        raise NotFound(f"model {name!r} version {version} has no preprocess function")
    source = model_dir / (manifest.onnx_file if path == ONNX_FILE else path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ModelUnavailable(
            f"model {name!r} version {version}: {source} cannot be read ({exc.strerror})"
        ) from None
    _check(data, path, manifest, sha256, f"model {name!r} version {version}: {source}")
    return data


def _check(data: bytes, path: str, manifest: ModelManifest, sha256: str, what: str) -> None:
    changed = f"{what} changed since the version was registered; it will not be served"
    if path == ONNX_FILE and hashlib.sha256(data).hexdigest() != sha256:
        raise ModelUnavailable(changed)
    if path == PREPROCESS_FILE:
        assert manifest.preprocess is not None
        if hashlib.sha256(data).hexdigest() != manifest.preprocess.sha256:
            raise ModelUnavailable(changed)
    if path == MANIFEST_FILE:
        try:
            on_disk = ModelManifest.model_validate_json(data)
        except ValueError:
            raise ModelUnavailable(f"{what} is not a valid model manifest") from None
        if on_disk.onnx_sha256 != sha256:
            raise ModelUnavailable(changed)
