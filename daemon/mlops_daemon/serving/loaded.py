"""Loading a registered version for inference, once: an onnxruntime session per ONNX
file (keyed by its SHA-256, checked against the registry on load) and the version's
preprocessing function.

Loads are blocking (file reads, session construction, importing ``preprocess.py``), so
they run on the service's worker threads; concurrent requests for the same model share
one load. The caches are small LRUs: a daemon serving many versions keeps only the most
recently used ones.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from mlops_kernel.models.manifest import ModelManifest
from mlops_kernel.models.onnx_runtime import load_preprocess, open_session

from .errors import ModelUnavailable

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_SESSIONS = 32


@dataclass(frozen=True)
class LoadedModel:
    """What inference on one version needs, besides its manifest."""

    session: Any
    """An ``onnxruntime.InferenceSession``."""
    preprocess: Callable[[Any], Any] | None


class AsyncLru(Generic[K, V]):
    """An LRU of futures: the first caller of a key starts the load, later ones await it.

    A failed load is not kept, so the next request tries again (e.g. after a fix on disk).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, asyncio.Future[V]] = OrderedDict()

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        future = self._items.get(key)
        if future is None:
            future = asyncio.ensure_future(load())
            self._items[key] = future
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(key)
        try:
            return await asyncio.shield(future)
        except Exception:
            if self._items.get(key) is future:
                del self._items[key]
            raise

    def clear(self) -> None:
        self._items.clear()


class ModelLoader:
    """Sessions by ONNX SHA-256, preprocess functions by (folder, source SHA-256)."""

    def __init__(self, pool: Executor, size: int = MAX_SESSIONS) -> None:
        self._pool = pool
        self._sessions: AsyncLru[str, Any] = AsyncLru(size)
        self._preprocess: AsyncLru[tuple[str, str], Callable[[Any], Any] | None] = AsyncLru(size)

    async def get(self, model_dir: Path, manifest: ModelManifest, sha256: str) -> LoadedModel:
        """The session and preprocess of the version whose ONNX file must hash to ``sha256``."""
        loop = asyncio.get_running_loop()

        async def session() -> Any:
            return await loop.run_in_executor(self._pool, load_session, model_dir, manifest, sha256)

        async def preprocess() -> Callable[[Any], Any] | None:
            return await loop.run_in_executor(self._pool, load_function, model_dir, manifest)

        loaded_session = await self._sessions.get(sha256, session)
        function = None
        if manifest.preprocess is not None:
            key = (str(model_dir), manifest.preprocess.sha256)
            function = await self._preprocess.get(key, preprocess)
        return LoadedModel(loaded_session, function)

    def clear(self) -> None:
        self._sessions.clear()
        self._preprocess.clear()


def load_session(model_dir: Path, manifest: ModelManifest, sha256: str) -> Any:
    """Open the version's ONNX file after checking it is the registered one (blocking)."""
    path = model_dir / manifest.onnx_file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelUnavailable(
            f"model {manifest.name!r}: its ONNX file {path} cannot be read ({exc.strerror})"
        ) from None
    found = hashlib.sha256(data).hexdigest()
    if found != sha256:
        raise ModelUnavailable(
            f"model {manifest.name!r}: {path} changed since it was registered "
            f"(sha256 {found[:12]}…, registered {sha256[:12]}…); it will not be served"
        )
    try:
        return open_session(path)
    except Exception as exc:
        raise ModelUnavailable(
            f"model {manifest.name!r}: onnxruntime cannot load {path}: {_first_line(exc)}"
        ) from exc


def load_function(model_dir: Path, manifest: ModelManifest) -> Callable[[Any], Any] | None:
    """The version's preprocess function, its source checked against the manifest."""
    try:
        return load_preprocess(model_dir, manifest)
    except Exception as exc:
        raise ModelUnavailable(
            f"model {manifest.name!r}: its preprocess function cannot be loaded: {_first_line(exc)}"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
