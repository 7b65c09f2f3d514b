"""Serve registered models: ``POST /serve/{model}/{alias}`` answers predictions.

A request resolves the alias (cached until the registry changes the model: the registry
calls ``invalidate``), refuses it when the alias is cut out (503, naming the reason),
turns the raw JSON rows into the ONNX inputs with the version's preprocessing (a bad row
is a 400 that names the row and column), and runs the session on a worker thread: the
event loop never waits on inference, file reads or imports.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mlops_kernel.model_schemas import (
    ServeRequest,
    ServeResponse,
    ServingStats,
    ServingStatsList,
)
from mlops_kernel.models.manifest import ModelManifest
from mlops_kernel.models.onnx_runtime import rows_to_features, run_onnx

from ..errors import InvalidInput
from ..store.async_store import AsyncStore
from ..store.model_registry import ResolvedAlias
from .errors import ServiceCutOut
from .files import version_file
from .loaded import LoadedModel, ModelLoader
from .stats import LatencyRecorder


class ServingService:
    """Predictions for ``(model, alias)``, with caches and latency statistics."""

    def __init__(
        self, db: AsyncStore, workers: int | None = None, cache_aliases: bool = True
    ) -> None:
        """``cache_aliases=False``: look the alias up on every request, for a service
        whose ``invalidate`` nobody calls (no registry wired to it)."""
        self.db = db
        self.cache_aliases = cache_aliases
        count = workers or min(4, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="mlops-serve")
        self._loader = ModelLoader(self._pool)
        self._aliases: dict[tuple[str, str], ResolvedAlias] = {}
        self._generations: dict[str, int] = {}
        self._stats: dict[tuple[str, str], LatencyRecorder] = {}

    async def predict(self, model: str, alias: str, body: ServeRequest) -> ServeResponse:
        """One prediction per row of ``body.inputs``. NotFound (404) for an unknown model
        or alias, ServiceCutOut (503) while cut out, InvalidInput (400) for bad rows."""
        start = time.perf_counter()
        resolved = await self.resolve(model, alias)
        recorder = self._stats.setdefault((model, alias), LatencyRecorder())
        try:
            if resolved.cut_out:
                raise ServiceCutOut(_cut_out_message(resolved))
            loaded = await self._loader.get(
                resolved.model_dir, resolved.manifest, resolved.manifest.onnx_sha256
            )
            loop = asyncio.get_running_loop()
            outputs = await loop.run_in_executor(
                self._pool, infer, loaded, resolved.manifest, body.inputs
            )
        except BaseException:
            recorder.failure()
            raise
        latency_ms = (time.perf_counter() - start) * 1000
        recorder.success(latency_ms)
        return ServeResponse(
            model=model,
            alias=alias,
            version=resolved.version,
            outputs=outputs,
            latency_ms=latency_ms,
        )

    async def resolve(self, model: str, alias: str) -> ResolvedAlias:
        """The version under the alias, from the cache or the store (NotFound if none).

        A lookup that was in flight while ``invalidate`` ran is returned but not cached,
        so a change is never hidden by an answer read just before it.
        """
        key = (model, alias)
        hit = self._aliases.get(key)
        if hit is not None:
            return hit
        generation = self._generations.get(model, 0)
        resolved = await self.db.call(self.db.store.resolve_alias, model, alias)
        if self.cache_aliases and self._generations.get(model, 0) == generation:
            self._aliases[key] = resolved
        return resolved

    async def version_file(self, name: str, version: str, path: str) -> bytes:
        """``model.onnx``, ``model.json`` or ``preprocess.py`` of a registered version,
        checked against the registry (see ``files.version_file``)."""
        return await self.db.call(version_file, self.db.store, name, version, path)

    def invalidate(self, model: str) -> None:
        """Forget what is cached about ``model``'s aliases (the registry changed them).

        Sessions stay cached: they are keyed by the ONNX file's hash, so a version that
        comes back (a rollback) is served at once.
        """
        self._generations[model] = self._generations.get(model, 0) + 1
        for key in [k for k in self._aliases if k[0] == model]:
            del self._aliases[key]

    def stats(self, model: str) -> dict[str, ServingStats]:
        """Latency statistics of each alias of ``model`` served since the daemon started."""
        return {
            alias: recorder.snapshot(name, alias)
            for (name, alias), recorder in sorted(self._stats.items())
            if name == model
        }

    async def stats_of(self, model: str) -> ServingStatsList:
        """The statistics of ``model``'s aliases (NotFound for a model never registered)."""
        found = self.stats(model)
        if not found:
            await self.db.call(self.db.store.model_version_files, model, 1)  # 404 if unknown
        return ServingStatsList(model=model, aliases=list(found.values()))

    def close(self) -> None:
        self._loader.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)


def infer(loaded: LoadedModel, manifest: ModelManifest, rows: list[list[Any]]) -> list[Any]:
    """Raw rows -> predictions as JSON values (blocking: runs on a worker thread)."""
    features = _features(loaded.preprocess, manifest, rows)
    try:
        predictions = run_onnx(loaded.session, manifest, features)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    except Exception as exc:
        if type(exc).__module__.startswith("onnxruntime"):
            raise InvalidInput(
                f"model {manifest.name!r} could not run on these inputs: {_first_line(exc)}"
            ) from None
        raise
    values: list[Any] = predictions.tolist()
    if len(values) != len(rows):
        raise RuntimeError(
            f"model {manifest.name!r} gave {len(values)} predictions for {len(rows)} rows"
        )
    return values


def _features(
    preprocess: Callable[[Any], Any] | None, manifest: ModelManifest, rows: list[list[Any]]
) -> dict[str, Any]:
    try:
        return rows_to_features(manifest, rows, preprocess)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    except Exception as exc:
        if preprocess is None:
            raise
        raise InvalidInput(
            f"model {manifest.name!r}: its preprocess function failed on these inputs: "
            f"{type(exc).__name__}: {_first_line(exc)}"
        ) from None


def _cut_out_message(resolved: ResolvedAlias) -> str:
    reason = resolved.cut_out_reason or "no reason given"
    return (
        f"model {resolved.model!r} alias {resolved.alias!r} (version {resolved.version}) is cut "
        f"out: {reason}; `mlops restore {resolved.model} {resolved.alias}` serves it again"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
