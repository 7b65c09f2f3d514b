"""The local executor and its supervisor, with real processes (no mocks).

Every wait is a bounded poll that fails with a clear message; no test asserts
how fast anything happens.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mlops_daemon.executors.base import ExecutorError, ExitInfo, Handle, Job, JobState
from mlops_daemon.executors.local import (
    LocalExecutor,
    LocalExecutorSettings,
    daemon_import_paths,
    local_run_environment,
    supervisor_environment,
    with_limits_environment,
)
from mlops_daemon.process import is_alive, kill_group, kill_pid
from mlops_kernel.runfiles import EXIT_FILE, LOG_FILE, SUPERVISOR_FILE, read_json
from mlops_kernel.schemas import Resources, RunSpec

WAIT_S = 30.0

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the supervisor is Linux-only")


def wait_for(what: str, condition: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    """Poll ``condition`` until it holds; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {timeout_s} s")


def make_job(
    tmp_path: Path,
    argv: list[str],
    env: dict[str, str] | None = None,
    resources: Resources | None = None,
) -> Job:
    run_dir = tmp_path / "run"
    spec = RunSpec(
        project=str(tmp_path), entry_point="train.py", resources=resources or Resources()
    )
    if env is None:
        env = {"PATH": os.environ["PATH"], "MLOPS_RUN_DIR": str(run_dir)}
    return Job(run_id="run-1", run_dir=run_dir, spec=spec, argv=argv, env=env)


def python_job(tmp_path: Path, code: str, resources: Resources | None = None) -> Job:
    script = tmp_path / "train.py"
    script.write_text(code)
    return make_job(tmp_path, [sys.executable, str(script)], resources=resources)


class Runner:
    """Starts jobs and, whatever happens in the test, kills them at teardown."""

    def __init__(self) -> None:
        self.executor = LocalExecutor(LocalExecutorSettings(cancel_grace_s=1.0))
        self.started: list[Handle] = []

    def start(self, job: Job) -> Handle:
        self.executor.prepare(job)
        handle = self.executor.start(job)
        self.started.append(handle)
        return handle

    def wait_exit(
        self, job: Job, handle: Handle, executor: LocalExecutor | None = None
    ) -> ExitInfo:
        executor = executor or self.executor
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            poll = executor.poll(job, handle)
            if poll.state is JobState.EXITED:
                assert poll.exit is not None
                return executor.collect(job, handle)
            assert poll.state is JobState.RUNNING, poll.detail
            time.sleep(0.05)
        pytest.fail(f"the job did not exit within {WAIT_S} s")

    def run(self, job: Job) -> ExitInfo:
        return self.wait_exit(job, self.start(job))

    def kill_all(self) -> None:
        for handle in self.started:
            if handle.get("child_pgid"):
                kill_group(handle["child_pgid"], signal.SIGKILL)
            if is_alive(handle["supervisor_pid"], handle["supervisor_create_time"]):
                kill_pid(handle["supervisor_pid"], signal.SIGKILL)


@pytest.fixture
def runner() -> Iterator[Runner]:
    r = Runner()
    yield r
    r.kill_all()


def output(job: Job) -> str:
    return (job.run_dir / LOG_FILE).read_text()


def test_success_writes_output_and_runs_in_the_work_dir(tmp_path: Path, runner: Runner) -> None:
    job = python_job(
        tmp_path,
        "import os, sys\nprint('hello')\nprint('err', file=sys.stderr)\n"
        "print('cwd=' + os.getcwd())\n",
    )
    handle = runner.start(job)
    assert set(handle) == {"supervisor_pid", "supervisor_create_time", "child_pid", "child_pgid"}
    info = runner.wait_exit(job, handle)
    assert info.succeeded, info
    assert info.message == "exited with code 0"
    assert info.ended_at is not None and info.peak_rss_mb is not None
    text = output(job)
    assert "hello\n" in text and "err\n" in text
    assert f"cwd={job.work_dir}" in text
    assert (job.run_dir / "artifacts").is_dir()
    sup = read_json(job.run_dir / SUPERVISOR_FILE)
    assert isinstance(sup, dict)
    assert sup["child_pid"] == handle["child_pid"] == sup["child_pgid"]


def test_non_zero_exit(tmp_path: Path, runner: Runner) -> None:
    info = runner.run(python_job(tmp_path, "import sys\nsys.exit(3)\n"))
    assert (info.reason, info.returncode, info.message) == ("exited", 3, "exited with code 3")
    assert not info.succeeded


