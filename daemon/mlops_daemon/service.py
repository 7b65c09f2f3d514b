"""The run service: accepts runs, schedules them on a worker pool, drives each
through the state machine from its executor's reports, and recovers after a crash.

It never blocks the event loop: the store goes through ``AsyncStore`` and
executors and ingestion through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

from mlops_kernel.runfiles import read_json, write_json_atomic
from mlops_kernel.schemas import DaemonInfo, LogChunk, RunDetail, RunSpec, RunStatus

from . import __version__
from .config import DaemonConfig
from .datasets import DatasetService
from .envlock import warm as warm_envlock
from .errors import Conflict, IllegalTransition, InvalidInput, MlopsError
from .executors.base import (
    Executor,
    ExecutorError,
    ExitInfo,
    Handle,
    Job,
    JobState,
    MountedDataset,
)
from .executors.environment import read_environment
from .identity import compute_identity, drop_bytecode
from .ingest import Ingester
from .jobs import build_job, reattach_job, write_run_dir
from .logs import read_log
from .modules import entry_module
from .store.async_store import AsyncStore
from .store.models import Run

log = logging.getLogger(__name__)
S = RunStatus


IDENTITY_FILE = "identity.json"
"""The parts a run's identity was computed from, in its run directory."""

FIRST_POLL_S = 0.01
"""A run is polled quickly at first, then less often (doubling up to the configured
interval): short runs end with little delay, long ones cost little to watch."""


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def outcome(info: ExitInfo) -> RunStatus:
    if info.succeeded:
        return S.succeeded
    return S.cancelled if info.reason == "cancelled" else S.failed


