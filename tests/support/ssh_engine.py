"""The local Docker engine reached as a remote one over ssh:// (``DOCKER_HOST=ssh://HOST``).

A real ``sshd`` runs on a free loopback port with its own host key, authorized
key and config (nothing of the machine's own ssh setup is touched), and the
daemon under test finds an ``ssh`` first on its PATH that adds ``-F`` with a
config naming that server, the way a user's ``~/.ssh/config`` would. The SDK
then runs ``ssh HOST docker system dial-stdio``, as the docker CLI does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.docker_engine import skip_unless_ci

HOST_ALIAS = "mlops-ssh-engine"
SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class SshEngine:
    docker_host: str
    path: str
    """A PATH whose first ``ssh`` reaches the server."""


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "sshd needs root to log in as root"
    if not Path(SSHD).exists() or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return "no sshd or ssh (Debian: openssh-server, openssh-client; tests/run.sh installs them)"
    if shutil.which("docker") is None:
        return "no docker CLI for `docker system dial-stdio` on the ssh side"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


@pytest.fixture
def ssh_engine(docker_client: object, tmp_path: Path) -> Iterator[SshEngine]:
    why = _unavailable()
    if why is not None:
        skip_unless_ci("the ssh:// engine test", why)
    home = tmp_path / "ssh"
    home.mkdir()
    _keygen(home / "host_key")
    _keygen(home / "client_key")
    (home / "authorized_keys").write_text((home / "client_key.pub").read_text())
    port = _free_port()
    (home / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {home / 'host_key'}\n"
        f"AuthorizedKeysFile {home / 'authorized_keys'}\nPidFile {home / 'sshd.pid'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nStrictModes no\nUsePAM no\n"
    )
    (home / "ssh_config").write_text(
        f"Host {HOST_ALIAS}\n  HostName 127.0.0.1\n  Port {port}\n  User root\n"
        f"  IdentityFile {home / 'client_key'}\n  IdentitiesOnly yes\n"
        "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
    )
    wrapper = home / "bin"
    wrapper.mkdir()
    real_ssh = shutil.which("ssh")
    (wrapper / "ssh").write_text(f'#!/bin/sh\nexec {real_ssh} -F {home / "ssh_config"} "$@"\n')
    (wrapper / "ssh").chmod(0o755)
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
    log = open(home / "sshd.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(home / "sshd_config")], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        path = f"{wrapper}{os.pathsep}{os.environ['PATH']}"
        deadline = time.monotonic() + 30
        while True:
            probe = subprocess.run(
                ["ssh", HOST_ALIAS, "docker", "version", "--format", "{{.Server.Version}}"],
                env={**os.environ, "PATH": path},
                capture_output=True,
                text=True,
                timeout=30,
            )
            if probe.returncode == 0:
                break
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    "sshd did not let us in: "
                    f"{probe.stderr.strip()}\n{(home / 'sshd.log').read_text()[-2000:]}"
                )
            time.sleep(0.2)
        # The SDK passes a port to ssh (22 when DOCKER_HOST names none), so name ours.
        yield SshEngine(docker_host=f"ssh://{HOST_ALIAS}:{port}", path=path)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
