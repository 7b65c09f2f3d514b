"""The local executor: each run is a process group on this machine.

The daemon does not parent the run directly. It starts a small supervisor
process (``supervisor.py``) in a session of its own, and the supervisor starts
the run, enforces its limits and writes ``exit.json``. Everything the executor
later needs is in the run directory and in the JSON handle (pids plus the
supervisor's start time, so a reused pid is never mistaken for it), which is
why a restarted daemon can poll, cancel and collect runs started before it.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import site
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlops_daemon
import mlops_kernel
from mlops_daemon.envlock import EnvLockError, resolve_lock
from mlops_daemon.executors.base import (
    ExecutorError,
    ExitInfo,
    Handle,
    Job,
    JobState,
    Poll,
    fresh_run_dir,
    read_exit,
)
from mlops_daemon.executors.datalinks import link_datasets
from mlops_daemon.executors.environment import host_facts, write_environment
from mlops_daemon.executors.supervisor import CANCEL_FILE, LAUNCH_FILE
from mlops_daemon.logs import read_log
from mlops_daemon.process import (
    group_is_ours,
    is_alive,
    kill_group,
    kill_pid,
    process_create_time,
)
from mlops_kernel.runfiles import (
    EXIT_FILE,
    SUPERVISOR_FILE,
    read_json,
    write_json_atomic,
)
from mlops_kernel.schemas import RunSpec

logger = logging.getLogger(__name__)

SUPERVISOR_LOG = "supervisor.log"
"""The supervisor's own stdout/stderr, in the run directory."""
SUPERVISOR_MODULE = "mlops_daemon.executors.supervisor"

THREAD_COUNT_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
"""Thread-pool sizes of the usual numeric libraries, matched to the CPU limit."""

_SUPERVISOR_ENV_VARS = ("PATH", "VIRTUAL_ENV", "HOME", "LANG")
_POLL_INTERVAL_S = 0.02
_LOG_TAIL_CHARS = 2000


@dataclass(frozen=True)
class LocalExecutorSettings:
    """Tunables of the local executor."""

    cancel_grace_s: float = 5.0
    """Grace between SIGTERM and SIGKILL when the supervisor cancels on its own."""
    start_timeout_s: float = 5.0
    """How long ``start`` waits for the supervisor to report the run's pids."""
    kill_margin_s: float = 3.0
    """Extra time ``cancel`` gives the supervisor beyond the grace before killing it."""


def with_limits_environment(job: Job) -> dict[str, str]:
    """The run's environment: ``job.env`` plus what the executor adds.

    Nothing set in ``job.env`` is overridden. Logs must stream live, thread
    pools should match the CPU limit instead of the machine's core count, and
    GPUs are visible only when requested.
    """
    env = dict(job.env)
    env.setdefault("PYTHONUNBUFFERED", "1")
    resources = job.spec.resources
    if resources.cpus is not None:
        threads = str(math.ceil(resources.cpus))
        for name in THREAD_COUNT_VARS:
            env.setdefault(name, threads)
    env.setdefault("CUDA_VISIBLE_DEVICES", ",".join(str(i) for i in range(resources.gpus)))
    return env


def _package_roots() -> list[str]:
    """Directories the supervisor needs on its path to import this code.

    An installed package already lives in site-packages; a source checkout
    run with ``PYTHONPATH`` or ``sys.path`` tweaks does not, so its roots are
    passed on explicitly (but never site-packages itself, which would then
    shadow the standard library).
    """
    installed = {os.path.realpath(p) for p in site.getsitepackages()}
    roots: list[str] = []
    for package in (mlops_daemon, mlops_kernel):
        root = os.path.realpath(Path(package.__file__ or "").parent.parent)
        if root not in installed and root not in roots:
            roots.append(root)
    return roots


