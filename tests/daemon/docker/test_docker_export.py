"""The image of an exported service (`mlops export-service --wheels`), built by a real
Docker engine from the tests' local base image with no package index, answers as the
daemon does: its non-root user serves the model from the image's virtual environment,
preprocessing included."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.daemon import DaemonProcess
from support.docker_engine import BASE_IMAGE
from support.serving_models import LoggedModel, colours, daemon_serving

pytestmark = [pytest.mark.slow, pytest.mark.docker]

ASK = """
import json, sys, time, urllib.request
body = sys.argv[1].encode()
for _ in range(300):
    try:
        request = urllib.request.Request(
            "http://127.0.0.1:8080/predict", data=body,
            headers={"Content-Type": "application/json"})
        print(urllib.request.urlopen(request, timeout=5).read().decode())
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("the service never answered")
"""


@pytest.fixture
def exported(docker_client: Any, tmp_path: Path) -> Iterator[tuple[DaemonProcess, LoggedModel]]:
    model = colours(tmp_path / "run-colours", tmp_path / "modules")
    with daemon_serving(tmp_path / "home", {"colours": model}) as daemon:
        yield daemon, model


def test_the_exported_image_builds_offline_and_serves(
    docker_client: Any, exported: tuple[DaemonProcess, LoggedModel], tmp_path: Path
) -> None:
    daemon, model = exported
    folder = tmp_path / "service"
    done = daemon.cli("export-service", "colours@production", str(folder), "--wheels")
    assert done.returncode == 0, done.stderr
    lock = (folder / "requirements.lock.txt").read_text()
    for name in ("numpy", "onnxruntime", "pandas"):
        assert f"\n{name}==" in lock and "--hash=sha256:" in lock, lock
    assert "--no-index" in (folder / "Dockerfile").read_text()

    tag = f"mlops-test-export:{uuid.uuid4().hex[:8]}"
    image, _ = docker_client.images.build(
        path=str(folder),
        tag=tag,
        buildargs={"BASE_IMAGE": BASE_IMAGE},
        network_mode="none",  # the wheels are all it installs
        rm=True,
        forcerm=True,
    )
    container = None
    try:
        assert image.attrs["Config"]["User"] == "10001"
        rows = model.rows[:6]
        container = docker_client.containers.run(tag, detach=True, network_mode="none")
        body = json.dumps({"inputs": rows})
        code, output = container.exec_run(["python", "-c", ASK, body])
        assert code == 0, output.decode(errors="replace") + _logs(container)
        answer = json.loads(output.decode())
        assert answer["outputs"] == model.expected[:6]
        assert (answer["model"], answer["alias"], answer["version"]) == (
            "colours",
            "production",
            1,
        )
        served = daemon.api.request("POST", "/serve/colours/production", body={"inputs": rows})
        assert served["outputs"] == answer["outputs"]
        code, listing = container.exec_run(
            ["sh", "-c", "id -u && test ! -e /tmp/service && ls /srv/model"]
        )
        uid, *files = listing.decode().split()
        assert code == 0 and uid == "10001", listing  # and no wheels left in the image
        assert sorted(files) == [
            "app.py",
            "model.json",
            "model.onnx",
            "preprocess.py",
            "service.json",
        ]
    finally:
        if container is not None:
            container.remove(force=True)
        docker_client.images.remove(tag, force=True)


def _logs(container: Any) -> str:
    time.sleep(0.2)
    return "\n" + container.logs().decode(errors="replace")
