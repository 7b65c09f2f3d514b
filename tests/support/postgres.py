"""A real PostgreSQL server for the tests.

Fixtures (registered by tests/conftest.py):

* ``postgres_url`` (session): a SQLAlchemy URL
  ``postgresql+psycopg://postgres@127.0.0.1:PORT/mlops_test`` of a server
  started for this test session, or ``MLOPS_TEST_POSTGRES_URL`` as is when
  that is set.
* ``postgres_db_url`` (function): a fresh, empty database on that server,
  created for one test and dropped after it. ``fresh_database(url)`` does the
  same as a context manager, for a test that needs several.

The server is a throwaway cluster: initdb into a temporary directory, trust
authentication, listening only on 127.0.0.1 (a free port) and on a unix socket
inside that directory, fsync off. The binaries come from PATH or from Debian's
/usr/lib/postgresql/N/bin (newest N). PostgreSQL refuses to run as root, so as
root the cluster is created and run by the ``postgres`` system user.

When no server can be had the tests skip, saying why; with
``MLOPS_TEST_POSTGRES_REQUIRED=1`` (tests/run.sh sets it in CI) they fail
instead, so CI cannot go green by skipping them. Every wait is bounded.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL, make_url

ENV_URL = "MLOPS_TEST_POSTGRES_URL"
ENV_REQUIRED = "MLOPS_TEST_POSTGRES_REQUIRED"
SUPERUSER = "postgres"
DBNAME = "mlops_test"

INITDB_TIMEOUT_S = 120
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
CONNECT_TIMEOUT_S = 30
START_ATTEMPTS = 3  # a fresh port each time: another process may take ours


class PostgresUnavailable(Exception):
    """No server could be had; the message says exactly why."""


def _unavailable(reason: str) -> NoReturn:
    message = f"no PostgreSQL server for the tests: {reason}"
    if os.environ.get(ENV_REQUIRED) == "1":
        pytest.fail(f"{message} ({ENV_REQUIRED}=1)", pytrace=False)
    pytest.skip(message)


def _version_key(bindir: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,); sorts 9.6 below 10 correctly.
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name))


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, or None."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        # Resolve symlinks (e.g. /usr/local/bin/initdb -> .../15/bin/initdb)
        # so that pg_ctl and postgres are taken from the same installation.
        candidates.append(Path(on_path).resolve().parent)
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    candidates.extend(debian)
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def psycopg_conninfo(url: str | URL) -> str:
    """A libpq connection URI for psycopg from a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class TempPostgres:
    """A throwaway PostgreSQL cluster in a temporary directory."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = 0
        self._runas: list[str] = []
        self._stopped = False
        owner_uid: int | None = None
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root: run it as the postgres user.
            try:
                owner = pwd.getpwnam(SUPERUSER)
            except KeyError as exc:
                raise PostgresUnavailable(
                    "running as root and there is no 'postgres' system user to run the "
                    "server as (installing Debian's postgresql package creates it)"
                ) from exc
            runuser = shutil.which("runuser")
            if runuser is None:
                raise PostgresUnavailable("running as root and no 'runuser' to switch users")
            self._runas = [runuser, "-u", SUPERUSER, "--"]
            owner_uid = owner.pw_uid
        self.tmpdir = Path(tempfile.mkdtemp(prefix="mlops-pg-"))
        self.datadir = self.tmpdir / "data"
        self.sockdir = self.tmpdir / "sock"
        self.logfile = self.tmpdir / "server.log"
        self.sockdir.mkdir()
        if owner_uid is not None:
            for path in (self.tmpdir, self.sockdir):
                os.chown(path, owner_uid, -1)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{DBNAME}"

    def _run(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        # cwd: the tmp dir, since the caller's may be unreadable by postgres.
        # LC_ALL=C: English messages, and no dependence on installed locales.
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        try:
            return subprocess.run(
                [*self._runas, *args],
                cwd=self.tmpdir,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PostgresUnavailable(
                f"{Path(args[0]).name} did not finish within {timeout}s; "
                f"server log:\n{_tail(self.logfile)}"
            ) from exc

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        if self._runas:
            # Fails early and clearly where TMPDIR is not reachable by postgres.
            probe = self._run("test", "-w", str(self.tmpdir), timeout=10)
            if probe.returncode != 0:
                raise PostgresUnavailable(
                    f"the postgres user cannot write {self.tmpdir}; "
                    "set TMPDIR to a directory it can reach"
                )
        initdb = self._run(
            str(self.bindir / "initdb"),
            "--pgdata",
            str(self.datadir),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
            timeout=INITDB_TIMEOUT_S,
        )
        if initdb.returncode != 0:
            raise PostgresUnavailable(
                f"initdb failed (exit {initdb.returncode}):\n{initdb.stdout}{initdb.stderr}"
            )
        failure = ""
        for _ in range(START_ATTEMPTS):
            self.port = _free_port()
            # Settings go into postgresql.conf rather than `pg_ctl -o`, which
            # passes them through a shell (quoting trouble with odd paths).
            # Appended lines win, so a retry simply appends a new port.
            self._append_conf(
                listen_addresses="127.0.0.1",
                port=str(self.port),
                unix_socket_directories=str(self.sockdir),
                fsync="off",
                synchronous_commit="off",
                full_page_writes="off",
            )
            started = self._run(
                str(self.bindir / "pg_ctl"),
                "start",
                "--pgdata",
                str(self.datadir),
                "--log",
                str(self.logfile),
                "--wait",
                "--timeout",
                str(START_TIMEOUT_S),
                timeout=START_TIMEOUT_S + 15,
            )
            if started.returncode == 0:
                break
            failure = (
                f"pg_ctl start failed (exit {started.returncode}):\n"
                f"{started.stdout}{started.stderr}server log:\n{_tail(self.logfile)}"
            )
            if "could not bind" not in _tail(self.logfile):
                raise PostgresUnavailable(failure)
        else:
            raise PostgresUnavailable(failure)
        self._wait_until_accepting()
        with psycopg.connect(self._conninfo("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DBNAME)))

    def _append_conf(self, **settings: str) -> None:
        lines = "".join(f"{key} = '{value}'\n" for key, value in settings.items())
        # The file belongs to postgres when running as root; root may still write it.
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# added by tests/support/postgres.py\n" + lines)

    def _conninfo(self, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={dbname}"

    def _wait_until_accepting(self) -> None:
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while True:
            try:
                with psycopg.connect(self._conninfo("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise PostgresUnavailable(
                        f"server started but refuses connections after {CONNECT_TIMEOUT_S}s: "
                        f"{exc}\nserver log:\n{_tail(self.logfile)}"
                    ) from exc
                time.sleep(0.2)

    def _pg_ctl_stop(self, mode: str) -> int:
        stopped = self._run(
            str(self.bindir / "pg_ctl"),
            "stop",
            "--pgdata",
            str(self.datadir),
            "--mode",
            mode,
            "--wait",
            "--timeout",
            str(STOP_TIMEOUT_S),
            timeout=STOP_TIMEOUT_S + 15,
        )
        return stopped.returncode

    def stop(self) -> None:
        """Stops the server (if it runs) and removes the directory; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if (self.datadir / "postmaster.pid").exists():
            try:
                if self._pg_ctl_stop("fast") != 0:
                    self._pg_ctl_stop("immediate")
            except PostgresUnavailable:
                pass  # nothing more to do; still remove what we can
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def start_postgres() -> TempPostgres:
    """Starts a throwaway server; raises PostgresUnavailable saying why not."""
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "initdb/pg_ctl/postgres not found on PATH nor in /usr/lib/postgresql/*/bin "
            "(on Debian: apt-get install postgresql; tests/run.sh does this as root)"
        )
    server = TempPostgres(bindir)
    # Also stop it if the session dies without running fixture teardown.
    atexit.register(server.stop)
    server.start()
    return server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a real PostgreSQL server for this test session."""
    external = os.environ.get(ENV_URL)
    if external:
        yield external
        return
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        reason = str(exc)
    else:
        reason = ""
    if reason:
        # Outside the except block, so the report is the reason alone.
        _unavailable(reason)
    try:
        yield server.url
    finally:
        server.stop()


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Creates an empty database on the server of server_url, yields its
    SQLAlchemy URL, and drops it on exit. For tests needing more than one."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = psycopg_conninfo(server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            # FORCE (PostgreSQL 13+) ends connections a test left open, e.g.
            # an engine's pool, which would otherwise block the drop.
            if conn.info.server_version >= 130000:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            else:
                drop = sql.SQL("DROP DATABASE IF EXISTS {}")
            conn.execute(drop.format(sql.Identifier(name)))


@pytest.fixture
def postgres_db_url(postgres_url: str) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database, dropped after the test."""
    with fresh_database(postgres_url) as url:
        yield url
