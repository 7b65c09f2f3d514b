"""The run supervisor: ``python -m mlops_daemon.executors.supervisor RUN_DIR``.

One supervisor process watches one run. It exists so that a run outlives the
daemon that started it and still ends with an exact record of how it ended:
the daemon may restart, but the supervisor stays, enforces the limits and
writes ``exit.json`` once, atomically. The daemon only reads files.

It reads ``launch.json`` (written by the local executor), starts the run's
command in its own session and process group with stdout and stderr going to
``output.log``, writes ``supervisor.json`` (the pids), then watches the run:
wall-clock timeout, resident memory of the whole process tree, and cancel
requests (SIGTERM to the supervisor). ``output.log`` holds only the run's own
output; the supervisor's diagnostics go to its stderr (``supervisor.log``).

It starts in every run, so it imports only the standard library (and psutil
late, off the path to the run's start).
Linux only (prctl, sched_setaffinity).
"""

from __future__ import annotations

import math
import os
import re
import resource
import select
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, NamedTuple

from mlops_daemon.process import (
    become_subreaper,
    descendants,
    group_exists,
    kill_group,
    limits_preexec,
    process_create_time,
    signal_name,
    tree_rss_bytes,
)
from mlops_kernel.runfiles import EXIT_FILE, LOG_FILE, SUPERVISOR_FILE, read_json, write_json_atomic

LAUNCH_FILE = "launch.json"
"""What to run and under which limits (written by the executor, read here)."""
CANCEL_FILE = "cancel.json"
"""Written by the executor just before it sends SIGTERM: ``{"grace_s": N}``."""

TICK_S = 0.05
"""How often the supervisor reaps, and checks for a cancel or the timeout."""
MEMORY_SAMPLE_S = 0.1
"""How often it sums the tree's resident memory (a scan of /proc, so not every tick)."""
TIMEOUT_GRACE_S = 2.0
DEFAULT_CANCEL_GRACE_S = 5.0
LOG_TAIL_BYTES = 64 * 1024
MIB = 1024 * 1024

# What an allocation failure looks like in a run's output. A GPU running out of
# memory is not the host memory limit, so "CUDA out of memory" does not count.
_OOM_PATTERN = re.compile(
    r"MemoryError|Cannot allocate memory|std::bad_alloc|(?<!CUDA )out of memory"
)


class Launch(NamedTuple):
    """The content of ``launch.json``."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    cpus: float | None
    memory_mb: int | None
    timeout_s: float | None
    grace_s: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Launch:
        res = data.get("resources") or {}
        return cls(
            argv=[str(a) for a in data["argv"]],
            env={str(k): str(v) for k, v in data["env"].items()},
            cwd=str(data["cwd"]),
            cpus=res.get("cpus"),
            memory_mb=res.get("memory_mb"),
            timeout_s=res.get("timeout_s"),
            grace_s=float(data.get("grace_s", DEFAULT_CANCEL_GRACE_S)),
        )

    @property
    def cpu_time_limit_s(self) -> int | None:
        """The RLIMIT_CPU backstop: all allowed cores busy for the whole timeout."""
        if self.cpus is None or self.timeout_s is None:
            return None
        return math.ceil(self.timeout_s * math.ceil(self.cpus)) + 1


def log(message: str) -> None:
    """One diagnostic line on stderr, which the executor points at supervisor.log."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} [supervisor {os.getpid()}] {message}", file=sys.stderr, flush=True)


def open_pidfd(pid: int) -> int | None:
    """A file descriptor that becomes readable when ``pid`` exits (Linux 5.3+), or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def format_seconds(seconds: float) -> str:
    """Seconds for a human: "5", "1.5", "90"."""
    return f"{round(seconds, 1):g}"


def make_preexec(launch: Launch) -> Callable[[], None]:
    """The function the run's process calls between fork and exec: its limits."""
    return limits_preexec(
        os.getpid(),
        address_space_bytes=launch.memory_mb * MIB if launch.memory_mb is not None else None,
        cpu_seconds=launch.cpu_time_limit_s,
        cpu_count=math.ceil(launch.cpus) if launch.cpus is not None else None,
    )