class RunService:
    def __init__(
        self, config: DaemonConfig, db: AsyncStore, executors: Mapping[str, Executor]
    ) -> None:
        self.config = config
        self.db = db
        self.store = db.store
        self.executors = dict(executors)
        self.datasets = DatasetService(config, db)
        self._wake = asyncio.Event()
        self._active: dict[str, asyncio.Task[None]] = {}
        self._cancels: set[str] = set()
        self._stoppers: set[asyncio.Future[None]] = set()
        self._dispatcher: asyncio.Task[None] | None = None
        self._warming: asyncio.Task[None] | None = None
        self._on_success: list[Callable[[str], Awaitable[None]]] = []
        self._followers: set[asyncio.Task[None]] = set()

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        # Read the installed packages once now, so the first submit's identity is fast.
        self._warming = asyncio.create_task(asyncio.to_thread(warm_envlock))
        await self._recover()
        self._dispatcher = asyncio.create_task(self._dispatch(), name="mlops-dispatcher")

    def on_success(self, listener: Callable[[str], Awaitable[None]]) -> None:
        """Call ``listener(run_id)`` (in its own task) after each run that succeeds."""
        self._on_success.append(listener)

    async def stop(self) -> None:
        """Stop watching runs. Their processes go on; the next daemon reattaches."""
        tasks = list(self._active.values()) + list(self._followers)
        if self._dispatcher is not None:
            tasks.append(self._dispatcher)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- requests ------------------------------------------------------------

    async def submit(self, spec: RunSpec) -> RunDetail:
        return (await self.submit_or_reuse(spec))[0]

    async def submit_or_reuse(self, spec: RunSpec) -> tuple[RunDetail, bool]:
        """Queue the run; or, when a run with the same identity already succeeded and
        the spec is not forced, answer with that run (a cache hit: ``(run, False)``)."""
        executor = await self._choose(spec.executor)
        run_id = new_run_id()
        run_dir = self.config.paths.runs / run_id
        await asyncio.to_thread(build_job, self.config, run_id, run_dir, spec)  # validates
        datasets = await self.datasets.resolve(spec.datasets)  # 404 / 409 before any write
        identity, parts = await self._identity(spec, executor, datasets)
        if identity is not None and not spec.force:
            hit = await self.db.call(self.store.succeeded_with_identity, identity)
            if hit is not None:
                return await self.db.call(self.store.get_run, hit), False
        await asyncio.to_thread(write_run_dir, run_dir, spec)
        await asyncio.to_thread(write_json_atomic, run_dir / IDENTITY_FILE, parts)
        version_id = await self._module_version_id(spec)
        detail = await self.db.call(
            self.store.create_run,
            run_id,
            spec,
            executor.name,
            run_dir,
            version_id,
            datasets=[(d.name, d.id) for d in datasets],
            isolation=executor.isolation,
            identity=identity,
        )
        self._wake.set()
        return detail, True

    async def reproduce(self, run_id: str, name: str | None = None) -> RunDetail:
        """Run an ended run's identity again: its spec, its pinned dataset versions and
        its executor, forced past the cache."""
        original = await self.db.call(self.store.get_run, run_id)
        if not original.status.terminal:
            raise Conflict(
                f"run {run_id} is still {original.status.value}; reproduce it once it has ended"
            )
        spec = original.spec.model_copy(
            update={
                "force": True,
                "datasets": list(original.datasets or []),
                "executor": original.executor,
                "name": name or f"reproduce {run_id}",
            }
        )
        return await self.submit(spec)

    async def cancel(self, run_id: str) -> RunDetail:
        row = await self.db.call(self.store.request_cancel, run_id)
        self._cancels.add(run_id)
        if row.status == S.queued.value:
            # If a worker took it meanwhile, the worker sees the request and stops it.
            with contextlib.suppress(IllegalTransition):
                await self.db.call(
                    self.store.transition, run_id, S.cancelled, "cancelled before it started"
                )
        return await self.db.call(self.store.get_run, run_id)

    async def log_chunk(
        self, run_id: str, offset: int, max_bytes: int
    ) -> tuple[LogChunk, RunStatus]:
        """A page of the run's output, from its executor, and the run's status.

        ``complete`` is only true once the run has ended and the page reaches
        the end of its log (the status is read first, so nothing is missed).
        """
        row = await self.db.call(self.store.get_row, run_id)
        status = RunStatus(row.status)
        executor = self.executors.get(row.executor)
        if executor is None:
            read = functools.partial(read_log, Path(row.run_dir))
        else:
            job = reattach_job(
                run_id, Path(row.run_dir), RunSpec.model_validate_json(row.spec_json)
            )
            read = functools.partial(executor.logs, job)
        text, nxt, size = await asyncio.to_thread(read, offset, max_bytes)
        complete = status.terminal and nxt >= size
        chunk = LogChunk(
            run_id=run_id, offset=offset, next_offset=nxt, text=text, complete=complete
        )
        return chunk, status

    async def info(self) -> DaemonInfo:
        counts = await self.db.call(self.store.status_counts)
        return DaemonInfo(
            version=__version__,
            api_version="1",
            home=str(self.config.home),
            database=self.store.dialect,
            executors=sorted(self.executors),
            concurrency=self.config.effective_concurrency,
            runs_active=counts.get("preparing", 0) + counts.get("running", 0),
            runs_queued=counts.get("queued", 0),
        )

    async def _module_version_id(self, spec: RunSpec) -> str | None:
        """The recorded module version whose content the entry point's file has now."""
        found = await asyncio.to_thread(entry_module, spec.project, spec.entry_point)
        if found is None:
            return None
        row = await self.db.call(self.store.module_version_for, *found)
        return row.id if row is not None else None

    async def _choose(self, kind: str) -> Executor:
        """The executor a run gets: ``auto`` is Docker when an engine answers, else local."""
        if kind == "auto":
            docker = self.executors.get("docker")
            if docker is not None:
                ok, why = await asyncio.to_thread(docker.available)
                if ok:
                    return docker
                log.debug("auto chose the local executor: %s", why)
            return self.executors["local"]
        executor = self.executors.get(kind)
        if executor is None:
            raise InvalidInput(
                f"executor {kind!r} is not available here; use one of "
                f"{', '.join(['auto', *sorted(self.executors)])}"
            )
        ok, why = await asyncio.to_thread(executor.available)
        if not ok:
            raise InvalidInput(f"executor {kind!r} cannot take runs now: {why}")
        return executor

    async def _identity(
        self, spec: RunSpec, executor: Executor, datasets: list[MountedDataset]
    ) -> tuple[str | None, dict[str, Any]]:
        try:
            return await asyncio.to_thread(compute_identity, spec, executor, datasets)
        except ExecutorError as exc:
            raise InvalidInput(str(exc)) from exc

    # -- the worker pool -----------------------------------------------------

    async def _dispatch(self) -> None:
        while True:
            self._wake.clear()
            free = self.config.effective_concurrency - len(self._active)
            if free > 0:
                try:
                    queued = await self.db.call(self.store.rows_with_status, [S.queued])
                except Exception:
                    log.exception("could not read the queue; trying again")
                    queued = []
                for row in [r for r in queued if r.id not in self._active][:free]:
                    self._track(row.id, self._drive(row))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    def _track(self, run_id: str, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro, name=f"run-{run_id}")
        self._active[run_id] = task

        def done(_: asyncio.Task[None]) -> None:
            self._active.pop(run_id, None)
            self._cancels.discard(run_id)
            self._wake.set()

        task.add_done_callback(done)

    async def _drive(self, row: Run) -> None:
        run_id = row.id
        try:
            await self.db.call(self.store.transition, run_id, S.preparing)
        except IllegalTransition:
            return  # cancelled while queued
        try:
            spec = RunSpec.model_validate_json(row.spec_json)
            executor = self.executors[row.executor]
            datasets = await self.datasets.rows_for_run(run_id)
            await self.datasets.verify(datasets)  # unchanged since the run was submitted
            job = await asyncio.to_thread(
                build_job, self.config, run_id, Path(row.run_dir), spec, datasets
            )
            await self._refresh_identity(row, spec, executor, datasets)
            await asyncio.to_thread(executor.prepare, job)
            await self._record_environment(run_id, job.run_dir)
            if run_id in self._cancels:
                await self._end(run_id, S.cancelled, "cancelled before it started")
                return
            handle = await asyncio.to_thread(executor.start, job)
            await self.db.call(
                self.store.transition, run_id, S.running, handle_json=json.dumps(handle)
            )
        except asyncio.CancelledError:
            raise
        except (MlopsError, ExecutorError) as exc:
            await self._end(run_id, S.failed, f"could not start: {exc}")
            return
        except Exception as exc:
            log.exception("run %s: preparing failed", run_id)
            await self._end(run_id, S.failed, f"could not start (internal error): {exc!r}")
            return
        await self._watch(
            run_id, job, executor, handle, Ingester(self.store, run_id, job.run_dir, 0)
        )

    async def _refresh_identity(
        self, row: Run, spec: RunSpec, executor: Executor, datasets: list[MountedDataset]
    ) -> None:
        """The identity of what is about to run: the code may have changed while the run was
        queued, and a later cache hit must answer for the code that really ran."""
        await asyncio.to_thread(drop_bytecode, Path(spec.project), spec.entry_point)
        identity, parts = await self._identity(spec, executor, datasets)
        if identity == row.identity:
            return
        log.info("run %s: its code or environment changed while queued", row.id)
        await asyncio.to_thread(write_json_atomic, Path(row.run_dir) / IDENTITY_FILE, parts)
        await self.db.call(self.store.update_run, row.id, identity=identity)

    async def _record_environment(self, run_id: str, run_dir: Path) -> None:
        environment = await asyncio.to_thread(read_environment, run_dir)
        if environment is None:
            return
        parts = await asyncio.to_thread(read_json, run_dir / IDENTITY_FILE)
        if isinstance(parts, dict):
            environment["identity"] = parts
        await self.db.call(self.store.update_run, run_id, environment_json=json.dumps(environment))

    async def _watch(
        self, run_id: str, job: Job, executor: Executor, handle: Handle, ingester: Ingester
    ) -> None:
        """Poll the executor and ingest until the run ends; then record how it ended."""
        cancel_sent = False
        delay = FIRST_POLL_S
        while True:
            poll = await asyncio.to_thread(executor.poll, job, handle)
            try:
                if await asyncio.to_thread(ingester.ingest):
                    delay = FIRST_POLL_S  # the run is logging: keep up with it
            except Exception:
                log.exception("run %s: ingestion failed; will retry", run_id)
            if poll.state is JobState.RUNNING:
                if run_id in self._cancels and not cancel_sent:
                    cancel_sent = True
                    grace = self.config.cancel_grace_s
                    stopper = asyncio.create_task(
                        asyncio.to_thread(executor.cancel, job, handle, grace)
                    )
                    self._stoppers.add(stopper)
                    stopper.add_done_callback(self._stoppers.discard)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.poll_interval_s)
                continue
            await asyncio.to_thread(ingester.finish)
            if poll.state is JobState.GONE:
                await self._end(run_id, S.lost, poll.detail or "the run's process is gone")
                return
            info = await asyncio.to_thread(executor.collect, job, handle)
            status = outcome(info)
            await self._end(run_id, status, info.message, exit_code=info.returncode)
            if status is S.succeeded:
                self._follow(run_id)
            return

    def _follow(self, run_id: str) -> None:
        for listener in self._on_success:
            task = asyncio.create_task(self._notify(listener, run_id), name=f"after-{run_id}")
            self._followers.add(task)
            task.add_done_callback(self._followers.discard)

    @staticmethod
    async def _notify(listener: Callable[[str], Awaitable[None]], run_id: str) -> None:
        try:
            await listener(run_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("run %s: a follow-up after its success failed", run_id)

    async def _end(self, run_id: str, status: RunStatus, reason: str, **fields: object) -> None:
        try:
            await self.db.call(self.store.transition, run_id, status, reason, **fields)
        except IllegalTransition as exc:
            log.warning("run %s: %s", run_id, exc)

    # -- after a crash ---------------------------------------------------------

    async def _recover(self) -> None:
        """Reattach to runs whose process outlived the previous daemon; the rest are lost."""
        rows = await self.db.call(self.store.rows_with_status, [S.preparing, S.running])
        for row in rows:
            await self._recover_one(row)

    async def _recover_one(self, row: Run) -> None:
        run_id = row.id
        executor = self.executors.get(row.executor)
        if executor is None:
            await self._end(run_id, S.lost, f"its executor {row.executor!r} is not available")
            return
        job = reattach_job(run_id, Path(row.run_dir), RunSpec.model_validate_json(row.spec_json))
        handle: Handle | None = json.loads(row.handle_json) if row.handle_json else None
        if handle is None:
            # The daemon may have died between starting the process and storing its handle.
            handle = await asyncio.to_thread(executor.locate, job)
        if handle is None:
            await self._end(run_id, S.lost, "the daemon stopped before this run's process started")
            return
        if row.cancel_requested:
            self._cancels.add(run_id)
        poll = await asyncio.to_thread(executor.poll, job, handle)
        ingester = Ingester(self.store, run_id, job.run_dir, row.metrics_offset)
        if poll.state is JobState.GONE:
            await asyncio.to_thread(ingester.finish)
            await self._end(run_id, S.lost, f"{poll.detail} (found when the daemon restarted)")
            return
        if row.status == S.preparing.value:
            await self.db.call(
                self.store.transition, run_id, S.running, handle_json=json.dumps(handle)
            )
        log.info("run %s: reattached (%s)", run_id, poll.state.value)
        self._track(run_id, self._watch(run_id, job, executor, handle, ingester))
