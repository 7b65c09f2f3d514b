"""Build (once) and cache the image a containerised run uses.

An image is named ``mlops-env:<environment id>``. The id is a hash of what
decides the image's content: the environment lock (Python version and pinned
packages), the base image's digest, and the mlops runtime copied in. So an
image is built once per environment and reused by every run that needs it.

The build needs no network: the lock's wheels were gathered on the host into
a wheelhouse and are installed with ``--no-index --require-hashes``. A
configurable CA bundle is copied in and trusted for anything a base image's
own tooling fetches. The build is two stages, so the wheels never stay in the
final image.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tarfile
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError, DockerException, ImageNotFound

import mlops_kernel

from ..envlock import EnvLock
from .base import ExecutorError

IMAGE_REPO = "mlops-env"
VENV = "/opt/mlops/venv"
RUNTIME_DIR = "/opt/mlops/lib"
LABEL_ENV = "io.jupyter-mlops.env"
LABEL_LOCK = "io.jupyter-mlops.lock"
LABEL_BASE = "io.jupyter-mlops.base"
LABEL_STAGE = "io.jupyter-mlops.stage"
"""Marks the build stage's image, which is pruned once the run's image is built."""
RECIPE_VERSION = "1"
"""Bumped when the Dockerfile below changes, so old images are not reused."""

Progress = Callable[[str], None]
CA_PATH = "/etc/mlops/ca.pem"
CA_ENV = (
    f"ENV PIP_CERT={CA_PATH} SSL_CERT_FILE={CA_PATH} "
    f"REQUESTS_CA_BUNDLE={CA_PATH} CURL_CA_BUNDLE={CA_PATH}"
)
"""Every variable Python tools read a CA bundle from (requests' beat pip's ``--cert``)."""


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    image_id: str
    env_id: str
    base_image: str
    base_image_id: str
    built: bool
    """False when the image was already there (a cache hit)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "image_id": self.image_id,
            "env_id": self.env_id,
            "base_image": self.base_image,
            "base_image_id": self.base_image_id,
            "cached": not self.built,
        }


RUNTIME_PACKAGES = ("models",)
"""Kernel subpackages a run needs too (``log_model``); the notebook tooling is not."""


def runtime_files() -> list[Path]:
    """The mlops runtime a run needs inside its container: the kernel package's
    top-level modules and RUNTIME_PACKAGES (paths relative to the package)."""
    root = Path(mlops_kernel.__file__).parent
    found = [p for p in root.glob("*.py") if p.is_file()]
    for sub in RUNTIME_PACKAGES:
        found += [p for p in (root / sub).glob("*.py") if p.is_file()]
    return sorted(p.relative_to(root) for p in found)


def runtime_root() -> Path:
    return Path(mlops_kernel.__file__).parent


