"""The REST endpoints. Thin: parse, call the run service or store, reply.

What each endpoint takes and returns is declared once in ``routes.py``, which
also feeds the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
from pathlib import Path

from tornado.iostream import StreamClosedError

from mlops_kernel import runfiles
from mlops_kernel.schemas import (
    API_VERSION,
    Health,
    LogQuery,
    MetricsQuery,
    RunQuery,
    RunSpec,
)

from .. import __version__
from ..errors import NotFound
from ..service import RunService
from .base import ApiHandler


class ServiceHandler(ApiHandler):
    @property
    def service(self) -> RunService:
        service: RunService = self.settings["mlops_service"]
        return service


class HealthHandler(ApiHandler):
    public = True

    def get(self) -> None:
        self.send(Health(status="ok", version=__version__, api_version=API_VERSION))


class OpenApiHandler(ApiHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(self.settings["mlops_openapi"])


class InfoHandler(ServiceHandler):
    async def get(self) -> None:
        self.send(await self.service.info())


class ProjectsHandler(ServiceHandler):
    async def get(self) -> None:
        s = self.service
        self.send(await s.db.call(s.store.list_projects))


class RunsHandler(ServiceHandler):
    async def get(self) -> None:
        q = self.query(RunQuery)
        s = self.service
        self.send(await s.db.call(s.store.list_runs, q))

    async def post(self) -> None:
        spec = self.body(RunSpec)
        run, created = await self.service.submit_or_reuse(spec)
        if not created:
            self.set_header("X-Mlops-Cache", "hit")
        self.send(run, status=201 if created else 200)


class RunReproduceHandler(ServiceHandler):
    async def post(self, run_id: str) -> None:
        self.send(await self.service.reproduce(run_id), status=201)


class RunHandler(ServiceHandler):
    async def get(self, run_id: str) -> None:
        s = self.service
        self.send(await s.db.call(s.store.get_run, run_id))


class RunMetricsHandler(ServiceHandler):
    async def get(self, run_id: str) -> None:
        q = self.query(MetricsQuery)
        s = self.service
        self.send(await s.db.call(s.store.metrics, run_id, q.key))


class RunCancelHandler(ServiceHandler):
    async def post(self, run_id: str) -> None:
        self.send(await self.service.cancel(run_id))


class RunArtifactHandler(ServiceHandler):
    """One recorded artifact's bytes, streamed in chunks read off the event loop.

    Only paths the store lists for the run are served, and only from inside the
    run's artifacts folder, so no request can reach another file.
    """

    CHUNK = 1 << 20

    async def get(self, run_id: str, path: str) -> None:
        s = self.service
        detail = await s.db.call(s.store.get_run, run_id)
        if path not in {a.path for a in detail.artifacts}:
            raise NotFound(f"run {run_id} has no artifact {path!r}")
        root = (Path(detail.run_dir) / runfiles.ARTIFACTS_DIR).resolve()
        file = (root / path).resolve()
        if not file.is_relative_to(root) or not await asyncio.to_thread(file.is_file):
            raise NotFound(f"artifact {path!r} of run {run_id} is no longer on disk")
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self.set_header("Content-Type", kind)
        self.set_header("Content-Disposition", f'attachment; filename="{_safe_name(file.name)}"')
        fh = await asyncio.to_thread(file.open, "rb")
        try:
            while chunk := await asyncio.to_thread(fh.read, self.CHUNK):
                self.write(chunk)
                await self.flush()
        except StreamClosedError:
            return
        finally:
            fh.close()
        self.finish()


def _safe_name(name: str) -> str:
    """A file name fit for a quoted header value."""
    return "".join(c if c.isprintable() and c not in '"\\' else "_" for c in name)


class RunLogsHandler(ServiceHandler):
    """A page of the log, or with ``follow=true`` a server-sent event stream.

    Events: ``log`` (data: a LogChunk) as text arrives, then one ``end`` (data:
    the run's final status) once the run has ended and its log is drained.
    """

    async def get(self, run_id: str) -> None:
        q = self.query(LogQuery)
        if not q.follow:
            chunk, _ = await self.service.log_chunk(run_id, q.offset, q.max_bytes)
            self.send(chunk)
            return
        await self._stream(run_id, q)

    async def _stream(self, run_id: str, q: LogQuery) -> None:
        await self.service.log_chunk(run_id, 0, 1)  # 404 before any event is sent
        self.set_header("Content-Type", "text/event-stream; charset=UTF-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        offset = q.offset
        try:
            while True:
                chunk, status = await self.service.log_chunk(run_id, offset, q.max_bytes)
                if chunk.text:
                    self._event("log", chunk.model_dump_json())
                    await self.flush()
                offset = chunk.next_offset
                if chunk.complete:
                    self._event("end", json.dumps({"status": status.value}))
                    await self.flush()
                    break
                if not chunk.text:
                    await asyncio.sleep(0.2)
        except StreamClosedError:
            return
        self.finish()

    def _event(self, name: str, data: str) -> None:
        self.write(f"event: {name}\ndata: {data}\n\n")

    def on_connection_close(self) -> None:
        """The client went away; the stream loop notices on its next write."""
