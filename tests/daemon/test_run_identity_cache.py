"""The identity cache with the local executor, through a real daemon: an identical
submission is answered by the run that succeeded, and a run whose code changed while it
was queued carries the identity of the code that really ran."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support.daemon import running_daemon
from support.runs import full_log, wait_for

pytestmark = pytest.mark.slow


def test_identity_follows_the_code_that_ran(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "blocker.py").write_text(
        textwrap.dedent(
            """
            import os, time
            print("blocking", flush=True)
            while not os.path.exists(os.path.join(os.path.dirname(__file__), "go")):
                time.sleep(0.05)
            """
        )
    )
    (project / "helper.py").write_text("VALUE = 1\n")
    (project / "train.py").write_text(
        "from helper import VALUE\n"
        "from mlops_kernel import log_metric\n"
        "log_metric('value', VALUE)\n"
    )
    with running_daemon(tmp_path / "home", concurrency=1) as daemon:
        blocker = daemon.submit(project, "blocker.py", executor="local")
        wait_for(
            "the blocker to run", lambda: "blocking" in full_log(daemon, blocker["id"]), daemon
        )
        queued = daemon.submit(project, "train.py", executor="local")
        assert queued["status"] == "queued" and queued["identity"]

        # The imported helper changes while the run waits in the queue.
        (project / "helper.py").write_text("VALUE = 2\n")
        (project / "go").write_text("")
        done = daemon.wait(queued["id"])
        assert done["status"] == "succeeded" and done["metrics"] == {"value": 2.0}
        assert done["identity"] != queued["identity"]

        # The same code again: the cache answers with that run, at once.
        again = daemon.submit(project, "train.py", executor="local")
        assert again["id"] == done["id"] and again["status"] == "succeeded"
        # Forced: a new run with the same identity.
        forced = daemon.wait(daemon.submit(project, "train.py", executor="local", force=True)["id"])
        assert forced["id"] != done["id"] and forced["identity"] == done["identity"]
        # Another change of the helper is another identity: no cache hit. It keeps the
        # file's size and may land in the same second as the last write, when Python would
        # trust the old bytecode: the daemon drops the project's bytecode before a run.
        (project / "helper.py").write_text("VALUE = 3\n")
        changed = daemon.submit(project, "train.py", executor="local")
        assert changed["id"] != done["id"] and changed["status"] == "queued"
        assert daemon.wait(changed["id"])["metrics"] == {"value": 3.0}
