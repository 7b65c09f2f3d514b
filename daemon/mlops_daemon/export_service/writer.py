"""Write an exported prediction service: the model's files and a small standalone app.

The app and its test (``template/``, shipped as package data) are copied as they are;
the Dockerfile and README are filled in for the model. Everything is written into a
fresh folder, so an export never mixes with older files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import string
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from mlops_kernel.models.manifest import (
    MANIFEST_FILE,
    ONNX_FILE,
    PREPROCESS_FILE,
    ModelManifest,
)

from ..errors import InvalidInput, MlopsError
from .offline import OFFLINE_INSTALL, ONLINE_INSTALL, WheelSource, gather_service_wheels
from .requirements import requirements_txt, service_packages

COPIED = ("app.py", "test_service.py")
FILLED = ("Dockerfile", "README.md")
SERVICE_FILE = "service.json"
IN_IMAGE = ("app.py", MANIFEST_FILE, ONNX_FILE, SERVICE_FILE)
"""What the image holds besides the packages (and preprocess.py, when the model has one)."""


@dataclass(frozen=True)
class ExportedModel:
    """One registered version, as downloaded from the daemon."""

    model: str
    alias: str
    version: int
    manifest_json: bytes
    onnx: bytes
    preprocess: bytes | None = None


def template(name: str) -> str:
    """One of the template files, read from the installed package."""
    return (
        resources.files("mlops_daemon.export_service")
        .joinpath("template", name)
        .read_text(encoding="utf-8")
    )


def write_service(
    dest: Path, exported: ExportedModel, wheels: WheelSource | None = None
) -> list[Path]:
    """Write the service folder ``dest`` (which must not exist or be empty); returns
    the files written. With ``wheels``, the packages' wheels go into it too, so that its
    image builds without a package index."""
    manifest = _manifest(exported)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InvalidInput(f"{dest} already exists and is not an empty folder; choose a new one")
    source = exported.preprocess.decode("utf-8") if exported.preprocess else None
    files: dict[str, bytes] = {
        MANIFEST_FILE: exported.manifest_json,
        ONNX_FILE: exported.onnx,
        "requirements.txt": requirements_txt(manifest, source).encode(),
        SERVICE_FILE: _service_json(exported, manifest).encode(),
    }
    if exported.preprocess is not None:
        files[PREPROCESS_FILE] = exported.preprocess
    for name in COPIED:
        files[name] = template(name).encode()
    fill = _placeholders(exported, manifest, offline=wheels is not None)
    for name in FILLED:
        files[name] = string.Template(template(name)).safe_substitute(fill).encode()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{dest.name}-", dir=dest.parent) as tmp:
        staging = Path(tmp) / "service"
        staging.mkdir()
        for name, data in files.items():
            (staging / name).write_bytes(data)
        if wheels is not None:
            gather_service_wheels(service_packages(manifest, source)[0], staging, wheels)
        if dest.exists():
            dest.rmdir()  # empty, checked above
        shutil.move(staging, dest)
    return sorted(p for p in dest.iterdir() if p.is_file())


def _manifest(exported: ExportedModel) -> ModelManifest:
    what = f"{exported.model} version {exported.version}"
    try:
        manifest = ModelManifest.model_validate_json(exported.manifest_json)
    except ValidationError as exc:
        raise MlopsError(f"{what}: its model.json is not a valid manifest: {exc}") from None
    if hashlib.sha256(exported.onnx).hexdigest() != manifest.onnx_sha256:
        raise MlopsError(f"{what}: the downloaded model.onnx does not match its manifest")
    if manifest.onnx_file != ONNX_FILE:
        raise MlopsError(f"{what}: its ONNX file is {manifest.onnx_file!r}, not {ONNX_FILE!r}")
    if (manifest.preprocess is None) != (exported.preprocess is None):
        raise MlopsError(f"{what}: preprocess.py is missing or unexpected")
    if manifest.preprocess is not None and exported.preprocess is not None:
        if hashlib.sha256(exported.preprocess).hexdigest() != manifest.preprocess.sha256:
            raise MlopsError(f"{what}: the downloaded preprocess.py does not match its manifest")
        if manifest.preprocess.file != PREPROCESS_FILE:
            raise MlopsError(f"{what}: its preprocess file is {manifest.preprocess.file!r}")
    return manifest


def _service_json(exported: ExportedModel, manifest: ModelManifest) -> str:
    about = {
        "model": exported.model,
        "alias": exported.alias,
        "version": exported.version,
        "onnx_sha256": manifest.onnx_sha256,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return json.dumps(about, indent=1) + "\n"


def image_name(model: str, version: int) -> str:
    """A Docker image name for the service: the model's name, tagged with the version."""
    slug = "".join(c if c.isalnum() or c in "._-" else "-" for c in model.lower())
    return f"{slug.strip('.-_') or 'model'}:{version}"


def _placeholders(
    exported: ExportedModel, manifest: ModelManifest, offline: bool
) -> dict[str, str]:
    width = manifest.raw_input_width
    columns = (
        ", ".join(f"`{c}`" for c in manifest.input_columns)
        if manifest.input_columns
        else f"{width} numbers"
        if width
        else "as in model.json's sample_input"
    )
    sample = json.dumps(manifest.sample_input[:1]).replace("'", "'\\''")
    return {
        "model": exported.model,
        "alias": exported.alias,
        "version": str(exported.version),
        "onnx_sha256": manifest.onnx_sha256,
        "exported_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "image": image_name(exported.model, exported.version),
        "sample": sample,
        "columns": columns,
        "install": OFFLINE_INSTALL if offline else ONLINE_INSTALL,
        "files": " ".join([*IN_IMAGE, *([PREPROCESS_FILE] if manifest.preprocess else [])]),
    }
