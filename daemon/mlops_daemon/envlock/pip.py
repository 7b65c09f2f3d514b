"""Run this interpreter's pip and turn its failures into messages that say what to do."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from .model import EnvLockError

TAIL_LINES = 12

_NETWORK = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "ProxyError",
    "Max retries exceeded",
    "Read timed out",
    "ConnectTimeout",
    "Connection refused",
)
_NOT_FOUND = re.compile(r"No matching distribution found for ([A-Za-z0-9._-]+)")


@dataclass(frozen=True)
class PipOptions:
    ca_bundle: Path | None = None
    index_url: str | None = None

    def args(self) -> list[str]:
        extra: list[str] = []
        if self.ca_bundle is not None:
            extra += ["--cert", str(self.ca_bundle)]
        if self.index_url is not None:
            extra += ["--index-url", self.index_url]
        return extra

    def env(self) -> dict[str, str]:
        """pip's environment: ours, with the CA bundle winning over REQUESTS_CA_BUNDLE and
        CURL_CA_BUNDLE (which requests otherwise prefers to ``--cert``)."""
        env = dict(os.environ, PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
        if self.ca_bundle is not None:
            bundle = str(self.ca_bundle)
            env.update(PIP_CERT=bundle, REQUESTS_CA_BUNDLE=bundle, CURL_CA_BUNDLE=bundle)
        return env


@dataclass(frozen=True)
class PipResult:
    returncode: int
    lines: list[str]

    @property
    def text(self) -> str:
        """pip's last lines (what a message shows)."""
        return "\n".join(self.lines[-TAIL_LINES:])

    @property
    def everything(self) -> str:
        return "\n".join(self.lines)

    def not_found(self) -> set[str]:
        """Names pip said it found no matching distribution for."""
        return {canonicalize_name(m.group(1)) for m in _NOT_FOUND.finditer(self.everything)}


def run_pip(
    command: str, args: list[str], options: PipOptions, say: Callable[[str], None]
) -> PipResult:
    """``python -m pip COMMAND ...``; its output goes to ``say`` line by line."""
    argv = [sys.executable, "-m", "pip", command, *args, *options.args()]
    argv += ["--no-input", "--progress-bar", "off", "--disable-pip-version-check"]
    say(f"pip {command}: {' '.join(a for a in args if not a.startswith('-'))}")
    lines: list[str] = []
    try:
        process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            env=options.env(),
        )
    except OSError as exc:
        raise EnvLockError(f"cannot start pip ({sys.executable} -m pip): {exc}") from exc
    assert process.stdout is not None
    with process:
        for line in process.stdout:
            line = line.rstrip()
            if line:
                lines.append(line)
                say(f"  {line}")
    return PipResult(process.returncode, lines)


def failure(result: PipResult, what: str, options: PipOptions, wheelhouse: Path) -> EnvLockError:
    """The error to report when pip could not fetch ``what``."""
    text, everything = result.text, result.everything
    if "No module named pip" in text:
        hint = f"this Python has no pip: {sys.executable} -m ensurepip"
    elif "CERTIFICATE_VERIFY_FAILED" in everything or "SSLError" in everything:
        current = f" (now {options.ca_bundle})" if options.ca_bundle else ""
        hint = (
            "the package index's TLS certificate is not trusted: a proxy or corporate network "
            "re-signs it. Configure a CA bundle that includes its certificate"
            f"{current}, e.g. /etc/ssl/certs/ca-certificates.crt, or set PIP_CERT"
        )
    elif any(marker in everything for marker in _NETWORK):
        hint = (
            "the package index cannot be reached: check the network, the proxy "
            "(HTTPS_PROXY) and the index URL"
            f"{f' ({options.index_url})' if options.index_url else ''}, "
            f"or put the wheels into {wheelhouse} yourself (pip download)"
        )
    elif result.not_found():
        hint = (
            "the package index has no such release (installed from a local path or a URL?); "
            f"put its wheel into {wheelhouse} (pip wheel --no-deps), or install a published "
            "version"
        )
    else:
        hint = f"see pip's output above; wheels may also be put into {wheelhouse} by hand"
    return EnvLockError(
        f"could not fetch wheels for {what}: {hint}.\npip's last lines:\n{text}",
        [{"subject": what, "where": "pip", "fix": hint}],
    )


def is_network_failure(result: PipResult) -> bool:
    text = result.everything
    return "CERTIFICATE_VERIFY_FAILED" in text or any(marker in text for marker in _NETWORK)
