"""Run a one-off command in a run's own image, with the project mounted read-only:
how the ``tests`` gate runs a containerised run's tests in the environment it
trained in (same packages, same Python, no network, not root)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from docker.errors import APIError, DockerException, ImageNotFound
from docker.types import Mount
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ReadTimeout

from mlops_kernel.runfiles import read_json

from .base import ExecutorError
from .docker_container import PROJECT_DIR, RUNTIME_PATH, run_user
from .environment import ENVIRONMENT_FILE

OUTPUT_LIMIT = 256 * 1024


def environment_image(run_dir: Path) -> str:
    """The image a run trained in (ExecutorError when it cannot be used again)."""
    record = read_json(run_dir / ENVIRONMENT_FILE)
    if not isinstance(record, dict) or not isinstance(record.get("image"), dict):
        raise ExecutorError("the run recorded no image (it never reached its container)")
    if record.get("transfer") == "copy":
        raise ExecutorError("the run trained on a remote engine, whose copy of the project is gone")
    return str(record["image"]["tag"])


def run_in_image(
    client: Any, image: str, project: Path, argv: list[str], timeout_s: float
) -> tuple[int, str]:
    """(exit code, output) of ``argv`` run in ``image`` with the project at its run path."""
    uid, gid = run_user()
    try:
        container = client.containers.create(
            image=image,
            command=argv,
            working_dir=PROJECT_DIR,
            environment={
                "PYTHONPATH": f"{PROJECT_DIR}:{RUNTIME_PATH}",
                "HOME": "/tmp",
                "MLOPS_HOME": "/tmp/mlops",
                "PYTHONDONTWRITEBYTECODE": "1",
            },
            user=f"{uid}:{gid}",
            mounts=[Mount(PROJECT_DIR, str(project), type="bind", read_only=True)],
            network_mode="none",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            read_only=True,
            tmpfs={"/tmp": "rw,nosuid,nodev,mode=1777"},
            init=True,
            labels={"io.jupyter-mlops.purpose": "gate"},
            detach=True,
        )
    except ImageNotFound as exc:
        raise ExecutorError(f"the run's image {image} is gone from the engine") from exc
    except (APIError, DockerException) as exc:
        raise ExecutorError(f"could not create a container from {image}: {exc}") from exc
    try:
        container.start()
        try:
            result = container.wait(timeout=timeout_s)
            code = int(result.get("StatusCode", 1))
            timed_out = False
        except (ReadTimeout, RequestsConnectionError):
            container.kill()
            code, timed_out = 124, True
        output = container.logs(stdout=True, stderr=True)[-OUTPUT_LIMIT:]
        text = output.decode("utf-8", errors="replace")
        if timed_out:
            text += f"\n[mlops] stopped after {timeout_s:g} s"
        return code, text
    except (APIError, DockerException) as exc:
        raise ExecutorError(f"the command in {image} failed to run: {exc}") from exc
    finally:
        with contextlib.suppress(DockerException):
            container.remove(force=True)
