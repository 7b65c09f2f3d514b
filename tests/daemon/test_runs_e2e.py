"""Runs end to end: a real daemon process, real run processes, real HTTP.

Every test submits training code written into a temporary project, waits
(bounded) for the daemon to drive it, and checks what the API reports against
what the code did. Synchronisation with a running script goes through files
(the script waits for a file the test creates), never through sleeps; no test
asserts how fast anything happens.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from support.daemon import DaemonProcess
from support.runs import (
    WAIT_FOR_GO,
    WAIT_S,
    full_log,
    get,
    series,
    succeeded,
    wait_for,
    write,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="the local executor is Linux-only"),
]


# -- running code --------------------------------------------------------------


def test_script_run_gets_its_params_and_records_metrics(
    daemon: DaemonProcess, project: Path
) -> None:
    entry = write(
        project,
        "train.py",
        """
        from mlops_kernel import get_params, log_metric, log_param
        params = get_params()
        print("params:", sorted(params.items()))
        log_metric("lr_seen", params["lr"])
        for epoch in range(params["epochs"]):
            log_metric("loss", 1.0 / (epoch + 1))
        log_param("extra", "added-by-code")
        """,
    )
    run = daemon.submit(project, entry, params={"lr": 0.25, "epochs": 4, "tag": "x"})
    assert run["status"] == "queued"
    assert run["params"] == {"lr": 0.25, "epochs": 4, "tag": "x"}

    final = succeeded(daemon, run)
    assert final["exit_code"] == 0
    assert final["executor"] == "local"
    assert final["started_at"] is not None and final["ended_at"] is not None
    assert final["duration_s"] is not None and final["duration_s"] >= 0
    assert final["params"] == {"lr": 0.25, "epochs": 4, "tag": "x", "extra": "added-by-code"}
    assert final["metrics"] == {"lr_seen": 0.25, "loss": 0.25}
    assert "params: [('epochs', 4), ('lr', 0.25), ('tag', 'x')]" in full_log(daemon, run["id"])
    loss = series(daemon, run["id"])["loss"]
    assert loss["steps"] == [0, 1, 2, 3]
    assert loss["values"] == [1.0, 0.5, 1.0 / 3, 0.25]


def test_function_entry_point_gets_params_as_kwargs_and_returns_metrics(
    daemon: DaemonProcess, project: Path
) -> None:
    write(project, "trainer/__init__.py", "")
    write(
        project,
        "trainer/model.py",
        """
        def fit(lr: float, epochs: int = 1) -> dict[str, float]:
            print(f"fit lr={lr!r} epochs={epochs!r}")
            return {"final_loss": lr * epochs, "accuracy": 0.875}
        """,
    )
    # "unused" is not a parameter of fit: it is not passed, but still recorded.
    params = {"lr": 0.5, "epochs": 3, "unused": "kept"}
    run = daemon.submit(project, "trainer.model:fit", params=params)
    final = succeeded(daemon, run)
    assert final["metrics"] == {"final_loss": 1.5, "accuracy": 0.875}
    assert final["params"] == params
    assert "fit lr=0.5 epochs=3" in full_log(daemon, run["id"])
    got = series(daemon, run["id"])
    assert got["final_loss"]["values"] == [1.5]
    assert got["accuracy"]["values"] == [0.875]


def test_metrics_are_visible_while_the_run_is_running(daemon: DaemonProcess, project: Path) -> None:
    go = project / "go"
    entry = write(
        project,
        "live.py",
        WAIT_FOR_GO
        + f"""
