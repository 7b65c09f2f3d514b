"""The Docker engine the daemon talks to: connecting, probing, and describing it.

The engine is found the way the docker CLI finds it: ``DOCKER_HOST`` (a unix
socket, ``tcp://`` with ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``, or
``ssh://``), else the local socket. Every call here blocks; callers run them
off the event loop.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import docker
from docker.errors import DockerException
from docker.utils import kwargs_from_env

from ..config import DockerSettings
from .base import ExecutorError

API_TIMEOUT_S = 120
"""Timeout of ordinary engine calls (an image build streams, so it is not bounded by this)."""
PROBE_TTL_S = 10.0
"""How long an answer to "is an engine there?" is trusted before asking again."""


@dataclass(frozen=True)
class EngineInfo:
    """Which engine ran a run, as recorded in its environment."""

    host: str
    """``DOCKER_HOST``, or the default local socket."""
    name: str
    server_version: str
    operating_system: str
    runtimes: tuple[str, ...]
    remote: bool
    """True for tcp:// and ssh:// engines."""

    @property
    def has_gpu_runtime(self) -> bool:
        return "nvidia" in self.runtimes

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "name": self.name,
            "server_version": self.server_version,
            "operating_system": self.operating_system,
            "runtimes": list(self.runtimes),
            "remote": self.remote,
        }


class _EngineAPI(docker.APIClient):
    """The SDK's API client, except that a TLS engine's own CA is not replaced by
    ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` (requests lets those variables beat the
    session's ``verify``, which breaks ``DOCKER_CERT_PATH`` on machines that set them)."""

    def merge_environment_settings(  # type: ignore[no-untyped-def]
        self, url, proxies, stream, verify, cert
    ):
        if verify is None:
            verify = self.verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)


class _EngineClient(docker.DockerClient):
    def __init__(self, **kwargs: Any) -> None:
        self.api = _EngineAPI(**kwargs)


def connect(timeout: float) -> docker.DockerClient:
    """A client for the engine the environment names (``DOCKER_HOST`` and the TLS
    variables); ssh:// goes through the ``ssh`` command, as the docker CLI does."""
    kwargs = kwargs_from_env()
    base_url = str(kwargs.get("base_url") or "")
    return _EngineClient(
        version="auto",
        timeout=max(1, round(timeout)),
        use_ssh_client=base_url.startswith("ssh://"),
        **kwargs,
    )


def engine_host() -> str:
    return os.environ.get("DOCKER_HOST", "").strip() or "unix:///var/run/docker.sock"


class Engine:
    """One lazily made client, shared by the executor's threads (the SDK's client is
    thread-safe for independent calls), plus a cached availability probe."""

    def __init__(self, settings: DockerSettings) -> None:
        self.settings = settings
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()
        self._probe: tuple[float, bool, str] | None = None

    def client(self) -> docker.DockerClient:
        with self._lock:
            if self._client is None:
                try:
                    self._client = connect(API_TIMEOUT_S)
                except DockerException as exc:
                    raise ExecutorError(
                        f"cannot reach the Docker engine at {engine_host()}: {exc}; "
                        "start it, set DOCKER_HOST, or run with --executor local"
                    ) from exc
            return self._client

    def available(self) -> tuple[bool, str]:
        """Whether an engine answers now (cached a few seconds), and why not."""
        if not self.settings.enabled:
            return False, "the Docker executor is off (MLOPS_DOCKER=off)"
        now = time.monotonic()
        probe = self._probe
        if probe is not None and now - probe[0] < PROBE_TTL_S:
            return probe[1], probe[2]
        ok, why = self._ping()
        self._probe = (now, ok, why)
        return ok, why

    def _ping(self) -> tuple[bool, str]:
        try:
            probe = connect(self.settings.probe_timeout_s)
            try:
                probe.ping()
            finally:
                probe.close()
        except Exception as exc:  # any failure means "not usable now"
            return False, f"no Docker engine answers at {engine_host()} ({type(exc).__name__})"
        return True, ""

    def describe(self) -> EngineInfo:
        try:
            info = self.client().info()
        except DockerException as exc:
            raise ExecutorError(f"the Docker engine at {engine_host()} failed: {exc}") from exc
        host = engine_host()
        return EngineInfo(
            host=host,
            name=str(info.get("Name", "")),
            server_version=str(info.get("ServerVersion", "")),
            operating_system=str(info.get("OperatingSystem", "")),
            runtimes=tuple(sorted((info.get("Runtimes") or {}).keys())),
            remote=not host.startswith("unix://"),
        )