def test_killed_by_a_signal(tmp_path: Path, runner: Runner) -> None:
    info = runner.run(python_job(tmp_path, "import os, signal\nos.kill(os.getpid(), 9)\n"))
    assert (info.reason, info.signal, info.returncode) == ("exited", 9, None)
    assert info.message == "killed by signal 9 (SIGKILL)"


def test_sigxcpu_means_cpu_time(tmp_path: Path, runner: Runner) -> None:
    code = "import os, signal\nos.kill(os.getpid(), signal.SIGXCPU)\n"
    info = runner.run(python_job(tmp_path, code))
    assert info.reason == "cpu_time"


def test_environment_is_exactly_the_jobs(
    tmp_path: Path, runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_TEST_LEAK", "must not be seen")
    env_program = shutil.which("env")
    assert env_program is not None
    job = make_job(tmp_path, [env_program])
    info = runner.run(job)
    assert info.succeeded, info
    seen = dict(line.split("=", 1) for line in output(job).splitlines())
    imports = (
        {"PYTHONPATH": os.pathsep.join(daemon_import_paths())} if daemon_import_paths() else {}
    )
    assert seen == {**job.env, "PYTHONUNBUFFERED": "1", "CUDA_VISIBLE_DEVICES": "", **imports}


def test_a_local_run_imports_what_the_daemon_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon run from a source checkout (``PYTHONPATH=src``, relative even) gives its
    runs the same import paths, after the project's: the run uses the daemon's Python."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", f"src{os.pathsep}/opt/site")
    job = make_job(tmp_path, ["x"], {"PYTHONPATH": "/the/project"})
    paths = local_run_environment(job)["PYTHONPATH"].split(os.pathsep)
    assert paths[:3] == ["/the/project", str(tmp_path / "src"), "/opt/site"]
    assert paths[3:] == [p for p in daemon_import_paths() if p not in paths[:3]]
    assert supervisor_environment()["PYTHONPATH"].split(os.pathsep) == paths[1:]


