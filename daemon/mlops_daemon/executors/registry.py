"""Which executors this daemon offers. A new backend is one module plus one line here."""

from __future__ import annotations

from ..config import DaemonConfig
from .base import Executor
from .local import LocalExecutor


def make_executors(config: DaemonConfig) -> dict[str, Executor]:
    local = LocalExecutor()
    return {local.name: local}
