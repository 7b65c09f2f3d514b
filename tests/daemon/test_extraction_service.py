"""The extraction service in process, with the kernel faked (``support.fake_notebook_kernel``):
job states, progress, recorded versions, failures with lessons, per-project turns."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from support import fake_notebook_kernel as fake
from support.fake_notebook_kernel import write_notebook

from mlops_daemon import notebooks
from mlops_daemon.errors import Conflict, InvalidInput, NotFound, Unprocessable
from mlops_daemon.extraction import ExtractionService
from mlops_daemon.store.async_store import AsyncStore
from mlops_daemon.store.repository import Store
from mlops_kernel.notebook.errors import (
    CellExecutionError,
    GeneratedTestsFailed,
    NotebookError,
    NotebookFormatError,
    SelectionError,
    VersioningError,
)
from mlops_kernel.notebook.jobs_schemas import ExtractionJob, JobState, LintRequest
from mlops_kernel.notebook.schemas import ExtractionRequest

T = TypeVar("T")


@pytest.fixture(autouse=True)
def fake_kernel(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(notebooks, "kernel", lambda: fake)
    return fake


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'mlops.db'}")
    yield s
    s.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    (path / ".git").mkdir(parents=True)
    return path


def run(store: Store, body: Callable[[ExtractionService], Awaitable[T]], **kw: Any) -> T:
    """Run ``body`` with a fresh service on an event loop, then stop the service."""

    async def main() -> T:
        service = ExtractionService(AsyncStore(store), **kw)
        try:
            return await body(service)
        finally:
            await service.stop()

    return asyncio.run(main())


async def finished(service: ExtractionService, job: ExtractionJob) -> ExtractionJob:
    for _ in range(6000):
        current = service.get(job.id)
        if current.state.terminal:
            return current
        await asyncio.sleep(0.01)
    raise AssertionError(f"job {job.id} still {service.get(job.id).state}")


def request(notebook: Path, project: Path, **kw: Any) -> ExtractionRequest:
    return ExtractionRequest(notebook=str(notebook), project=str(project), **kw)


# -- success ---------------------------------------------------------------------------


def test_a_job_succeeds_and_records_the_module_version(store: Store, project: Path) -> None:
    nb = write_notebook(project / "Train.ipynb", "x = 1", "# notes", "y = x + 1", markdown=(1,))

    async def body(service: ExtractionService) -> list[ExtractionJob]:
        first = await service.submit(request(nb, project))
        assert first.state == JobState.queued
        assert first.notebook == str(nb.resolve()) and first.project == str(project.resolve())
        done = [await finished(service, first)]
        done.append(await finished(service, await service.submit(request(nb, project))))
        write_notebook(nb, "x = 2", "# notes", "y = x + 1", markdown=(1,))
        done.append(await finished(service, await service.submit(request(nb, project))))
        return done

    first, unchanged, changed = run(store, body)
    assert first.state == JobState.succeeded, first.error
    assert first.result is not None and first.error is None
    assert (first.result.module_path, first.result.version) == ("pkg/train.py", 1)
    assert first.result.version_id
    assert first.progress is not None and first.progress.stage == "commit"
    assert first.started_at and first.ended_at and first.ended_at >= first.started_at
    assert (project / "pkg" / "train.py").is_file()

    assert unchanged.result is not None and not unchanged.result.changed
    assert unchanged.result.version == 1
    assert unchanged.result.version_id == first.result.version_id
    # the fake gives no sha when nothing changed: the version's own commit stands in
    assert unchanged.result.git_sha == first.result.git_sha

    assert changed.result is not None and changed.result.version == 2
    rows = store.module_versions(str(project.resolve()))
    assert [(r.version, r.content_hash) for r in rows] == [
        (1, first.result.content_hash),
        (2, changed.result.content_hash),
    ]
    assert rows[0].cell_ids == ["c0", "c2"] and rows[0].notebook_path == str(nb.resolve())


def test_progress_is_reported_while_the_job_runs(store: Store, project: Path) -> None:
    nb = write_notebook(project / "nb.ipynb", "a = 1", "HOLD = 1", "b = 2")

    async def body(service: ExtractionService) -> tuple[ExtractionJob, ExtractionJob]:
        job = await service.submit(request(nb, project))
        for _ in range(6000):
            seen = service.get(job.id).model_copy(deep=True)
            if seen.progress is not None and seen.progress.message == "running cell 2":
                break
            await asyncio.sleep(0.01)
        (project / ".go").touch()
        return seen, await finished(service, job)

    held, done = run(store, body)
    assert held.state == JobState.running
    assert held.progress is not None
    assert (held.progress.stage, held.progress.done, held.progress.total) == ("run", 2, 3)
    assert done.state == JobState.succeeded


# -- failures ----------------------------------------------------------------------------


def test_a_failing_cell_fails_the_job_with_its_lesson(store: Store, project: Path) -> None:
    nb = write_notebook(project / "nb.ipynb", "a = 1", "raise ValueError('boom')")

    async def body(service: ExtractionService) -> ExtractionJob:
        return await finished(service, await service.submit(request(nb, project)))

    job = run(store, body)
    assert job.state == JobState.failed and job.result is None
    assert job.error is not None
    assert job.error.kind == "cell_execution"
    assert job.error.cell == 1
    assert job.error.lesson == fake.LESSON
    assert "cell 2 failed" in job.error.message and "boom" in job.error.message
    assert store.module_versions(str(project.resolve())) == []


def test_failing_generated_tests_fail_the_job_with_their_output(
    store: Store, project: Path
) -> None:
    nb = write_notebook(project / "nb.ipynb", "FAILTEST = 1")

    async def body(service: ExtractionService) -> ExtractionJob:
        return await finished(service, await service.submit(request(nb, project)))

    job = run(store, body)
    assert job.error is not None and job.error.kind == "generated_tests_failed"
    assert job.error.output is not None and "assert 1 == 2" in job.error.output


def test_an_unexpected_error_fails_the_job_as_internal(
    store: Store, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError("kernel bug")

    monkeypatch.setattr(fake, "extract", broken)
    nb = write_notebook(project / "nb.ipynb", "a = 1")

    async def body(service: ExtractionService) -> ExtractionJob:
        return await finished(service, await service.submit(request(nb, project)))

    job = run(store, body)
    assert job.error is not None and job.error.kind == "internal"
    assert "kernel bug" in job.error.message and "daemon.log" in job.error.message


@pytest.mark.parametrize(
    ("make", "error", "fragment"),
    [
        (lambda p, nb: request(p / "missing.ipynb", p), NotFound, "missing.ipynb"),
        (lambda p, nb: ExtractionRequest(notebook="nb.ipynb"), InvalidInput, "absolute"),
        (lambda p, nb: request(nb, Path("relative")), InvalidInput, "absolute"),
        (lambda p, nb: request(p, p), InvalidInput, "not a file"),
        (lambda p, nb: request(nb, p / "nowhere"), InvalidInput, "does not exist"),
        (lambda p, nb: request(nb, p, cells=[7]), InvalidInput, "no cell 8"),
        (lambda p, nb: request(p / "bad.ipynb", p), InvalidInput, "not valid JSON"),
        (lambda p, nb: request(p / "v3.ipynb", p), InvalidInput, "nbformat 4"),
    ],
    ids=[
        "missing",
        "relative-notebook",
        "relative-project",
        "a-folder",
        "no-project",
        "selection",
        "bad-json",
        "nbformat-3",
    ],
)
def test_bad_requests_are_refused_before_a_job_exists(
    store: Store, project: Path, make: Any, error: type[Exception], fragment: str
) -> None:
    nb = write_notebook(project / "nb.ipynb", "a = 1")
    (project / "bad.ipynb").write_text("{not json")
    write_notebook(project / "v3.ipynb", "a = 1", nbformat=3)

    async def body(service: ExtractionService) -> None:
        with pytest.raises(error, match=fragment):
            await service.submit(make(project, nb))
        assert not service._jobs

    run(store, body)


def test_a_project_that_is_not_a_repository_needs_git_init(store: Store, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    nb = write_notebook(bare / "nb.ipynb", "a = 1")

    async def body(service: ExtractionService) -> ExtractionJob:
        with pytest.raises(Conflict, match="git init"):
            await service.submit(request(nb, bare))
        return await finished(service, await service.submit(request(nb, bare, git_init=True)))

    assert run(store, body).state == JobState.succeeded


# -- scheduling and memory ------------------------------------------------------------------


def test_one_job_at_a_time_per_project_but_projects_in_parallel(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_extract = fake.extract
    release = threading.Event()
    lock = threading.Lock()
    active: dict[str, int] = {}
    most: dict[str, int] = {}

    def tracked(req: ExtractionRequest, progress: Any = None) -> Any:
        key = Path(req.project or "").name
        with lock:
            active[key] = active.get(key, 0) + 1
            most[key] = max(most.get(key, 0), active[key])
        try:
            if key == "a":
                assert release.wait(60), "never released"
            return real_extract(req, progress)
        finally:
            with lock:
                active[key] -= 1

    monkeypatch.setattr(fake, "extract", tracked)
    projects = {}
    for name in ("a", "b"):
        (tmp_path / name / ".git").mkdir(parents=True)
        projects[name] = write_notebook(tmp_path / name / "nb.ipynb", f"{name} = 1")

    async def body(service: ExtractionService) -> list[ExtractionJob]:
        a_jobs = [
            await service.submit(request(projects["a"], projects["a"].parent)) for _ in range(3)
        ]
        b_job = await finished(
            service, await service.submit(request(projects["b"], projects["b"].parent))
        )
        assert b_job.state == JobState.succeeded, "project b waited for project a"
        states = sorted(service.get(j.id).state.value for j in a_jobs)
        assert states == ["queued", "queued", "running"]
        release.set()
        return [await finished(service, j) for j in a_jobs]

    done = run(store, body, workers=2)
    assert [j.state for j in done] == [JobState.succeeded] * 3
    assert most == {"a": 1, "b": 1}


def test_only_the_last_jobs_are_kept(store: Store, project: Path) -> None:
    nb = write_notebook(project / "nb.ipynb", "a = 1")

    async def body(service: ExtractionService) -> list[str]:
        ids = []
        for _ in range(5):
            job = await service.submit(request(nb, project))
            ids.append((await finished(service, job)).id)
        for old in ids[:2]:
            with pytest.raises(NotFound, match="last 3"):
                service.get(old)
        return [service.get(i).id for i in ids[2:]]

    assert len(run(store, body, keep=3)) == 3


# -- lint and plan, and how kernel errors map to HTTP ------------------------------------------


def test_lint_and_plan_go_through_the_kernel(store: Store, project: Path) -> None:
    nb = write_notebook(project / "nb.ipynb", "ERROR = 1", "WARN = 2")

    async def body(service: ExtractionService) -> Any:
        report = await service.lint(LintRequest(notebook="nb.ipynb", project=str(project)))
        plan = await service.plan(request(nb, project, cells=[1], name="model"))
        with pytest.raises(NotFound):
            await service.lint(LintRequest(notebook=str(project / "gone.ipynb")))
        return report, plan

    report, plan = run(store, body)
    assert [f.severity.value for f in report.findings] == ["error", "warning"]
    assert (plan.module_path, plan.steps[0].cells) == ("pkg/model.py", [1])


@pytest.mark.parametrize(
    ("exc", "mapped", "status"),
    [
        (NotebookFormatError("x"), InvalidInput, 400),
        (SelectionError("x"), InvalidInput, 400),
        (VersioningError("x"), Conflict, 409),
        (CellExecutionError(2, "KeyError", "'a'", "seed it"), Unprocessable, 422),
        (GeneratedTestsFailed("x", "out"), Unprocessable, 422),
        (NotebookError("x"), Unprocessable, 422),
    ],
)
def test_kernel_errors_map_to_http_codes(
    exc: NotebookError, mapped: type[Exception], status: int
) -> None:
    error = notebooks.translate(exc)
    assert type(error) is mapped and error.http_status == status
    assert error.message == str(exc)


def test_a_failed_cell_reports_its_number_and_lesson_as_details() -> None:
    error = notebooks.translate(CellExecutionError(2, "KeyError", "'a'", "seed it"))
    assert error.details == [{"kind": "cell_execution", "cell": "2", "lesson": "seed it"}]
