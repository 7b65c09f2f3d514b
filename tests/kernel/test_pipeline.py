"""What generated modules import: seeding, parameters, and running a tracked pipeline."""

from __future__ import annotations

import enum
import json
import random
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
import torch
from support.metrics import logged_metrics, managed_run

from mlops_kernel import runfiles
from mlops_kernel.pipeline import parse_params, run_pipeline, seed_everything


@pytest.fixture
def run_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A managed run in tmp_path: tracking writes there, never into ~/.mlops."""
    with managed_run(monkeypatch, tmp_path) as run:
        yield run


class Mode(enum.Enum):
    FAST = "fast"
    SLOW = "slow"


@dataclass
class Params:
    lr: float = 0.1
    epochs: int = 10
    name: str = "model"
    verbose: bool = False
    seed: int = 42
    extra: object = None
    limit: int | None = None
    layers: list[int] = field(default_factory=lambda: [8, 4])
    out: Path = Path("out")
    mode: Mode = Mode.FAST
    loss: Literal["mse", "mae"] = "mse"


def draws() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_seed_everything_repeats_the_same_draws() -> None:
    seed_everything(7)
    first = draws()
    seed_everything(7)
    assert draws() == first
    seed_everything(8)
    assert draws() != first


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True])
def test_seed_everything_refuses_bad_seeds(seed: object) -> None:
    with pytest.raises(ValueError, match="seed must be an int"):
        seed_everything(seed)  # type: ignore[arg-type]


def test_defaults() -> None:
    assert parse_params(Params, []) == Params()


def test_precedence_defaults_file_overrides_command_line(tmp_path: Path) -> None:
    params_file = tmp_path / "params.json"
    params_file.write_text(json.dumps({"lr": 0.2, "epochs": 20, "name": "file", "limit": 5}))
    argv = ["--params", str(params_file), "--name", "cli"]
    overrides = {"epochs": 30, "name": "override"}
    params = parse_params(Params, argv, overrides)
    assert (params.lr, params.epochs, params.name, params.limit) == (0.2, 30, "cli", 5)
    assert params.seed == 42  # untouched: the default


def test_argv_forms_and_conversions() -> None:
    argv = [
        "--lr=0.5",
        "--epochs",
        "3",
        "--verbose",
        "--extra",
        '{"k": [1]}',
        "--limit",
        "none",
        "--layers",
        "[16, 8, 4]",
        "--out",
        "models/x",
        "--mode",
        "SLOW",
        "--loss=mae",
    ]
    params = parse_params(Params, argv)
    assert params == Params(
        lr=0.5,
        epochs=3,
        verbose=True,
        extra={"k": [1]},
        limit=None,
        layers=[16, 8, 4],
        out=Path("models/x"),
        mode=Mode.SLOW,
        loss="mae",
    )
    assert parse_params(Params, ["--extra", "plain text"]).extra == "plain text"
    assert parse_params(Params, ["--lr", "-1e-3"]).lr == -0.001
    for text, expected in [("true", True), ("No", False), ("1", True), ("0", False)]:
        assert parse_params(Params, ["--verbose", text]).verbose is expected


def test_dashes_stand_for_underscores() -> None:
    @dataclass
    class WithUnderscore:
        learning_rate: float = 0.1

    assert parse_params(WithUnderscore, ["--learning-rate", "0.3"]).learning_rate == 0.3
    assert parse_params(WithUnderscore, ["--learning_rate=0.4"]).learning_rate == 0.4


def test_argv_defaults_to_sys_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["prog", "--epochs", "7"])
    assert parse_params(Params).epochs == 7


def test_override_values_are_converted() -> None:
    params = parse_params(Params, [], {"lr": 1, "epochs": "4", "verbose": "yes", "name": 5})
    assert (params.lr, params.epochs, params.verbose, params.name) == (1.0, 4, True, "5")
    assert isinstance(params.lr, float)
    assert parse_params(Params, [], {"verbose": 1}).verbose is True


@pytest.mark.parametrize(
    ("argv", "overrides", "message"),
    [
        (["--lrr", "1"], None, "unknown parameter --lrr (known: lr, epochs"),
        (["--epochs", "abc"], None, "argument --epochs: expected int, got 'abc'"),
        (["--epochs=2.5"], None, "argument --epochs: expected int, got '2.5'"),
        (["--verbose", "maybe"], None, "expected bool (true/false/yes/no/1/0), got 'maybe'"),
        (["--lr"], None, "argument --lr: expected one value (float)"),
        (["--mode", "medium"], None, "expected one of FAST, SLOW, got 'medium'"),
        (["--loss", "hinge"], None, "expected one of mse, mae, got 'hinge'"),
        (["--layers", "[1,"], None, "argument --layers: expected list, got '[1,'"),
        (["--limit", "x"], None, "expected int or none, got 'x'"),
        (["positional"], None, "unexpected argument 'positional'"),
        ([], {"epochs": 2.5}, "parameter 'epochs' in the keyword arguments: expected int"),
        ([], {"verbose": 3}, "parameter 'verbose' in the keyword arguments: expected bool"),
        ([], {"nope": 1}, "unknown parameter 'nope' in the keyword arguments"),
        (["--params", "/does/not/exist.json"], None, "cannot read --params file"),
    ],
)
def test_bad_parameters_exit_2_with_a_clear_message(
    argv: list[str],
    overrides: Mapping[str, object] | None,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_params(Params, argv, overrides)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ") and "[--epochs INT]" in err
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"epochs": "many"}', "parameter 'epochs' in"),
        ('{"x": 1}', "unknown parameter 'x' in"),
    ],
)
def test_bad_params_files(
    tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(SystemExit) as exited:
        parse_params(Params, ["--params", str(path)])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_dataclass_checks_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    @dataclass
    class Checked:
        ratio: float = 0.5

        def __post_init__(self) -> None:
            if not 0 < self.ratio < 1:
                raise ValueError(f"ratio must be between 0 and 1, got {self.ratio}")

    with pytest.raises(SystemExit):
        parse_params(Checked, ["--ratio", "2"])
    assert "invalid parameters: ratio must be between 0 and 1, got 2.0" in capsys.readouterr().err


def test_help_lists_the_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_params(Params, ["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--lr  float (default: 0.1)" in out


def test_programming_errors_are_type_errors() -> None:
    @dataclass
    class NoDefault:
        lr: float

    with pytest.raises(TypeError, match=r"NoDefault\.lr needs a default"):
        parse_params(NoDefault, [])
    with pytest.raises(TypeError, match="needs a dataclass"):
        parse_params(dict, [])


def test_run_pipeline_logs_params_printed_and_returned_metrics(run_dir: Path) -> None:
    seen: list[tuple[float, float]] = []

    def run(params: Params) -> dict[str, object]:
        seen.append((random.random(), float(np.random.rand())))
        for epoch in range(2):
            print(f"Epoch: {epoch} | Test loss: {params.lr / (epoch + 1)}")
        return {"accuracy": np.float64(0.9), "test_loss": 0.01, "model": object(), "ok": True}

    params = Params(seed=3)
    result = run_pipeline(run, params)
    assert result == {"epoch": 1.0, "test_loss": 0.01, "accuracy": 0.9}
    stored = runfiles.read_json(run_dir / runfiles.PARAMS_FILE)
    assert isinstance(stored, dict)
    assert stored["lr"] == 0.1 and stored["seed"] == 3 and stored["layers"] == "[8, 4]"
    assert stored["mode"] == "FAST" and stored["out"] == "out"
    assert parse_params(Params, [], stored) == params  # params.json parses back
    assert logged_metrics(run_dir) == [
        ("epoch", 0.0, 0),
        ("test_loss", 0.1, 0),
        ("epoch", 1.0, 1),
        ("test_loss", 0.05, 1),
        ("accuracy", 0.9, 0),
        ("test_loss", 0.01, 2),
    ]
    run_pipeline(run, params)  # the same seed: the same random numbers
    assert seen[0] == seen[1]


def test_run_pipeline_without_seed_or_result(run_dir: Path) -> None:
    @dataclass
    class NoSeed:
        n: int = 2

    def run(params: NoSeed) -> None:
        print(f"score: {params.n}")

    assert run_pipeline(run, NoSeed()) == {"score": 2.0}
    assert runfiles.read_json(run_dir / runfiles.PARAMS_FILE) == {"n": 2}


def test_run_pipeline_failure_keeps_metrics_and_stdout(run_dir: Path) -> None:
    before = sys.stdout

    def run(params: Params) -> None:
        print("loss: 3")
        raise RuntimeError("diverged")

    with pytest.raises(RuntimeError, match="diverged"):
        run_pipeline(run, Params())
    assert sys.stdout is before
    assert logged_metrics(run_dir) == [("loss", 3.0, 0)]