def runtime_hash() -> str:
    digest = hashlib.sha256()
    for rel in runtime_files():
        data = (runtime_root() / rel).read_bytes()
        digest.update(rel.as_posix().encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def environment_id(lock: EnvLock, base_image_id: str, runtime: str) -> str:
    text = json.dumps([RECIPE_VERSION, lock.id, base_image_id, runtime])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def dockerfile(base_image: str, lock: EnvLock, has_ca: bool) -> str:
    major_minor = lock.python
    check = (
        "import sys; v='%d.%d' % sys.version_info[:2]; "
        f"sys.exit(0 if v == '{major_minor}' else "
        f"'mlops: the base image has Python ' + v + ', the environment lock needs {major_minor}')"
    )
    lines = [f"FROM {base_image} AS build", f"LABEL {LABEL_STAGE}=build"]
    if has_ca:
        lines += [
            f"COPY ca.pem {CA_PATH}",
            CA_ENV,
        ]
    lines += [f'RUN python3 -c "{check}"']
    if lock.packages:
        lines += [
            "COPY wheels /tmp/mlops-wheels",
            "COPY requirements.lock /tmp/mlops-wheels/requirements.lock",
            f"RUN python3 -m venv {VENV} && {VENV}/bin/python -m pip install --no-cache-dir "
            "--disable-pip-version-check --no-index --find-links /tmp/mlops-wheels "
            "--require-hashes --no-deps -r /tmp/mlops-wheels/requirements.lock",
        ]
    else:
        lines += [f"RUN python3 -m venv --without-pip {VENV}"]
    lines += [f"FROM {base_image}"]
    if has_ca:
        lines += [
            f"COPY ca.pem {CA_PATH}",
            CA_ENV,
        ]
    lines += [
        f"COPY --from=build {VENV} {VENV}",
        f"COPY mlops_kernel {RUNTIME_DIR}/mlops_kernel",
        f"ENV PATH={VENV}/bin:/usr/local/bin:/usr/bin:/bin PYTHONDONTWRITEBYTECODE=1",
    ]
    return "\n".join(lines) + "\n"


class ImageBuilder:
    def __init__(self, wheelhouse: Path) -> None:
        self.wheelhouse = wheelhouse
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def ensure(
        self,
        client: docker.DockerClient,
        lock: EnvLock,
        base_image: str,
        ca_bundle: Path | None,
        progress: Progress,
    ) -> BuiltImage:
        """The run's image, built now unless an identical one exists."""
        base_id = base_image_id(client, base_image)
        env_id = environment_id(lock, base_id, runtime_hash())
        tag = f"{IMAGE_REPO}:{env_id}"
        with self._tag_lock(tag):
            existing = _image_id(client, tag)
            if existing is not None:
                progress(f"environment image {tag} is cached")
                return BuiltImage(tag, existing, env_id, base_image, base_id, built=False)
            progress(f"building environment image {tag} from {base_image}")
            image_id = self._build(
                client, lock, base_image, base_id, env_id, tag, ca_bundle, progress
            )
            return BuiltImage(tag, image_id, env_id, base_image, base_id, built=True)

    def _tag_lock(self, tag: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(tag, threading.Lock())

    def _build(
        self,
        client: docker.DockerClient,
        lock: EnvLock,
        base_image: str,
        base_id: str,
        env_id: str,
        tag: str,
        ca_bundle: Path | None,
        progress: Progress,
    ) -> str:
        with tempfile.TemporaryDirectory(prefix="mlops-build-") as tmp:
            context = Path(tmp) / "context.tar"
            self._write_context(context, lock, base_image, ca_bundle)
            labels = {LABEL_ENV: env_id, LABEL_LOCK: lock.id, LABEL_BASE: base_id}
            with open(context, "rb") as fileobj:
                try:
                    stream = client.api.build(
                        fileobj=fileobj,
                        custom_context=True,
                        tag=tag,
                        labels=labels,
                        rm=True,
                        forcerm=True,
                        pull=False,
                        decode=True,
                    )
                    image_id = _follow_build(client, stream, tag, base_image, progress)
                except APIError as exc:
                    raise ExecutorError(
                        f"could not build the environment image from {base_image!r}: "
                        f"{exc.explanation or exc}"
                    ) from exc
                finally:
                    _prune_build_stages(client)
                return image_id

    def _write_context(
        self, target: Path, lock: EnvLock, base_image: str, ca_bundle: Path | None
    ) -> None:
        has_ca = ca_bundle is not None
        with tarfile.open(target, "w") as tar:
            _add_bytes(tar, "Dockerfile", dockerfile(base_image, lock, has_ca).encode())
            if ca_bundle is not None:
                try:
                    tar.add(str(ca_bundle), arcname="ca.pem")
                except OSError as exc:
                    raise ExecutorError(
                        f"the CA bundle {ca_bundle} cannot be read: {exc.strerror or exc}"
                    ) from exc
            if lock.packages:
                _add_bytes(tar, "requirements.lock", lock.requirements_text().encode())
                for package in lock.packages:
                    if package.filename is None:
                        raise ExecutorError(
                            f"{package.name}=={package.version} has no wheel gathered"
                        )
                    tar.add(str(self.wheelhouse / package.filename), f"wheels/{package.filename}")
            for rel in runtime_files():
                tar.add(str(runtime_root() / rel), arcname=f"mlops_kernel/{rel.as_posix()}")


def base_image_id(client: docker.DockerClient, base_image: str) -> str:
    """The base image's id; pulled once if the engine lacks it and a registry answers."""
    found = _image_id(client, base_image)
    if found is not None:
        return found
    try:
        return str(client.images.pull(base_image).id)
    except DockerException as exc:
        raise ExecutorError(
            f"base image {base_image!r} is not in this Docker engine and could not be pulled "
            f"({_short(exc)}); build or `docker load` it, or choose another with "
            "MLOPS_BASE_IMAGE or [docker] base_image in mlops.toml"
        ) from exc


def image_id_or_none(client: docker.DockerClient, name: str) -> str | None:
    """The id of the image ``name`` in this engine, or None when it has none."""
    return _image_id(client, name)


def _image_id(client: docker.DockerClient, name: str) -> str | None:
    try:
        return str(client.images.get(name).id)
    except ImageNotFound:
        return None
    except DockerException as exc:
        raise ExecutorError(f"the Docker engine failed to look up {name!r}: {exc}") from exc


def _follow_build(
    client: docker.DockerClient, stream: Any, tag: str, base_image: str, progress: Progress
) -> str:
    tail: list[str] = []
    for chunk in stream:
        text = str(chunk.get("stream") or chunk.get("status") or "").rstrip()
        if text:
            tail = ([*tail, text])[-20:]
            progress(text)
        if "error" in chunk:
            raise ExecutorError(_build_failure(base_image, str(chunk["error"]), tail))
    image_id = _image_id(client, tag)
    if image_id is None:
        raise ExecutorError(f"building {tag} from {base_image!r} produced no image")
    return image_id


def _build_failure(base_image: str, error: str, tail: list[str]) -> str:
    said = "\n".join(tail)
    for line in [*tail, error]:
        if line.strip().startswith("mlops: the base image has Python"):
            return line.strip().removeprefix("mlops: ") + f" (base image {base_image!r})"
    if "python3: not found" in said or "python3: not found" in error:
        return f"base image {base_image!r} has no python3; choose an image with Python"
    return f"could not build the environment image from {base_image!r}: {error.strip()}"


def _prune_build_stages(client: docker.DockerClient) -> None:
    """Remove the build stages' leftover images (the wheels lived only there)."""
    # Housekeeping only: if it fails, a later build prunes them.
    with contextlib.suppress(DockerException):
        client.images.prune(filters={"dangling": True, "label": f"{LABEL_STAGE}=build"})


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
