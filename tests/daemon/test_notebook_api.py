"""The notebook endpoints over real HTTP, on a real daemon whose kernel is faked
(``support.fake_notebook_kernel``, loaded through ``fake_kernel_site``): status
codes, extraction jobs polled to their end, module versions, and runs that
record the module version they trained. The last tests use the real kernel's
lint, where it can be imported.
"""

from __future__ import annotations

import http.client
import importlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import fake_notebook_kernel as fake
from support.daemon import DaemonProcess, running_daemon
from support.fake_notebook_kernel import write_notebook
from support.notebook_daemon import fake_kernel_daemon, git_project
from support.runs import succeeded

from mlops_kernel.notebook.jobs_schemas import ExtractionJob

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def nb_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    with fake_kernel_daemon(tmp_path_factory, "notebook-api") as proc:
        yield proc


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return git_project(tmp_path)


def call(
    daemon: DaemonProcess, method: str, path: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {daemon.api.token}", "Content-Type": "application/json"}
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn = http.client.HTTPConnection(daemon.api.host, daemon.api.port, timeout=30)
    try:
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        ctype = resp.getheader("Content-Type") or ""
        data = resp.read()
    finally:
        conn.close()
    assert ctype.startswith("application/json"), (resp.status, ctype, data[:300])
    return resp.status, json.loads(data)


def error(answer: tuple[int, Any], status: int, *fragments: str) -> dict[str, Any]:
    code, body = answer
    assert code == status, body
    assert body["error"] and body["message"], body
    for fragment in fragments:
        assert fragment in body["message"], (fragment, body["message"])
    result: dict[str, Any] = body
    return result


def wait_job(daemon: DaemonProcess, job: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = daemon.api.request("GET", f"/api/extractions/{job['id']}")
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job still {job['state']}; daemon log:\n{daemon.log_tail()}")


def extract(daemon: DaemonProcess, notebook: Path, project: Path, **kw: Any) -> dict[str, Any]:
    code, job = call(
        daemon,
        "POST",
        "/api/extractions",
        {"notebook": str(notebook), "project": str(project), **kw},
    )
    assert code == 202, job
    assert job["state"] in ("queued", "running")
    return wait_job(daemon, job)


# -- lint and plan ---------------------------------------------------------------------


def test_lint_answers_with_the_report(nb_daemon: DaemonProcess, repo: Path) -> None:
    nb = write_notebook(repo / "nb.ipynb", "ERROR = 1", "ok = 2")
    code, report = call(nb_daemon, "POST", "/api/lint", {"notebook": str(nb)})
    assert code == 200, report
    assert [(f["cell"], f["severity"]) for f in report["findings"]] == [(0, "error")]
    assert report["readiness"]["score"] == 60
    # relative to the project
    code, again = call(
        nb_daemon, "POST", "/api/lint", {"notebook": "nb.ipynb", "project": str(repo)}
    )
    assert code == 200 and again["findings"] == report["findings"]


def test_lint_refuses_what_is_not_a_notebook(nb_daemon: DaemonProcess, repo: Path) -> None:
    missing = repo / "missing.ipynb"
    error(call(nb_daemon, "POST", "/api/lint", {"notebook": str(missing)}), 404, str(missing))
    (repo / "bad.ipynb").write_text("{nope")
    bad = {"notebook": str(repo / "bad.ipynb")}
    assert error(call(nb_daemon, "POST", "/api/lint", bad), 400, "not valid JSON")["error"] == (
        "invalid_input"
    )
    error(call(nb_daemon, "POST", "/api/lint", {"notebook": str(repo)}), 400, "not a file")
    error(call(nb_daemon, "POST", "/api/lint", {"notebook": "x.ipynb"}), 400, "absolute")
    error(call(nb_daemon, "POST", "/api/lint", {"notebok": "x"}), 400, "notebok")
    error(call(nb_daemon, "POST", "/api/lint", raw=b"{"), 400, "not valid JSON")


def test_plan_previews_without_writing(nb_daemon: DaemonProcess, repo: Path) -> None:
    nb = write_notebook(repo / "nb.ipynb", "a = 1", "b = 2")
    body = {"notebook": str(nb), "project": str(repo), "cells": [1], "name": "model"}
    code, plan = call(nb_daemon, "POST", "/api/extractions/plan", body)
    assert code == 200, plan
    assert (plan["module_path"], plan["steps"][0]["cells"]) == ("pkg/model.py", [1])
    assert not (repo / "pkg").exists()
    error(
        call(nb_daemon, "POST", "/api/extractions/plan", {**body, "cells": [5]}), 400, "no cell 6"
    )
    error(
        call(nb_daemon, "POST", "/api/extractions/plan", {**body, "name": "not-a-name"}),
        400,
        "name",
    )


# -- extraction jobs -----------------------------------------------------------------------


def test_an_extraction_is_a_job_polled_to_its_version(nb_daemon: DaemonProcess, repo: Path) -> None:
    nb = write_notebook(repo / "train.ipynb", "x = 1", "y = x")
    job = extract(nb_daemon, nb, repo)
    assert job["state"] == "succeeded", job
    ExtractionJob.model_validate(job)  # the documented shape
    result = job["result"]
    assert (result["module"], result["module_path"], result["version"]) == (
        "pkg.train",
        "pkg/train.py",
        1,
    )
    assert result["entry_point"] == "pkg.train:main" and result["version_id"]
    assert job["progress"]["stage"] == "commit"

    again = extract(nb_daemon, nb, repo)["result"]
    assert (again["changed"], again["version"], again["version_id"]) == (
        False,
        1,
        result["version_id"],
    )
    modules = nb_daemon.api.request("GET", "/api/modules", query={"project": str(repo)})
    (only,) = modules["modules"]
    assert (only["id"], only["version"], only["content_hash"]) == (
        result["version_id"],
        1,
        result["content_hash"],
    )
    assert only["project"] == str(repo) and only["cell_ids"] == ["c0", "c1"]
    assert nb_daemon.api.request("GET", "/api/modules", query={"project": "/nowhere"}) == {
        "modules": []
    }


def test_a_failing_cell_fails_the_job_with_its_lesson(nb_daemon: DaemonProcess, repo: Path) -> None:
    nb = write_notebook(repo / "nb.ipynb", "a = 1", "raise ValueError('boom')")
    job = extract(nb_daemon, nb, repo)
    assert job["state"] == "failed" and job["result"] is None
    assert job["error"]["kind"] == "cell_execution"
    assert job["error"]["cell"] == 1
    assert job["error"]["lesson"] == fake.LESSON


def test_extraction_requests_are_checked_before_a_job_starts(
    nb_daemon: DaemonProcess, repo: Path, tmp_path: Path
) -> None:
    nb = write_notebook(repo / "nb.ipynb", "a = 1")
    post = lambda body: call(nb_daemon, "POST", "/api/extractions", body)  # noqa: E731
    error(post({"notebook": str(repo / "gone.ipynb")}), 404, "gone.ipynb")
    error(post({"notebook": str(nb), "cells": [3]}), 400, "no cell 4")
    error(post({"notebook": str(nb), "cells": [-1]}), 400, "cells")
    error(post({"notebook": str(nb), "params": {"a": [1]}}), 400, "params")
    error(post({"notebook": str(nb), "surprise": 1}), 400, "surprise")
    bare = write_notebook(tmp_path / "bare" / "nb.ipynb", "a = 1")
    assert error(post({"notebook": str(bare)}), 409, "git init")["error"] == "conflict"
    job = wait_job(nb_daemon, post({"notebook": str(bare), "git_init": True})[1])
    assert job["state"] == "succeeded", job
    error(call(nb_daemon, "GET", "/api/extractions/feedfacecafe"), 404, "feedfacecafe")


# -- runs record the module version they train ------------------------------------------------


def test_a_run_records_the_module_version_it_trains(nb_daemon: DaemonProcess, repo: Path) -> None:
    nb = write_notebook(repo / "train.ipynb", "x = 1")
    result = extract(nb_daemon, nb, repo)["result"]
    run = nb_daemon.submit(repo, "pkg.train:main")
    expected = {
        "id": result["version_id"],
        "module": "pkg.train",
        "version": 1,
        "git_sha": result["git_sha"],
    }
    assert run["module_version"] == expected
    done = succeeded(nb_daemon, run)
    assert done["module_version"] == expected
    shown = nb_daemon.cli("runs", "show", run["id"])
    assert f"module:      pkg.train v1 (git {result['git_sha'][:7]})" in shown.stdout, shown
    listed = nb_daemon.api.request("GET", "/api/runs", query={"project": str(repo)})
    assert [r["module_version"] for r in listed["runs"]] == [expected]

    # edited by hand since: no recorded version has this content
    module = repo / "pkg" / "train.py"
    module.write_text(module.read_text() + "\n# tweaked\n")
    assert nb_daemon.submit(repo, "pkg.train:main")["module_version"] is None
    (repo / "script.py").write_text("print('hi')\n")
    assert nb_daemon.submit(repo, "script.py")["module_version"] is None


# -- the real kernel's lint --------------------------------------------------------------------


def _real_kernel() -> None:
    try:
        importlib.import_module("mlops_kernel.notebook.extract")
    except ImportError as exc:
        pytest.skip(f"the kernel's extraction module cannot be imported yet: {exc}")


@pytest.fixture(scope="module")
def real_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    _real_kernel()
    with running_daemon(tmp_path_factory.mktemp("notebook-real") / "home") as proc:
        yield proc


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        json.dumps(fake.notebook("a = 1", nbformat=3)).encode(),
        b"",
        b"\xff\xfe garbage",
    ],
    ids=["invalid-json", "nbformat-3", "empty", "binary"],
)
def test_the_real_lint_refuses_what_is_not_a_notebook_with_a_400(
    real_daemon: DaemonProcess, tmp_path: Path, content: bytes
) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_bytes(content)
    error(call(real_daemon, "POST", "/api/lint", {"notebook": str(bad)}), 400)
    (tmp_path / ".git").mkdir()
    body = {"notebook": str(bad), "project": str(tmp_path)}
    error(call(real_daemon, "POST", "/api/extractions", body), 400)
    error(call(real_daemon, "POST", "/api/extractions/plan", body), 400)


def test_the_real_lint_reads_a_notebook(real_daemon: DaemonProcess, tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "nb.ipynb", "import random\nx = random.random()", "print(x)")
    code, report = call(real_daemon, "POST", "/api/lint", {"notebook": str(nb)})
    assert code == 200, report
    assert len(report["cells"]) == 2
    assert 0 <= report["readiness"]["score"] <= 100