def test_run_environment_additions(tmp_path: Path) -> None:
    limits = Resources(cpus=1.5, gpus=2)
    env = with_limits_environment(make_job(tmp_path, ["x"], {"OMP_NUM_THREADS": "7"}, limits))
    assert env["OMP_NUM_THREADS"] == "7"
    assert env["MKL_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == "2"
    assert env["CUDA_VISIBLE_DEVICES"] == "0,1"
    mine = with_limits_environment(make_job(tmp_path, ["x"], env={"CUDA_VISIBLE_DEVICES": "3"}))
    assert mine["CUDA_VISIBLE_DEVICES"] == "3"
    assert "OMP_NUM_THREADS" not in mine


def test_gpus_zero_hides_all_gpus(tmp_path: Path, runner: Runner) -> None:
    job = python_job(tmp_path, "import os\nprint(repr(os.environ['CUDA_VISIBLE_DEVICES']))\n")
    assert runner.run(job).succeeded
    assert output(job).strip() == "''"


def test_cpus_sets_affinity_and_thread_counts(tmp_path: Path, runner: Runner) -> None:
    code = "import os\nprint(len(os.sched_getaffinity(0)), os.environ['OMP_NUM_THREADS'])\n"
    job = python_job(tmp_path, code, Resources(cpus=1))
    assert runner.run(job).succeeded
    assert output(job).strip() == "1 1"


def test_timeout(tmp_path: Path, runner: Runner) -> None:
    job = python_job(tmp_path, "import time\ntime.sleep(60)\n", Resources(timeout_s=1))
    info = runner.run(job)
    assert info.reason == "timeout", info
    assert info.message.startswith("timed out after") and "(limit 1 s)" in info.message


def test_memory_limit_stops_a_big_allocation(tmp_path: Path, runner: Runner) -> None:
    code = "import time\nblock = bytearray(1024 ** 3)\ntime.sleep(60)\n"
    info = runner.run(python_job(tmp_path, code, Resources(memory_mb=200)))
    assert info.reason == "memory", info
    assert "200 MiB" in info.message


def test_memory_limit_counts_the_whole_process_tree(tmp_path: Path, runner: Runner) -> None:
    # Each process stays under the limit; together they do not.
    code = (
        "import subprocess, sys, time\n"
        "hold = 'b = b\"x\" * (120 * 2**20); import time; time.sleep(60)'\n"
        "helper = subprocess.Popen([sys.executable, '-c', hold])\n"
        "exec(hold)\n"
    )
    info = runner.run(python_job(tmp_path, code, Resources(memory_mb=200)))
    assert info.reason == "memory", info
    assert info.message == "exceeded its memory limit of 200 MiB"
    assert info.peak_rss_mb is not None and info.peak_rss_mb > 200


GRANDCHILD_SCRIPT = """
import os, signal, subprocess, sys, time
{prelude}
sleeper = subprocess.Popen(["sleep", "300"])
with open("pids.tmp", "w") as fh:
    fh.write(f"{{os.getpid()}} {{sleeper.pid}}")
os.rename("pids.tmp", "pids")
time.sleep(300)
"""


def start_with_grandchild(tmp_path: Path, runner: Runner, prelude: str = "") -> tuple[Job, Handle]:
    job = python_job(tmp_path, GRANDCHILD_SCRIPT.format(prelude=prelude))
    handle = runner.start(job)
    pids_file = job.work_dir / "pids"
    wait_for("the job writing its pids", pids_file.exists)
    return job, handle


def pids_of(job: Job) -> list[int]:
    return [int(p) for p in (job.work_dir / "pids").read_text().split()]


def assert_all_gone(pids: list[int]) -> None:
    wait_for(f"processes {pids} ending", lambda: not any(is_alive(p, None) for p in pids))


def test_cancel_stops_the_whole_group(tmp_path: Path, runner: Runner) -> None:
    job, handle = start_with_grandchild(tmp_path, runner)
    runner.executor.cancel(job, handle, grace_s=5)
    info = runner.wait_exit(job, handle)
    assert (info.reason, info.message) == ("cancelled", "cancelled")
    assert_all_gone(pids_of(job))


def test_cancel_kills_a_job_that_ignores_sigterm(tmp_path: Path, runner: Runner) -> None:
    prelude = "signal.signal(signal.SIGTERM, signal.SIG_IGN)"
    job, handle = start_with_grandchild(tmp_path, runner, prelude)
    runner.executor.cancel(job, handle, grace_s=0.5)
    info = runner.wait_exit(job, handle)
    assert info.reason == "cancelled"
    assert info.signal == signal.SIGKILL
    assert_all_gone(pids_of(job))


def test_cancel_of_an_ended_job_is_a_no_op(tmp_path: Path, runner: Runner) -> None:
    job = python_job(tmp_path, "print('done')\n")
    handle = runner.start(job)
    before = runner.wait_exit(job, handle)
    runner.executor.cancel(job, handle, grace_s=1)
    assert runner.executor.collect(job, handle) == before
    assert before.succeeded


def test_a_new_executor_can_poll_and_collect(tmp_path: Path, runner: Runner) -> None:
    code = "import os, time\nwhile not os.path.exists('go'):\n    time.sleep(0.05)\nprint('went')\n"
    job = python_job(tmp_path, code)
    handle = runner.start(job)
    restarted = LocalExecutor()
    assert restarted.poll(job, handle).state is JobState.RUNNING
    (job.work_dir / "go").touch()
    info = runner.wait_exit(job, handle, executor=restarted)
    assert info.succeeded, info
    assert runner.executor.collect(job, handle) == info


def test_sigkilled_supervisor_is_gone_and_takes_the_job_along(
    tmp_path: Path, runner: Runner
) -> None:
    job, handle = start_with_grandchild(tmp_path, runner)
    os.kill(handle["supervisor_pid"], signal.SIGKILL)
    for executor in (runner.executor, LocalExecutor()):

        def gone(executor: LocalExecutor = executor) -> bool:
            return executor.poll(job, handle).state is JobState.GONE

        wait_for("poll reporting GONE", gone)
    poll = runner.executor.poll(job, handle)
    assert f"pid {handle['supervisor_pid']}" in poll.detail
    # The child by PDEATHSIG; the grandchild by the GONE poll's clean-up.
    assert_all_gone(pids_of(job))
    assert not (job.run_dir / EXIT_FILE).exists()
    with pytest.raises(ExecutorError):
        runner.executor.collect(job, handle)


def test_start_failure_is_recorded(tmp_path: Path, runner: Runner) -> None:
    job = make_job(tmp_path, [str(tmp_path / "no-such-program")])
    info = runner.run(job)
    assert info.reason == "start_failed", info
    assert "no-such-program" in info.message and "No such file" in info.message


def test_supervisor_without_launch_file_exits_with_a_message(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_daemon.executors.supervisor", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert proc.returncode == 2
    assert "launch.json" in proc.stderr