from mlops_kernel import log_metric
log_metric("live", 1.5)
log_metric("live", 2.5)
wait_for_go({str(go)!r})
log_metric("live", 3.5)
""",
    )
    run = daemon.submit(project, entry)

    def two_points() -> dict[str, Any] | None:
        got = series(daemon, run["id"]).get("live")
        return got if got and len(got["steps"]) == 2 else None

    live = wait_for("the first two points to be ingested", two_points, daemon)
    assert live["steps"] == [0, 1] and live["values"] == [1.5, 2.5]
    running = get(daemon, f"/api/runs/{run['id']}")
    assert running["status"] == "running", "the points must show before the run ends"
    assert running["metrics"] == {"live": 2.5}

    go.touch()
    succeeded(daemon, run)
    live = series(daemon, run["id"])["live"]
    assert live["steps"] == [0, 1, 2] and live["values"] == [1.5, 2.5, 3.5]


def test_full_series_in_order_with_automatic_steps(daemon: DaemonProcess, project: Path) -> None:
    entry = write(
        project,
        "series.py",
        """
        from mlops_kernel import flush, log_metric, log_metrics
        for i in range(1500):
            log_metric("loss", i * 0.5)            # steps 0..1499, automatic
            if i % 400 == 0:
                flush()                            # several file appends, several batches
        log_metric("acc", 0.1, step=10)
        log_metric("acc", 0.2)                     # continues at 11
        log_metric("acc", 0.3, step=5)             # an earlier step, logged later
        log_metrics({"a": 1.0, "b": 2.0})          # each key counts from 0
        log_metrics({"a": 3.0, "b": 4.0})
        """,
    )
    run = daemon.submit(project, entry)
    final = succeeded(daemon, run)
    got = series(daemon, run["id"])
    assert sorted(got) == ["a", "acc", "b", "loss"]
    assert [s["key"] for s in get(daemon, f"/api/runs/{run['id']}/metrics")["series"]] == sorted(
        got
    ), "series come sorted by key"
    loss = got["loss"]
    assert loss["steps"] == list(range(1500))
    assert loss["values"] == [i * 0.5 for i in range(1500)]
    assert loss["times"] == sorted(loss["times"])
    # Ordered by step, whatever order the points were logged in.
    assert got["acc"]["steps"] == [5, 10, 11]
    assert got["acc"]["values"] == [0.3, 0.1, 0.2]
    assert got["a"]["steps"] == [0, 1] and got["a"]["values"] == [1.0, 3.0]
    assert got["b"]["steps"] == [0, 1] and got["b"]["values"] == [2.0, 4.0]
    # The latest value is the one at the highest step, not the last logged.
    assert final["metrics"] == {"a": 3.0, "acc": 0.2, "b": 4.0, "loss": 749.5}
    only = get(daemon, f"/api/runs/{run['id']}/metrics", key="acc")
    assert [s["key"] for s in only["series"]] == ["acc"]


# -- the run list ----------------------------------------------------------------


def test_list_filters_sorts_and_pages(daemon: DaemonProcess, tmp_path: Path) -> None:
    proj_a, proj_b = tmp_path / "proj-a", tmp_path / "proj-b"
    script = """
        import sys
        from mlops_kernel import get_params, log_metric
        p = get_params()
        if "score" in p:
            log_metric("score", p["score"])
        if p.get("fail"):
            sys.exit(1)
        """
    for proj in (proj_a, proj_b):
        proj.mkdir()
        write(proj, "train.py", script)
    # lr is numeric: 10 sorts after 2 (as text it would sort before).
    specs = [
        {"lr": 2, "score": 0.5},
        {"lr": 10, "score": 0.9},
        {"lr": 0.5, "score": 0.1},
        {"lr": 1},  # logs no score
        {"lr": 3, "score": 0.7, "fail": True},
    ]
    ids = [daemon.submit(proj_a, "train.py", params=p)["id"] for p in specs]
    other = daemon.submit(proj_b, "train.py", params={"lr": 100, "score": 5.0})["id"]
    for run_id in [*ids, other]:
        daemon.wait(run_id, timeout=WAIT_S)
    by_id = dict(zip(ids, specs, strict=True))

    def listing(**query: Any) -> dict[str, Any]:
        page: dict[str, Any] = get(daemon, "/api/runs", **query)
        return page

    everything = listing()
    assert everything["total"] == 6
    assert {r["id"] for r in everything["runs"]} == {*ids, other}

    # Filters: by project (path or id), by status, both.
    only_a = listing(project=str(proj_a), per_page=100)
    assert only_a["total"] == 5 and {r["id"] for r in only_a["runs"]} == set(ids)
    assert all(r["project"] == str(proj_a) for r in only_a["runs"])
    project_ids = {p["path"]: p["id"] for p in get(daemon, "/api/projects")["projects"]}
    assert [r["id"] for r in listing(project=str(project_ids[str(proj_b)]))["runs"]] == [other]
    failed = listing(status="failed")
    assert [r["id"] for r in failed["runs"]] == [ids[4]] and failed["total"] == 1
    ok_a = listing(status="succeeded", project=str(proj_a))
    assert ok_a["total"] == 4 and {r["id"] for r in ok_a["runs"]} == set(ids[:4])
    assert listing(status="succeeded,failed", project=str(proj_a))["total"] == 5
    assert listing(status="queued")["total"] == 0
    assert listing(project=str(tmp_path / "nowhere"))["total"] == 0

    # Pages: 2 + 2 + 1 of 5, each run exactly once, newest first by default.
    pages = [listing(project=str(proj_a), per_page=2, page=n) for n in (1, 2, 3, 4)]
    assert [len(p["runs"]) for p in pages] == [2, 2, 1, 0]
    assert all(p["total"] == 5 and p["per_page"] == 2 for p in pages)
    assert [p["page"] for p in pages] == [1, 2, 3, 4]
    paged = [r["id"] for p in pages for r in p["runs"]]
    assert paged == list(reversed(ids)), "default order: newest first, no run twice"

    # Sorting by a metric: the run without it comes last in both directions.
    asc = listing(project=str(proj_a), sort="metrics.score", order="asc")["runs"]
    assert [r["metrics"].get("score") for r in asc] == [0.1, 0.5, 0.7, 0.9, None]
    desc = listing(project=str(proj_a), sort="metrics.score", order="desc")["runs"]
    assert [r["metrics"].get("score") for r in desc] == [0.9, 0.7, 0.5, 0.1, None]
    assert all(by_id[r["id"]].get("score") == r["metrics"].get("score") for r in asc)
    # ...and paged in that order.
    second = listing(project=str(proj_a), sort="metrics.score", order="asc", per_page=3, page=2)
    assert [r["metrics"].get("score") for r in second["runs"]] == [0.9, None]

    # Sorting by a param compares numbers as numbers.
    by_lr = listing(project=str(proj_a), sort="params.lr", order="asc")["runs"]
    assert [r["params"]["lr"] for r in by_lr] == [0.5, 1, 2, 3, 10]
    by_lr = listing(project=str(proj_a), sort="params.lr", order="desc")["runs"]
    assert [r["params"]["lr"] for r in by_lr] == [10, 3, 2, 1, 0.5]


# -- logs ------------------------------------------------------------------------


def test_logs_page_by_offset(daemon: DaemonProcess, project: Path) -> None:
    entry = write(
        project,
        "chatty.py",
        """
        for i in range(300):
            print(f"line {i:03d} é")   # a two-byte character on every line
        """,
    )
    run = daemon.submit(project, entry)
    succeeded(daemon, run)
    expected = "".join(f"line {i:03d} é\n" for i in range(300))

    text, offset, chunks = "", 0, 0
    while True:
        chunk = get(daemon, f"/api/runs/{run['id']}/logs", offset=offset, max_bytes=101)
        assert chunk["offset"] == offset
        assert len(chunk["text"].encode()) <= 101
        assert "\ufffd" not in chunk["text"], "a chunk must not split a character"
        text += chunk["text"]
        chunks += 1
        if chunk["complete"]:
            break
        assert chunk["next_offset"] > offset, f"no progress at offset {offset}"
        offset = chunk["next_offset"]
        assert chunks < 1000
    assert text == expected
    assert chunks > 10
    assert chunk["next_offset"] == len(expected.encode())
    # From the middle, and past the end.
    middle = get(daemon, f"/api/runs/{run['id']}/logs", offset=len("line 000 é\n".encode()))
    assert middle["text"] == expected[len("line 000 é\n") :]
    past = get(daemon, f"/api/runs/{run['id']}/logs", offset=10**6)
    assert past["text"] == "" and past["complete"] is True


def test_logs_follow_streams_live_and_ends_with_the_status(
    daemon: DaemonProcess, project: Path
) -> None:
    go = project / "go"
    entry = write(
        project,
        "follow.py",
        WAIT_FOR_GO
        + f"""
print("waiting for the test", flush=True)
wait_for_go({str(go)!r})
print("released", flush=True)
""",
    )
    run = daemon.submit(project, entry)
    events: list[tuple[str, str]] = []
    seen = ""
    # The script ends by itself (failing) if the stream never shows "waiting",
    # so this loop is bounded even if streaming is broken.
    for event, data in daemon.api.events(f"/api/runs/{run['id']}/logs", {"follow": True}):
        events.append((event, data))
        if event == "log":
            chunk = json.loads(data)
            assert chunk["run_id"] == run["id"]
            seen += chunk["text"]
            if "waiting for the test" in seen and not go.exists():
                # Streamed while the run is still going: only now may it end.
                wait_for(
                    "the run to be recorded as running",
                    lambda: get(daemon, f"/api/runs/{run['id']}")["status"] == "running",
                    daemon,
                )
                go.touch()
        elif event == "end":
            break
    assert seen == "waiting for the test\nreleased\n", daemon.log_tail()
    assert events[-1][0] == "end"
    assert json.loads(events[-1][1]) == {"status": "succeeded"}
    assert [e for e, _ in events[:-1]] == ["log"] * (len(events) - 1)
