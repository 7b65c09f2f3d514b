"""The gate runner: after a run that logged a model succeeds, register its model
versions and evaluate the project's gates into a GateReport.

A report is created ``pending`` at once and finished when every check is done;
``GET /api/runs/{id}/gate?wait=true`` waits for it. Checks that block (pytest,
onnxruntime, reading data) run in threads; the reproducibility check runs the
identity again through the run service and compares every metric. A check that
crashes is recorded as ``error`` (and counts as failed when required), so one
broken check never hides the others.

Runs that logged no model are gated on request only (``mlops gate RUN``): there
is nothing to promote, and running a test suite after every experiment would
cost the user time for nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_kernel.gates import GateConfig, GateConfigError, load_gates
from mlops_kernel.gates.lessons import LESSONS
from mlops_kernel.model_schemas import (
    CheckKind,
    CheckStatus,
    GateCheck,
    GateReportOut,
    ModelVersionOut,
)
from mlops_kernel.models.manifest import MANIFEST_FILE, MODELS_DIR
from mlops_kernel.models.onnx_runtime import read_manifest
from mlops_kernel.schemas import RunDetail, RunStatus

from ..errors import Conflict
from ..executors.base import ExecutorError
from ..jobs import reattach_job
from ..store.async_store import AsyncStore
from .model_checks import LoggedModel, fairness_check, inspect_model, onnx_valid_check, parity_check
from .pytest_check import Runner, run_tests
from .reproducible import REPRODUCTION_PREFIX, reproducible_check
from .run_checks import data_check, metric_check, regression_checks

if TYPE_CHECKING:
    from ..service import RunService

log = logging.getLogger(__name__)


class GateRunner:
    def __init__(self, db: AsyncStore, runs: RunService, concurrency: int = 2) -> None:
        self.db = db
        self.store = db.store
        self.runs = runs
        self._limit = asyncio.Semaphore(concurrency)
        self._tasks: dict[str, asyncio.Task[GateReportOut]] = {}
        self._opening: set[str] = set()
        """Runs whose models are being registered and first report opened (once each)."""

    # -- triggers ---------------------------------------------------------------

    async def after_success(self, run_id: str) -> None:
        """The run service calls this when a run has succeeded."""
        if run_id in self._opening:
            return  # recovery is gating it already
        self._opening.add(run_id)
        try:
            detail = await self.db.call(self.store.get_run, run_id)
            if (detail.spec.name or "").startswith(REPRODUCTION_PREFIX):
                return  # the gate's own second run: compared by the gate that started it
            if await self.db.call(self.store.latest_gate_report, run_id) is not None:
                return  # gated already
            if await self.register_models(detail):
                await self._open(detail)
        finally:
            self._opening.discard(run_id)

    async def recover(self) -> None:
        """Finish what a previous daemon left undone: reports it left pending (it stopped
        mid-evaluation), and runs that logged a model and succeeded but were never gated
        (it stopped between the run's end and the report's creation)."""
        for report in await self.db.call(self.store.pending_gate_reports):
            detail = await self.db.call(self.store.get_run, report.run_id)
            log.info("run %s: finishing its pending gate report %s", detail.id, report.id)
            self._start(detail, report.id)
        candidates = await self.db.call(self.store.succeeded_runs_without_gate_report)
        ungated = await asyncio.to_thread(
            lambda: [
                run_id
                for run_id, run_dir, name in candidates
                if not (name or "").startswith(REPRODUCTION_PREFIX)
                and _logged_models(Path(run_dir))
            ]
        )
        for run_id in ungated:
            log.info("run %s: logged a model but was never gated; gating it now", run_id)
            await self.after_success(run_id)

    async def request(self, run_id: str) -> GateReportOut:
        """Start evaluating the run's gates; answers the pending report at once."""
        detail = await self.db.call(self.store.get_run, run_id)
        if detail.status is not RunStatus.succeeded:
            raise Conflict(
                f"run {run_id} is {detail.status.value}: gates are evaluated on succeeded runs"
            )
        running = self._tasks.get(run_id)
        if running is not None and not running.done():
            latest = await self.db.call(self.store.latest_gate_report, run_id)
            if latest is not None:
                return latest
        await self.register_models(detail)
        return await self._open(detail)

    async def _open(self, detail: RunDetail) -> GateReportOut:
        """A new pending report for the run, evaluated in the background."""
        config_path = str(Path(detail.spec.project) / "mlops.toml")
        exists = await asyncio.to_thread(Path(config_path).is_file)
        report = await self.db.call(
            self.store.create_gate_report, detail.id, config_path if exists else None
        )
        self._start(detail, report.id)
        return report

    def _start(self, detail: RunDetail, report_id: str) -> None:
        run_id = detail.id
        task = asyncio.create_task(self._evaluate(detail, report_id), name=f"gate-{run_id}")
        self._tasks[run_id] = task
        task.add_done_callback(lambda _: self._forget(run_id, task))

    async def report(self, run_id: str, wait: bool = False) -> GateReportOut | None:
        """The run's latest report (after the one being evaluated ends, with ``wait``)."""
        task = self._tasks.get(run_id)
        if wait and task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(task)
        return await self.db.call(self.store.latest_gate_report, run_id)

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _forget(self, run_id: str, task: asyncio.Task[GateReportOut]) -> None:
        if self._tasks.get(run_id) is task:
            del self._tasks[run_id]

    # -- models ---------------------------------------------------------------

    async def register_models(self, detail: RunDetail) -> list[ModelVersionOut]:
        """Register every model the run logged (idempotent)."""
        found = await asyncio.to_thread(_logged_models, Path(detail.run_dir))
        versions = []
        for model_dir in found:
            try:
                manifest = await asyncio.to_thread(read_manifest, model_dir)
            except ValueError as exc:
                log.warning("run %s: %s cannot be registered: %s", detail.id, model_dir, exc)
                continue
            versions.append(
                await self.db.call(
                    self.store.register_model_version, detail.id, model_dir, manifest
                )
            )
        return versions

    # -- evaluation -------------------------------------------------------------

    async def _evaluate(self, detail: RunDetail, report_id: str) -> GateReportOut:
        async with self._limit:
            try:
                checks = await self._checks(detail)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("run %s: gate evaluation failed", detail.id)
                checks = [_crashed("gates", exc)]
            return await self.db.call(self.store.finish_gate_report, report_id, checks)

    async def _checks(self, detail: RunDetail) -> list[GateCheck]:
        project = Path(detail.spec.project)
        try:
            config = await asyncio.to_thread(load_gates, project)
        except GateConfigError as exc:
            return [_config_error(exc)]
        required = config.is_required
        checks: list[GateCheck] = []
        models = await asyncio.to_thread(self._inspect_models, detail)
        if config.tests.enabled:
            checks.append(await self._tests(project, detail, config, required("tests", "tests")))
        for model in models:
            if config.onnx_valid:
                name = f"onnx_valid[{model.name}]"
                checks.append(onnx_valid_check(model, required("onnx_valid", name)))
        if config.onnx_valid and not models:
            checks.append(_no_model("onnx_valid", required("onnx_valid", "onnx_valid")))
        for rule in config.metrics:
            name = f"metric:{rule.metric}"
            checks.append(metric_check(rule, detail.metrics, required("metric", name)))
        for regression in config.no_regression:
            req = required("no_regression", f"no_regression:{regression.metric}")
            checks += await asyncio.to_thread(
                regression_checks,
                regression,
                detail.metrics,
                [m.name for m in models],
                self.store.production_metric,
                req,
            )
        if config.data:
            datasets = await self._datasets(detail.id)
            for rules in config.data:
                req = required("data", f"data:{rules.dataset}")
                checks.append(await asyncio.to_thread(data_check, rules, datasets, req))
        if config.onnx_parity is not None:
            for model in models:
                req = required("onnx_parity", f"onnx_parity[{model.name}]")
                checks.append(await asyncio.to_thread(parity_check, model, config.onnx_parity, req))
            if not models:
                checks.append(_no_model("onnx_parity", required("onnx_parity", "onnx_parity")))
        if config.fairness is not None:
            for model in models:
                req = required("fairness", f"fairness[{model.name}]")
                checks.append(await asyncio.to_thread(fairness_check, model, config.fairness, req))
            if not models:
                checks.append(_no_model("fairness", required("fairness", "fairness")))
        if config.reproducible is not None:
            req = required("reproducible", "reproducible")
            checks.append(await reproducible_check(self.runs, detail, config.reproducible, req))
        return checks

    def _inspect_models(self, detail: RunDetail) -> list[LoggedModel]:
        out = []
        for model_dir in _logged_models(Path(detail.run_dir)):
            try:
                manifest = read_manifest(model_dir)
            except ValueError:
                continue
            out.append(inspect_model(manifest.name, model_dir, manifest))
        return out

    async def _tests(
        self, project: Path, detail: RunDetail, config: GateConfig, required: bool
    ) -> GateCheck:
        runner, where_run = self._test_runner(detail)
        outcome = await asyncio.to_thread(
            run_tests, project, detail.entry_point, config.tests, runner
        )
        where = ", ".join(outcome.paths) if outcome.paths else "no test files"
        return GateCheck(
            name="tests",
            kind="tests",
            status=CheckStatus.passed if outcome.passed else CheckStatus.failed,
            required=required,
            measured=outcome.summary,
            threshold=f"every test passes ({where})",
            evidence=f"[{where_run}]\n{outcome.output}",
            lesson=LESSONS["tests"],
        )

    def _test_runner(self, detail: RunDetail) -> tuple[Runner | None, str]:
        """Where the tests run: in the run's own image for a containerised run (when it
        can be used again), else with the daemon's Python, the local runs' environment."""
        if detail.executor != "docker":
            return None, "run with the Python that ran the training"
        environment = detail.environment or {}
        if environment.get("transfer") == "copy":
            return None, (
                "run with the daemon's Python: the run trained on a remote engine, "
                "where its copy of the project is gone"
            )
        executor = self.runs.executors.get("docker")
        run_in = getattr(executor, "run_in_environment", None)
        if run_in is None:
            return None, "run with the daemon's Python: Docker is not available now"
        job = reattach_job(detail.id, Path(detail.run_dir), detail.spec)
        image = environment.get("image", {}).get("tag", "the run's image")

        def runner(argv: list[str], timeout_s: float) -> tuple[int, str]:
            try:
                result: tuple[int, str] = run_in(job, argv, timeout_s)
            except ExecutorError as exc:
                return 1, f"could not run the tests in the run's image: {exc}"
            return result

        return runner, f"run in the run's own image {image}, network off"

    async def _datasets(self, run_id: str) -> dict[str, tuple[str, Path]]:
        rows = await self.db.call(self.store.run_dataset_versions, run_id)
        return {mount: (f"{dv.name}@{dv.version}", Path(dv.path)) for mount, dv in rows}


