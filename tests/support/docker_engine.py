"""A real Docker engine for tests, and the local base image they build from.

``tests/run.sh`` installs and starts dockerd and builds the base image (no
registry can be reached, so it is made with debootstrap and ``docker import``).
Where no engine can exist (not root, no docker), the Docker tests skip and say
why; under CI they fail instead, since CI must provide one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

BASE_IMAGE = os.environ.get("MLOPS_TEST_BASE_IMAGE", "local/python:3.11-bookworm")


def skip_unless_ci(what: str, why: str) -> None:
    """Skip a test whose component cannot exist here, saying why; under CI (which must
    provide it) fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must be able to run {what}: {why}")
    print(f"\nskipping {what}: {why}")
    pytest.skip(why)


def _unavailable() -> str | None:
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
    except Exception as exc:
        return f"no Docker engine answers ({type(exc).__name__}: {exc})"
    try:
        client.images.get(BASE_IMAGE)
    except Exception:
        return f"the test base image {BASE_IMAGE} is missing (tests/run.sh builds it)"
    finally:
        client.close()
    return None


@pytest.fixture(scope="session")
def docker_client() -> Iterator[object]:
    why = _unavailable()
    if why is not None:
        skip_unless_ci("the Docker tests", why)
    import docker

    client = docker.from_env(timeout=120)
    yield client
    client.close()
