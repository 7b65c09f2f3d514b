"""Ingestion from a run directory: complete lines only, exactly once, resumable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_daemon.ingest import Ingester
from mlops_daemon.store.repository import Store
from mlops_kernel import runfiles
from mlops_kernel.schemas import RunSpec


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Store, Path]:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    store.create_run("r1", RunSpec(project="/p", entry_point="t.py"), "local", run_dir)
    return store, run_dir


def append(run_dir: Path, data: str) -> None:
    with open(run_dir / runfiles.METRICS_FILE, "a") as fh:
        fh.write(data)


def line(step: int, value: float) -> str:
    return runfiles.encode_metric("loss", value, step, 1000 + step)


def steps(store: Store) -> list[int]:
    series = store.metrics("r1").series
    return series[0].steps if series else []


def test_a_torn_last_line_waits_for_its_end(setup: tuple[Store, Path]) -> None:
    store, run_dir = setup
    ing = Ingester(store, "r1", run_dir, 0)
    whole = line(0, 1.0) + line(1, 0.5)
    append(run_dir, whole[: len(line(0, 1.0)) + 5])
    assert ing.ingest() == 1
    append(run_dir, whole[len(line(0, 1.0)) + 5 :])
    assert ing.ingest() == 1
    assert steps(store) == [0, 1]


def test_a_new_ingester_resumes_from_the_committed_offset(setup: tuple[Store, Path]) -> None:
    store, run_dir = setup
    append(run_dir, "".join(line(i, float(i)) for i in range(10)))
    Ingester(store, "r1", run_dir, 0).ingest()
    append(run_dir, "".join(line(i, float(i)) for i in range(10, 15)))
    # After a restart the daemon builds the ingester from the stored offset.
    offset = store.get_row("r1").metrics_offset
    assert Ingester(store, "r1", run_dir, offset).ingest() == 5
    assert steps(store) == list(range(15))


def test_a_stale_ingester_does_not_double_count(setup: tuple[Store, Path]) -> None:
    store, run_dir = setup
    append(run_dir, "".join(line(i, float(i)) for i in range(5)))
    stale = Ingester(store, "r1", run_dir, 0)
    Ingester(store, "r1", run_dir, 0).ingest()
    assert stale.ingest() == 0
    assert steps(store) == list(range(5))


def test_bad_lines_are_skipped_and_counted(setup: tuple[Store, Path]) -> None:
    store, run_dir = setup
    append(run_dir, line(0, 1.0) + "not json\n" + '{"k": "x"}\n' + "\n" + line(1, 2.0))
    ing = Ingester(store, "r1", run_dir, 0)
    assert ing.ingest() == 2
    assert ing.bad_lines == 2


def test_params_tags_and_artifacts_are_picked_up(setup: tuple[Store, Path]) -> None:
    store, run_dir = setup
    runfiles.write_json_atomic(run_dir / runfiles.PARAMS_FILE, {"lr": 0.1, "arch": [1, 2]})
    runfiles.write_json_atomic(run_dir / runfiles.TAGS_FILE, {"stage": 1})
    (run_dir / "artifacts" / "sub").mkdir(parents=True)
    (run_dir / "artifacts" / "sub" / "m.bin").write_bytes(b"abc")
    Ingester(store, "r1", run_dir, 0).finish()
    run = store.get_run("r1")
    assert run.params == {"arch": "[1, 2]", "lr": 0.1}
    assert run.tags == {"stage": "1"}
    assert [(a.path, a.size) for a in run.artifacts] == [("sub/m.bin", 3)]
    assert run.artifacts[0].sha256 == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_a_missing_metrics_file_is_fine(setup: tuple[Store, Path]) -> None:
    store, run_dir = setup
    assert Ingester(store, "r1", run_dir, 0).ingest() == 0
    assert json.loads(store.metrics("r1").model_dump_json())["series"] == []


def test_the_block_parser_agrees_with_the_line_parser() -> None:
    lines = [
        runfiles.encode_metric(f"k{i % 3}", v, i, 1000 + i)
        for i, v in enumerate([0.5, 2, float("nan"), float("inf"), -float("inf"), 1e300, -0.0, 7])
    ]
    block = "".join(lines).encode()
    fast, problems = runfiles.decode_metrics(block)
    slow = [runfiles.decode_metric(line) for line in lines]
    assert problems == []
    assert [repr(p) for p in fast] == [repr(p) for p in slow]
    # One bad line in the block: the others still come through, in order.
    mixed = (lines[0] + '{"k": "x", "v": true, "s": 1, "t": 1}\n' + lines[1]).encode()
    points, problems = runfiles.decode_metrics(mixed)
    assert [p[2] for p in points] == [0, 1] and len(problems) == 1