class Supervisor:
    """Starts one run's process and watches it until it ends."""

    def __init__(self, run_dir: Path, launch: Launch) -> None:
        self.run_dir = run_dir
        self.launch = launch
        self.cancel_signalled = False
        self.stop_reason: str | None = None
        self.stopped_after_s = 0.0
        self.kill_at: float | None = None
        self.peak_rss = 0
        self.next_memory_sample = 0.0
        self.started = 0.0
        self.child_pid = 0
        self.child_status: int | None = None
        self.child_rusage: resource.struct_rusage | None = None

    # -- signals -----------------------------------------------------------

    def on_cancel_signal(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM/SIGINT to the supervisor means "cancel the run"."""
        self.cancel_signalled = True

    def cancel_grace_s(self) -> float:
        """The grace the executor asked for with this cancel, else the launch's."""
        data = read_json(self.run_dir / CANCEL_FILE)
        if isinstance(data, dict) and isinstance(data.get("grace_s"), int | float):
            return max(0.0, float(data["grace_s"]))
        return self.launch.grace_s

    # -- start ---------------------------------------------------------------

    def spawn(self) -> bool:
        """Start the run's command; on failure write the start_failed record."""
        log_path = self.run_dir / LOG_FILE
        try:
            with open(log_path, "ab") as out:
                child = subprocess.Popen(
                    self.launch.argv,
                    env=self.launch.env,
                    cwd=self.launch.cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=make_preexec(self.launch),
                )
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            log(f"could not start the run: {exc!r}")
            self.write_exit("start_failed", start_failure_message(self.launch, exc))
            return False
        # We reap the child ourselves (os.wait4); Popen must not try as well.
        child.returncode = 0
        self.child_pid = child.pid
        self.started = time.monotonic()
        write_json_atomic(
            self.run_dir / SUPERVISOR_FILE,
            {
                "supervisor_pid": os.getpid(),
                "supervisor_create_time": process_create_time(os.getpid()),
                "child_pid": child.pid,
                "child_pgid": child.pid,
                "child_create_time": process_create_time(child.pid),
                "started_at": time.time(),
            },
        )
        log(f"started {self.launch.argv!r} as pid {child.pid} (its own process group)")
        return True

    # -- watch ---------------------------------------------------------------

    def reap(self) -> None:
        """Collect every exited child: the run's process and any adopted orphan."""
        while True:
            try:
                pid, status, rusage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.child_pid:
                self.child_status, self.child_rusage = status, rusage

    def stop(self, reason: str, grace_s: float) -> None:
        """Begin stopping the run: SIGTERM now, SIGKILL after ``grace_s``.

        The first reason wins (a run cancelled during its timeout grace was
        timed out), but a later, harsher request may shorten the grace.
        """
        now = time.monotonic()
        if self.stop_reason is None:
            self.stop_reason = reason
            self.stopped_after_s = now - self.started
            log(f"stopping the run ({reason}), grace {format_seconds(grace_s)} s")
            if grace_s > 0:
                kill_group(self.child_pid, signal.SIGTERM)
        deadline = now + grace_s
        if self.kill_at is None or deadline < self.kill_at:
            self.kill_at = deadline

    def kill_everything(self) -> None:
        """SIGKILL the run's process group and every process below the supervisor."""
        import psutil  # only now: it costs the run's start-up time otherwise

        kill_group(self.child_pid, signal.SIGKILL)
        for proc in descendants(os.getpid()):
            try:
                proc.kill()
            except psutil.Error:
                continue

    def check_limits(self) -> None:
        """One look at the run: cancel request, timeout, memory."""
        now = time.monotonic()
        if self.cancel_signalled and self.stop_reason != "cancelled":
            self.cancel_signalled = False
            self.stop("cancelled", self.cancel_grace_s())
        timeout = self.launch.timeout_s
        if timeout is not None and now - self.started >= timeout:
            self.stop("timeout", TIMEOUT_GRACE_S)
        if now >= self.next_memory_sample:
            self.next_memory_sample = now + MEMORY_SAMPLE_S
            self.check_memory()
        now = time.monotonic()
        if self.kill_at is not None and now >= self.kill_at:
            self.kill_everything()
            self.kill_at = now + 0.5  # again, in case something forked meanwhile

    def check_memory(self) -> None:
        """Track the peak and enforce the limit on the whole tree's resident memory."""
        rss = tree_rss_bytes(descendants(os.getpid()))
        self.peak_rss = max(self.peak_rss, rss)
        limit = self.launch.memory_mb
        if limit is not None and rss > limit * MIB:
            self.stop("memory", 0.0)

    def watch(self) -> None:
        """Tick until the run's process has exited.

        Between ticks it waits on a pidfd of the run's process where the kernel
        offers one, so the exit is seen the moment it happens, not a tick later.
        """
        pidfd = open_pidfd(self.child_pid)
        try:
            while True:
                self.reap()
                if self.child_status is not None:
                    return
                self.check_limits()
                if pidfd is None:
                    time.sleep(TICK_S)
                else:
                    select.select([pidfd], [], [], TICK_S)
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def clean_up(self) -> None:
        """Kill what the run left behind (grandchildren) and reap it, briefly."""
        deadline = time.monotonic() + 2.0
        while True:
            self.kill_everything()
            self.reap()
            if not group_exists(self.child_pid) and not descendants(os.getpid()):
                return
            if time.monotonic() > deadline:
                log("some processes of the run did not go away after SIGKILL")
                return
            time.sleep(0.02)

    # -- finish --------------------------------------------------------------

    def classify(self) -> tuple[str, str]:
        """(reason, message) for how the run ended."""
        assert self.child_status is not None
        status = self.child_status
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        limit = self.launch.memory_mb
        if self.stop_reason == "cancelled":
            return "cancelled", "cancelled"
        if self.stop_reason == "timeout":
            elapsed = format_seconds(self.stopped_after_s)
            limit_s = format_seconds(self.launch.timeout_s or 0.0)
            return "timeout", f"timed out after {elapsed} s (limit {limit_s} s)"
        if self.stop_reason == "memory":
            return "memory", f"exceeded its memory limit of {limit} MiB"
        if self.hit_cpu_limit(sig):
            return "cpu_time", (
                f"used up its CPU-time limit ({self.launch.cpu_time_limit_s} CPU-seconds)"
            )
        if limit is not None and (sig is not None or code != 0) and self.log_shows_oom():
            return "memory", f"exceeded its memory limit of {limit} MiB (an allocation failed)"
        if sig is not None:
            return "exited", f"killed by signal {sig} ({signal_name(sig)})"
        return "exited", f"exited with code {code}"

    def hit_cpu_limit(self, sig: int | None) -> bool:
        """Killed by SIGXCPU, or by SIGKILL at the hard limit after ignoring it."""
        if sig == signal.SIGXCPU:
            return True
        limit = self.launch.cpu_time_limit_s
        if sig != signal.SIGKILL or limit is None or self.child_rusage is None:
            return False
        used = float(self.child_rusage.ru_utime + self.child_rusage.ru_stime)
        return used >= limit

    def log_shows_oom(self) -> bool:
        """Whether the end of output.log shows an allocation failure."""
        try:
            with open(self.run_dir / LOG_FILE, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - LOG_TAIL_BYTES))
                tail = fh.read().decode("utf-8", errors="replace")
        except OSError:
            return False
        return _OOM_PATTERN.search(tail) is not None

    def peak_rss_mb(self) -> float:
        """The peak resident memory seen, in MiB (sampled, or the kernel's max)."""
        peak = self.peak_rss
        if self.child_rusage is not None:
            peak = max(peak, int(self.child_rusage.ru_maxrss) * 1024)  # ru_maxrss is KiB
        return round(peak / MIB, 1)

    def write_exit(self, reason: str, message: str, status: int | None = None) -> None:
        """Write exit.json (ExitInfo's fields), once, atomically."""
        record: dict[str, Any] = {
            "reason": reason,
            "message": message,
            "returncode": None,
            "signal": None,
            "ended_at": time.time(),
            "peak_rss_mb": None,
        }
        if status is not None:
            record["returncode"] = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
            record["signal"] = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
            record["peak_rss_mb"] = self.peak_rss_mb()
        write_json_atomic(self.run_dir / EXIT_FILE, record)
        log(f"run ended: {reason}: {message}")

    def run(self) -> int:
        """Supervise the run from start to exit record."""
        if not self.spawn():
            return 0
        try:
            self.watch()
        except BaseException:
            # Nobody would enforce the limits any more: take the run down with us.
            log("supervisor failed:\n" + traceback.format_exc())
            self.kill_everything()
            raise
        self.clean_up()
        self.write_exit(*self.classify(), status=self.child_status)
        return 0


def start_failure_message(launch: Launch, exc: BaseException) -> str:
    """Why the command could not be started, for a human."""
    program = launch.argv[0] if launch.argv else "(empty command)"
    if isinstance(exc, OSError) and exc.strerror:
        return f"could not start {program!r}: {exc.strerror}"
    return f"could not start {program!r}: {exc}"


def main(argv: list[str]) -> int:
    """Entry point: ``supervisor RUN_DIR``."""
    if len(argv) != 2:
        print("usage: python -m mlops_daemon.executors.supervisor RUN_DIR", file=sys.stderr)
        return 2
    run_dir = Path(argv[1])
    data = read_json(run_dir / LAUNCH_FILE)
    if not isinstance(data, dict):
        log(f"no readable {LAUNCH_FILE} in {run_dir}")
        return 2
    supervisor = Supervisor(run_dir, Launch.from_json(data))
    signal.signal(signal.SIGTERM, supervisor.on_cancel_signal)
    signal.signal(signal.SIGINT, supervisor.on_cancel_signal)
    # Orphaned grandchildren are re-parented to us, so we can see and reap them.
    become_subreaper()
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