def daemon_import_paths() -> list[str]:
    """Where the daemon's Python finds what it imports beyond site-packages, absolute:
    its own ``PYTHONPATH`` entries, then the roots of our packages when not installed."""
    paths = [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    paths += [root for root in _package_roots() if root not in paths]
    return paths


def supervisor_environment() -> dict[str, str]:
    """A minimal environment for the supervisor: enough to run Python and import us."""
    env = {name: os.environ[name] for name in _SUPERVISOR_ENV_VARS if name in os.environ}
    paths = daemon_import_paths()
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def local_run_environment(job: Job) -> dict[str, str]:
    """The environment of a local run: the run's own, with the daemon's import paths after
    the project's, since the run uses the daemon's Python (and imports ``mlops_kernel``
    and its needs from wherever the daemon does, a source checkout included)."""
    env = with_limits_environment(job)
    own = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    paths = own + [p for p in daemon_import_paths() if p not in own]
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _log_tail(path: Path) -> str:
    """The end of a diagnostic log, for an error message."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text[-_LOG_TAIL_CHARS:].strip()


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class LocalExecutor:
    """Runs jobs as supervised process groups on this machine (thread-safe)."""

    name = "local"
    isolation = "process"

    def __init__(self, settings: LocalExecutorSettings | None = None) -> None:
        self.settings = settings or LocalExecutorSettings()
        self._lock = threading.Lock()
        self._supervisors: dict[str, subprocess.Popen[bytes]] = {}
        """Supervisors this instance started, kept so that they can be reaped."""

    # -- lifecycle -------------------------------------------------------------

    def available(self) -> tuple[bool, str]:
        return True, ""

    def environment_key(self, spec: RunSpec) -> str | None:
        """This interpreter's environment lock for the run's code (None when its imports
        are not all installed: such a run is not claimed reproducible)."""
        try:
            return "lock:" + resolve_lock(Path(spec.project), spec.entry_point).id
        except EnvLockError:
            return None

    def prepare(self, job: Job) -> None:
        """Create the run directory, a fresh working directory and the artifacts dir,
        and link the run's datasets under ``data/`` (links: not read-only, see datalinks)."""
        fresh_run_dir(job)
        try:
            link_datasets(job)
        except OSError as exc:
            raise ExecutorError(
                f"could not prepare the run directory {job.run_dir}: {exc}"
            ) from exc
        write_environment(
            job, {"executor": self.name, "isolation": self.isolation, **host_facts(job)}
        )

    def start(self, job: Job) -> Handle:
        """Start the supervisor, wait until it reports the run's pids, return the handle."""
        run_dir = job.run_dir
        for stale in (SUPERVISOR_FILE, EXIT_FILE, CANCEL_FILE):
            (run_dir / stale).unlink(missing_ok=True)
        self._write_launch(job)
        popen = self._spawn_supervisor(run_dir)
        with self._lock:
            self._supervisors[job.run_id] = popen
        create_time = process_create_time(popen.pid)
        self._wait_for_start(job, popen)
        info = read_json(run_dir / SUPERVISOR_FILE)
        info = info if isinstance(info, dict) else {}
        return {
            "supervisor_pid": popen.pid,
            "supervisor_create_time": info.get("supervisor_create_time", create_time),
            "child_pid": _int_or_none(info.get("child_pid")),
            "child_pgid": _int_or_none(info.get("child_pgid")),
        }

    def poll(self, job: Job, handle: Handle) -> Poll:
        """EXITED once exit.json exists, RUNNING while the supervisor lives, else GONE."""
        exit_info = read_exit(job)
        if exit_info is None and self._supervisor_alive(job, handle):
            return Poll(JobState.RUNNING)
        # The supervisor may have written its record just before it went away.
        exit_info = exit_info or read_exit(job)
        if exit_info is not None:
            self._reap(job, wait_s=0.0)
            return Poll(JobState.EXITED, exit_info)
        self._kill_leftovers(job, handle)
        pid = handle.get("supervisor_pid")
        return Poll(
            JobState.GONE,
            detail=f"the supervising process (pid {pid}) is gone and left no exit record",
        )

    def logs(self, job: Job, offset: int, max_bytes: int) -> tuple[str, int, int]:
        """The run's output: the supervisor sends it to ``output.log`` in the run dir."""
        return read_log(job.run_dir, offset, max_bytes)

    def cancel(self, job: Job, handle: Handle, grace_s: float = 5.0) -> None:
        """Ask the supervisor to stop the run; kill everything if it does not in time."""
        if read_exit(job) is not None or not self._supervisor_alive(job, handle):
            return
        write_json_atomic(job.run_dir / CANCEL_FILE, {"grace_s": grace_s})
        kill_pid(int(handle["supervisor_pid"]), signal.SIGTERM)
        deadline = time.monotonic() + grace_s + self.settings.kill_margin_s
        while time.monotonic() < deadline:
            if read_exit(job) is not None or not self._supervisor_alive(job, handle):
                break
            time.sleep(_POLL_INTERVAL_S * 2)
        if read_exit(job) is None:
            self._force_cancel(job, handle)
        self._reap(job, wait_s=1.0)

    def collect(self, job: Job, handle: Handle) -> ExitInfo:
        """The final exit record; reaps the supervisor if this instance started it."""
        exit_info = read_exit(job)
        if exit_info is None:
            raise ExecutorError(
                f"run {job.run_id} has no exit record ({job.run_dir / EXIT_FILE}): "
                "its supervising process has not finished or was lost"
            )
        self._reap(job, wait_s=2.0)
        return exit_info

    def locate(self, job: Job) -> Handle | None:
        """Rebuild the handle from what the supervisor recorded by itself.

        supervisor.json holds the pids; exit.json alone means the start failed
        (an empty handle: poll then reports the recorded ending). A launch.json
        with neither means the supervisor may still be starting, so wait for
        it a little. None: no supervisor was ever started for this job.
        """
        deadline = time.monotonic() + self.settings.start_timeout_s
        while True:
            info = read_json(job.run_dir / SUPERVISOR_FILE)
            if isinstance(info, dict):
                keys = ("supervisor_pid", "supervisor_create_time", "child_pid", "child_pgid")
                return {key: info.get(key) for key in keys}
            if (job.run_dir / EXIT_FILE).exists():
                return {}
            if not (job.run_dir / LAUNCH_FILE).exists() or time.monotonic() >= deadline:
                return None
            time.sleep(_POLL_INTERVAL_S)

    # -- helpers -------------------------------------------------------------

    def _write_launch(self, job: Job) -> None:
        """launch.json: the supervisor's instructions. Private: it holds the env."""
        path = job.run_dir / LAUNCH_FILE
        launch = {
            "argv": list(job.argv),
            "env": local_run_environment(job),
            "cwd": str(job.work_dir),
            "resources": job.spec.resources.model_dump(),
            "grace_s": self.settings.cancel_grace_s,
        }
        write_json_atomic(path, launch)
        os.chmod(path, 0o600)

    def _spawn_supervisor(self, run_dir: Path) -> subprocess.Popen[bytes]:
        """Start the supervisor in a session of its own, detached from the daemon."""
        argv = [sys.executable, "-m", SUPERVISOR_MODULE, str(run_dir)]
        try:
            with open(run_dir / SUPERVISOR_LOG, "ab") as log:
                return subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=supervisor_environment(),
                    cwd=run_dir,
                    start_new_session=True,
                )
        except OSError as exc:
            raise ExecutorError(f"could not start the run supervisor: {exc}") from exc

    def _wait_for_start(self, job: Job, popen: subprocess.Popen[bytes]) -> None:
        """Wait until the supervisor has started the run (or recorded why it could not)."""
        deadline = time.monotonic() + self.settings.start_timeout_s
        while time.monotonic() < deadline:
            if (job.run_dir / SUPERVISOR_FILE).exists() or (job.run_dir / EXIT_FILE).exists():
                return
            code = popen.poll()
            if code is not None:
                if (job.run_dir / EXIT_FILE).exists():
                    return
                with self._lock:
                    self._supervisors.pop(job.run_id, None)
                tail = _log_tail(job.run_dir / SUPERVISOR_LOG) or "(supervisor.log is empty)"
                raise ExecutorError(f"the run supervisor exited at once (code {code}): {tail}")
            time.sleep(_POLL_INTERVAL_S)
        logger.warning(
            "run %s: the supervisor (pid %s) has not reported after %s s; polling will tell",
            job.run_id,
            popen.pid,
            self.settings.start_timeout_s,
        )

    def _supervisor_alive(self, job: Job, handle: Handle) -> bool:
        """Whether the handle's supervisor still runs (same process, not a zombie)."""
        pid = _int_or_none(handle.get("supervisor_pid"))
        if pid is None:
            return False
        with self._lock:
            popen = self._supervisors.get(job.run_id)
        if popen is not None and popen.pid == pid and popen.poll() is not None:
            return False
        create_time = handle.get("supervisor_create_time")
        return is_alive(pid, float(create_time) if create_time is not None else None)

    def _kill_leftovers(self, job: Job, handle: Handle) -> None:
        """SIGKILL what is left of a run whose supervisor is gone (grandchildren).

        The group number comes from an old record (perhaps from before a
        reboot), so it is only signalled while it can still be the run's group.
        """
        info = read_json(job.run_dir / SUPERVISOR_FILE)
        info = info if isinstance(info, dict) else {}
        pgid = _int_or_none(handle.get("child_pgid")) or _int_or_none(info.get("child_pgid"))
        leader_time = info.get("child_create_time")
        leader_time = float(leader_time) if isinstance(leader_time, int | float) else None
        if pgid is not None and group_is_ours(pgid, leader_time):
            kill_group(pgid, signal.SIGKILL)
        self._reap(job, wait_s=0.0)

    def _force_cancel(self, job: Job, handle: Handle) -> None:
        """The supervisor did not stop the run in time: kill it all, record the cancel."""
        pid = int(handle["supervisor_pid"])
        create_time = handle.get("supervisor_create_time")
        if is_alive(pid, float(create_time) if create_time is not None else None):
            logger.warning("run %s: supervisor %s ignored the cancel; killing it", job.run_id, pid)
            kill_pid(pid, signal.SIGKILL)
        self._kill_leftovers(job, handle)
        if read_exit(job) is None:
            record = ExitInfo(
                reason="cancelled",
                message="cancelled (its supervisor did not stop it in time; killed)",
                ended_at=time.time(),
            )
            write_json_atomic(job.run_dir / EXIT_FILE, record.to_json())

    def _reap(self, job: Job, wait_s: float) -> None:
        """Collect our supervisor's exit status (so it leaves no zombie) and forget it."""
        with self._lock:
            popen = self._supervisors.get(job.run_id)
        if popen is None:
            return
        if wait_s <= 0:
            popen.poll()
        else:
            try:
                popen.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                return
        if popen.returncode is not None:
            with self._lock:
                if self._supervisors.get(job.run_id) is popen:
                    del self._supervisors[job.run_id]
