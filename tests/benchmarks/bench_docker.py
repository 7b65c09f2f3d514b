"""What the Docker executor costs, against the engine used directly.

1. Container run overhead: ``print("ok")`` submitted to a real daemon with
   ``executor: docker`` (POST until a GET shows ``succeeded``; ``force`` so the
   cache never answers) against ``docker run --rm`` of the same image and script
   with the same mounts and network off. Reported as a ratio.
2. The identity cache: submitting a spec that already succeeded, until the
   answer (target: under 100 ms).
3. The environment image: built cold (no image for that environment) and warm
   (already built), for a lock with one package (``six``) from the wheelhouse.

Needs a Docker engine and a base image (``MLOPS_BASE_IMAGE``, default
``local/python:3.11-bookworm``, which ``tests/run.sh`` builds).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import docker
from benchlib import BenchResult, DaemonProcess, Row, standalone, summary, temp_dir, timed
from support.daemon import running_daemon

from mlops_daemon.envlock import gather_wheels, resolve_lock
from mlops_daemon.executors.docker_image import ImageBuilder

BASE_IMAGE = os.environ.get("MLOPS_BASE_IMAGE", "local/python:3.11-bookworm")
CACHE_TARGET_MS = 100.0


def daemon_run(daemon: DaemonProcess, project: Path) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    run_id = daemon.submit(project, "ok.py", executor="docker", force=True)["id"]
    while True:
        run: dict[str, Any] = daemon.api.request("GET", f"/api/runs/{run_id}")
        if run["status"] in {"succeeded", "failed", "cancelled", "lost"}:
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    if run["status"] != "succeeded":
        raise RuntimeError(f"run {run_id} ended {run['status']}: {run['status_reason']}")
    return elapsed, run


def docker_run(image: str, project: Path) -> float:
    command = [
        "docker", "run", "--rm", "--network", "none", "--user", "10001:10001",
        "-v", f"{project}:/mlops/project:ro", image, "python", "/mlops/project/ok.py",
    ]  # fmt: skip
    return timed(lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL))


def image_builds(tmp: Path) -> dict[str, float]:
    project = tmp / "pkg-project"
    project.mkdir()
    (project / "train.py").write_text("import six\nprint(six.__version__)\n")
    client = docker.from_env(timeout=300)
    wheelhouse = tmp / "wheelhouse"
    lock = gather_wheels(resolve_lock(project, "train.py"), wheelhouse)
    builder = ImageBuilder(wheelhouse)
    quiet = lambda _: None  # noqa: E731
    first = builder.ensure(client, lock, BASE_IMAGE, None, quiet)
    client.images.remove(first.tag, force=True)
    start = time.perf_counter()
    cold = builder.ensure(client, lock, BASE_IMAGE, None, quiet)
    cold_s = time.perf_counter() - start
    assert cold.built
    warm = [timed(lambda: builder.ensure(client, lock, BASE_IMAGE, None, quiet)) for _ in range(5)]
    client.close()
    return {"cold_s": cold_s, "warm_s": summary(warm)["median"]}


def run(quick: bool = False) -> BenchResult:
    reps = 3 if quick else 10
    result = BenchResult("docker")
    with temp_dir("docker") as tmp:
        project = tmp / "project"
        project.mkdir()
        (project / "ok.py").write_text('print("ok")\n')
        env = {"MLOPS_DOCKER": "auto", "MLOPS_BASE_IMAGE": BASE_IMAGE}
        with running_daemon(tmp / "home", extra_env=env) as daemon:
            _, first = daemon_run(daemon, project)  # builds the image once
            image = first["environment"]["image"]["tag"]
            docker_run(image, project)
            through: list[float] = []
            direct: list[float] = []
            for _ in range(reps):  # interleaved, so drift hits both alike
                direct.append(docker_run(image, project))
                through.append(daemon_run(daemon, project)[0])
            hits: list[float] = []
            for _ in range(reps * 3):
                start = time.perf_counter()
                hit = daemon.submit(project, "ok.py", executor="docker")
                hits.append(time.perf_counter() - start)
                assert hit["status"] == "succeeded", hit
        builds = image_builds(tmp)
    d, t = summary([s * 1e3 for s in direct]), summary([s * 1e3 for s in through])
    h = summary([s * 1e3 for s in hits])
    result.rows = [
        Row("docker run --rm, same image and script (median)", d["median"], "ms"),
        Row(
            "run through the daemon, executor docker (median)",
            t["median"],
            "ms",
            "docker run",
            d["median"],
            t["median"] / d["median"],
        ),
        Row(
            "identity cache hit: POST until the answer (median)",
            h["median"],
            "ms",
            target=f"< {CACHE_TARGET_MS:.0f} ms",
            passed=h["p95"] < CACHE_TARGET_MS,
        ),
        Row("identity cache hit (p95)", h["p95"], "ms"),
        Row("environment image, reused (already built)", builds["warm_s"] * 1e3, "ms"),
        Row(
            "environment image, cold build (lock: six)",
            builds["cold_s"] * 1e3,
            "ms",
            "reused",
            builds["warm_s"] * 1e3,
            builds["cold_s"] / builds["warm_s"],
        ),
    ]
    result.details = {"direct": d, "through": t, "cache_hit": h, "builds": builds}
    result.notes = [
        "The daemon's run includes resolving the environment lock and the identity, "
        "writing the run directory, creating and starting the container, and noticing its "
        "exit (polled); docker run only creates, starts and waits."
    ]
    return result


if __name__ == "__main__":
    standalone(run)