def _logged_models(run_dir: Path) -> list[Path]:
    root = run_dir / MODELS_DIR
    if not root.is_dir():
        return []
    return sorted(p.parent for p in root.glob(f"*/{MANIFEST_FILE}") if p.is_file())


def _no_model(kind: CheckKind, required: bool) -> GateCheck:
    return GateCheck(
        name=kind,
        kind=kind,
        status=CheckStatus.skipped,
        required=required,
        evidence="the run logged no model (mlops_kernel.log_model): nothing to check or promote",
        lesson=LESSONS[kind],
    )


def _config_error(exc: GateConfigError) -> GateCheck:
    return GateCheck(
        name="config",
        kind="config",
        status=CheckStatus.error,
        required=True,
        measured=f"line {exc.line}" if exc.line else None,
        threshold="mlops.toml [gates] is valid",
        evidence=str(exc),
        lesson="Gates only protect production when they are read as written: a typo in "
        "mlops.toml must stop promotion rather than silently switch a check off.",
    )


def _crashed(name: str, exc: BaseException) -> GateCheck:
    return GateCheck(
        name=name,
        kind="config",
        status=CheckStatus.error,
        required=True,
        evidence=f"the gate runner failed: {type(exc).__name__}: {exc}",
        lesson="A gate that cannot be evaluated cannot vouch for the model.",
    )
