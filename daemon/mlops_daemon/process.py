"""Small, careful helpers around OS processes.

A pid alone does not name a process for long: once it exits, the kernel may
hand the same number to an unrelated process. Everything here that decides
"is that still *our* process?" therefore pairs the pid with the process's start
time, as psutil reports it. The run supervisor imports this module at every
run's start, so psutil (a noticeable share of that start) is imported only by
the functions that need it, when they first run.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

CREATE_TIME_TOLERANCE_S = 1.0
"""How far two readings of one process's start time may differ.

psutil derives the start time from the boot time in ``/proc/stat``, which
the kernel may nudge when the wall clock is adjusted; a second of slack
absorbs that, while a reused pid almost always starts much later.
"""


def process_create_time(pid: int) -> float | None:
    """The start time (seconds since the epoch) of ``pid``, or None if there is none."""
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def is_alive(pid: int, create_time: float | None) -> bool:
    """Whether ``pid`` is still the same, still running process.

    False for a zombie (it has exited, only its exit status is left) and for a
    pid that now belongs to a process started at another time. Without a
    recorded ``create_time`` only the pid and the zombie check are used.
    """
    import psutil

    try:
        proc = psutil.Process(pid)
        if create_time is not None and (
            abs(proc.create_time() - create_time) > CREATE_TIME_TOLERANCE_S
        ):
            return False
        return proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def kill_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to every process of group ``pgid``; True if it was delivered.

    A group that is already gone, or that we may not signal, is not an error:
    callers use this to clean up and cannot do better either way.
    """
    if pgid <= 1:
        # 0 and 1 would mean our own group or init's: never what a caller wants.
        return False
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def kill_pid(pid: int, sig: int) -> bool:
    """Send ``sig`` to one process; True if it was delivered (gone is not an error)."""
    if pid <= 1:
        return False
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def group_exists(pgid: int) -> bool:
    """Whether any process is still in group ``pgid`` (zombies count)."""
    if pgid <= 1:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def group_is_ours(pgid: int, leader_create_time: float | None) -> bool:
    """Whether group ``pgid`` can still be the group whose leader started then.

    While any process of a group lives, Linux does not hand its number out as a
    new pid, so a group whose leader is gone is still the original one. A live
    process with that pid, though, must be the original leader (same start
    time); otherwise the number now belongs to someone else. Without a recorded
    start time a live leader cannot be checked, and the answer is no.
    """
    create_time = process_create_time(pgid)
    if create_time is None:
        return True
    if leader_create_time is None:
        return False
    return abs(create_time - leader_create_time) <= CREATE_TIME_TOLERANCE_S


def descendants(pid: int) -> list[psutil.Process]:
    """All living descendants of ``pid`` (children, grandchildren, ...)."""
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def tree_rss_bytes(procs: list[psutil.Process]) -> int:
    """The summed resident memory of ``procs``, skipping those that just exited."""
    import psutil

    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def signal_name(sig: int) -> str:
    """A signal's conventional name ("SIGKILL"), or "signal N" for an unknown one."""
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl() -> Callable[..., int]:
    """libc's prctl (Linux). Load it before forking: loading in a child is unsafe."""
    return ctypes.CDLL(None, use_errno=True).prctl


def become_subreaper() -> None:
    """Adopt our orphaned descendants, so that they stay visible and reapable."""
    _prctl()(_PR_SET_CHILD_SUBREAPER, ctypes.c_ulong(1), 0, 0, 0)


def _capped(limit: int, resource_id: int) -> int:
    """``limit``, lowered to the hard limit we already have (it cannot be raised)."""
    _, hard = resource.getrlimit(resource_id)
    return limit if hard == resource.RLIM_INFINITY else min(limit, hard)


def _first_cpus(count: int) -> set[int]:
    """The first ``count`` CPUs we may use (at least one, at most all of them)."""
    allowed = sorted(os.sched_getaffinity(0))
    return set(allowed[: max(1, min(count, len(allowed)))])


def limits_preexec(
    parent_pid: int,
    *,
    address_space_bytes: int | None = None,
    cpu_seconds: int | None = None,
    cpu_count: int | None = None,
) -> Callable[[], None]:
    """A ``preexec_fn`` that ties a child to ``parent_pid`` and applies limits.

    The child gets SIGKILL when its parent dies (so a killed supervisor leaves
    no unwatched run), an address-space limit (soft = hard, so it cannot be
    raised again), a CPU-time limit whose hard value is a little above the soft
    one (the kernel then sends SIGXCPU first, a recognisable cause, and SIGKILL
    only if that is ignored), and a CPU affinity. Everything is computed here,
    in the parent; the child only makes system calls.
    """
    prctl = _prctl()
    as_limit: tuple[int, int] | None = None
    if address_space_bytes is not None:
        limit = _capped(address_space_bytes, resource.RLIMIT_AS)
        as_limit = (limit, limit)
    cpu_limit: tuple[int, int] | None = None
    if cpu_seconds is not None:
        soft = _capped(cpu_seconds, resource.RLIMIT_CPU)
        cpu_limit = (soft, _capped(soft + 5, resource.RLIMIT_CPU))
    cpu_set = _first_cpus(cpu_count) if cpu_count is not None else None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent_pid:
            # The parent died before prctl took effect: nobody would watch us.
            os.kill(os.getpid(), signal.SIGKILL)
        if as_limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, as_limit)
        if cpu_limit is not None:
            resource.setrlimit(resource.RLIMIT_CPU, cpu_limit)
        if cpu_set is not None:
            os.sched_setaffinity(0, cpu_set)

    return preexec
