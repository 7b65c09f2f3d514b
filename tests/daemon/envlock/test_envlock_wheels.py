"""gather_wheels with the real pip against the real PyPI (skipped when unreachable)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from mlops_daemon.envlock import (
    REQUIREMENTS_FILE,
    EnvLock,
    EnvLockError,
    LockedPackage,
    gather_wheels,
    resolve_lock,
    write_lock_files,
)

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
PYPI = "https://pypi.org/simple"
SYSTEM_CA = Path("/etc/ssl/certs/ca-certificates.crt")


def _pypi_reachable() -> str | None:
    try:
        with urllib.request.urlopen(f"{PYPI}/six/", timeout=10) as answer:
            answer.read(1)
    except OSError as exc:
        return f"PyPI is unreachable from here ({exc})"
    return None


@pytest.fixture(scope="module")
def pypi() -> None:
    reason = _pypi_reachable()
    if reason:
        print(reason)
        pytest.skip(reason)


@pytest.fixture
def plain_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip with no site configuration (no local mirrors or find-links): the real index."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_CONSTRAINT"):
        monkeypatch.delenv(name, raising=False)


def ca() -> Path | None:
    return SYSTEM_CA if SYSTEM_CA.is_file() else None


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_downloads_once_then_reuses_the_wheelhouse(
    tmp_path: Path, pypi: None, plain_pip: None
) -> None:
    lock = EnvLock(python=PY, packages=(LockedPackage("six", "1.17.0"),))
    wheelhouse = tmp_path / "wheelhouse"
    said: list[str] = []
    first = gather_wheels(lock, wheelhouse, ca_bundle=ca(), index_url=PYPI, progress=said.append)
    assert any(line.startswith("pip download") for line in said)
    (package,) = first.packages
    assert package.filename == "six-1.17.0-py2.py3-none-any.whl"
    wheel = wheelhouse / package.filename
    assert package.sha256 == sha256(wheel)
    assert sorted(p.name for p in wheelhouse.iterdir()) == [package.filename]  # no temp left
    assert first.id == lock.id and first.gathered

    stamp = wheel.stat().st_mtime_ns
    said.clear()
    second = gather_wheels(lock, wheelhouse, index_url="http://127.0.0.1:9/", progress=said.append)
    assert second == first
    assert not any(line.startswith("pip") for line in said)
    assert said == [f"reusing {package.filename}"]
    assert wheel.stat().st_mtime_ns == stamp


def test_release_not_on_the_index_is_an_error_with_pips_lines(
    tmp_path: Path, pypi: None, plain_pip: None
) -> None:
    lock = EnvLock(python=PY, packages=(LockedPackage("six", "0.0.999"),))
    with pytest.raises(EnvLockError) as caught:
        gather_wheels(lock, tmp_path / "wh", ca_bundle=ca(), index_url=PYPI)
    message = caught.value.message
    assert "six==0.0.999" in message and "pip's last lines" in message
    assert "no such release" in message


def test_unreachable_index_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_RETRIES", "1")  # with 0, pip says nothing about the connection
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    lock = EnvLock(python=PY, packages=(LockedPackage("six", "1.17.0"),))
    with pytest.raises(EnvLockError, match="cannot be reached"):
        gather_wheels(lock, tmp_path / "wh", index_url="http://127.0.0.1:9/simple")


def test_untrusted_certificate_hints_at_a_ca_bundle(
    tmp_path: Path, pypi: None, plain_pip: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pip adds the system's trust store to --cert (truststore); without it, as with an
    # older pip in a base image, a bundle lacking the right CA fails verification.
    monkeypatch.setenv("PIP_USE_DEPRECATED", "legacy-certs")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_RETRIES", "1")
    key, cert = tmp_path / "key.pem", tmp_path / "other-ca.pem"
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    made = subprocess.run(
        [*openssl, "-subj", "/CN=not-your-proxy", "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
    )
    if made.returncode != 0:
        pytest.skip("openssl could not make a test certificate")
    lock = EnvLock(python=PY, packages=(LockedPackage("six", "1.17.0"),))
    with pytest.raises(EnvLockError, match="CA bundle"):
        gather_wheels(lock, tmp_path / "wh", ca_bundle=cert, index_url=PYPI)


@pytest.mark.slow
def test_release_without_a_wheel_is_built(tmp_path: Path, pypi: None, plain_pip: None) -> None:
    lock = EnvLock(python=PY, packages=(LockedPackage("docopt", "0.6.2"),))  # sdist only
    said: list[str] = []
    done = gather_wheels(
        lock, tmp_path / "wh", ca_bundle=ca(), index_url=PYPI, progress=said.append
    )
    (package,) = done.packages
    assert package.filename is not None and package.filename.startswith("docopt-0.6.2-")
    assert any(line.startswith("pip wheel") for line in said)


@pytest.mark.slow
def test_lock_files_install_offline_with_hashes(
    tmp_path: Path, pypi: None, plain_pip: None
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text("import jinja2\nprint(jinja2.__version__)\n")
    lock = resolve_lock(project, "train.py")
    assert [p.name for p in lock.packages] == ["jinja2", "markupsafe"]
    wheelhouse = tmp_path / "wheelhouse"
    lock = gather_wheels(lock, wheelhouse, ca_bundle=ca(), index_url=PYPI)
    write_lock_files(lock, tmp_path / "build")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            *(str(python), "-m", "pip", "install", "--no-index", "--find-links", str(wheelhouse)),
            *("--require-hashes", "-r", str(tmp_path / "build" / REQUIREMENTS_FILE)),
        ],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    ran = subprocess.run(
        [str(python), str(project / "train.py")], capture_output=True, text=True, check=True
    )
    assert ran.stdout.strip() == lock.packages[0].version
