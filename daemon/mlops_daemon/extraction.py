"""The extraction service: lints, plans and extracts notebooks for the REST API.

An extraction is a job, ``queued -> running -> succeeded | failed``, kept in
memory (the last ``keep``). The kernel's ``extract`` runs on a small thread pool,
one job at a time per project (it writes files there and commits them), and
reports progress through a callback that hands each report to the event loop.
On success the module's content is recorded as a version in the store (an
unchanged module finds its existing version). Nothing here blocks the loop:
files, analysis and the kernel run on threads, the store through ``AsyncStore``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlops_kernel.notebook.errors import NotebookError
from mlops_kernel.notebook.jobs_schemas import (
    ExtractionJob,
    JobState,
    LintRequest,
    ModulesQuery,
    ModuleVersionList,
)
from mlops_kernel.notebook.schemas import (
    ExtractionPlan,
    ExtractionRequest,
    ExtractionResult,
    LintReport,
)

from . import notebooks
from .errors import NotFound
from .store.async_store import AsyncStore

log = logging.getLogger(__name__)

KEEP_JOBS = 100


def utcnow() -> datetime:
    return datetime.now(UTC)


class ExtractionService:
    def __init__(self, db: AsyncStore, workers: int = 2, keep: int = KEEP_JOBS) -> None:
        self.db = db
        self.store = db.store
        self.keep = keep
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mlops-extract")
        self._jobs: OrderedDict[str, ExtractionJob] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def stop(self) -> None:
        """Stop waiting for jobs. A kernel already extracting finishes on its thread."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- synchronous requests ----------------------------------------------------

    async def lint(self, request: LintRequest) -> LintReport:
        notebook, project = await asyncio.to_thread(
            notebooks.resolve_paths, request.notebook, request.project
        )
        return await asyncio.to_thread(notebooks.lint, notebook, project)

    async def plan(self, request: ExtractionRequest) -> ExtractionPlan:
        resolved = await self._resolved(request)
        return await asyncio.to_thread(notebooks.plan, resolved)

    async def modules(self, query: ModulesQuery) -> ModuleVersionList:
        return await self.db.call(self.store.list_modules, query.project, query.module_path)

    # -- jobs --------------------------------------------------------------------

    async def submit(self, request: ExtractionRequest) -> ExtractionJob:
        """Check the request (paths, notebook, selection, git) and queue its job.

        What can be known before running anything is refused here, with the
        HTTP code it deserves; what only the run shows fails the job.
        """
        resolved = await self._resolved(request)
        project = Path(resolved.project or "")
        await asyncio.to_thread(notebooks.plan, resolved)  # format and selection: 400
        await asyncio.to_thread(notebooks.check_versioning, resolved, project)  # git: 409
        job = ExtractionJob(
            id=uuid.uuid4().hex[:12],
            state=JobState.queued,
            notebook=resolved.notebook,
            project=str(project),
            request=resolved,
            created_at=utcnow(),
        )
        self._jobs[job.id] = job
        self._evict()
        task = asyncio.create_task(self._run(job), name=f"extract-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def get(self, job_id: str) -> ExtractionJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(
                f"no extraction job {job_id!r} (the daemon keeps the last {self.keep}, "
                "and forgets them when it restarts)"
            )
        return job

    async def _resolved(self, request: ExtractionRequest) -> ExtractionRequest:
        notebook, project = await asyncio.to_thread(
            notebooks.resolve_paths, request.notebook, request.project
        )
        return request.model_copy(update={"notebook": str(notebook), "project": str(project)})

    def _evict(self) -> None:
        """Forget the oldest finished jobs beyond ``keep`` (running ones stay)."""
        excess = len(self._jobs) - self.keep
        for job_id in [j.id for j in self._jobs.values() if j.state.terminal][: max(excess, 0)]:
            del self._jobs[job_id]

    async def _run(self, job: ExtractionJob) -> None:
        lock = self._locks.setdefault(job.project, asyncio.Lock())  # one lock per project
        async with lock:
            job.state = JobState.running
            job.started_at = utcnow()
            loop = asyncio.get_running_loop()

            def progress(report: Any) -> None:  # called on the worker thread
                loop.call_soon_threadsafe(self._progress, job, report)

            try:
                result = await loop.run_in_executor(
                    self._pool, notebooks.extract, job.request, progress
                )
                result = await self._record(job, result)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not isinstance(exc, NotebookError):
                    log.exception("extraction %s of %s failed", job.id, job.notebook)
                job.error = notebooks.job_error(exc)
                job.state = JobState.failed
            else:
                job.result = result
                job.state = JobState.succeeded
            finally:
                job.ended_at = utcnow()

    def _progress(self, job: ExtractionJob, report: Any) -> None:
        if job.state.terminal:
            return  # a report that arrived after the end
        try:
            job.progress = notebooks.progress_of(report)
        except (AttributeError, TypeError, ValueError):
            log.warning("extraction %s: unreadable progress report %r", job.id, report)

    async def _record(self, job: ExtractionJob, result: ExtractionResult) -> ExtractionResult:
        """Record the module's content as a version and put its number in the result."""
        row, created = await self.db.call(
            self.store.record_module_version,
            job.project,
            result.module,
            result.module_path,
            result.content_hash,
            git_sha=result.git_sha,
            notebook_path=result.notebook,
            notebook_hash=result.notebook_hash,
            cell_ids=result.cell_ids,
            diff=result.diff,
        )
        update: dict[str, Any] = {"version": row.version, "version_id": row.id}
        if result.git_sha is None and row.git_sha is not None:
            update["git_sha"] = row.git_sha  # unchanged: the commit that first recorded it
        log.info(
            "extraction %s: %s version %d (%s)",
            job.id,
            result.module_path,
            row.version,
            "new" if created else "unchanged",
        )
        return result.model_copy(update=update)
