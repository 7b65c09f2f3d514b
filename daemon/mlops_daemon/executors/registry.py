"""Which executors this daemon offers. A new backend is one module plus one line here."""

from __future__ import annotations

import logging

from ..config import DaemonConfig
from .base import Executor
from .local import LocalExecutor

log = logging.getLogger(__name__)


def make_executors(config: DaemonConfig) -> dict[str, Executor]:
    executors: list[Executor] = [LocalExecutor()]
    if config.docker.enabled:
        try:  # imported here: a machine without the docker SDK still runs locally
            from .docker import DockerExecutor
        except ImportError as exc:
            log.warning("the Docker executor is unavailable: %s", exc)
        else:
            executors.append(DockerExecutor(config))
    return {executor.name: executor for executor in executors}
