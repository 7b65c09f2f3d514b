"""Printed numbers become metrics: the parser (real notebook lines), and the stdout tee."""

from __future__ import annotations

import contextlib
import io
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.metrics import logged_metrics, managed_run

from mlops_kernel import tracking
from mlops_kernel.printed_metrics import PrintedMetrics, metrics_from_text, parse_line, slug


@pytest.fixture
def run_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A managed run in tmp_path: tracking writes there, never into ~/.mlops."""
    with managed_run(monkeypatch, tmp_path) as run:
        yield run


def logged(run: Path) -> list[tuple[str, float, int]]:
    tracking.flush()
    return logged_metrics(run)


PARSED = [
    # printed by the notebooks in shared/notebooks
    (
        "Epoch: 0 | MAE Train Loss: 0.31288138031959534 | MAE Test Loss: 0.48106518387794495 ",
        [
            ("epoch", 0.0),
            ("mae_train_loss", 0.31288138031959534),
            ("mae_test_loss", 0.48106518387794495),
        ],
    ),
    (
        "Epoch: 10 | MAE Train Loss: tensor(0.3129, grad_fn=<MeanBackward0>) | "
        "MAE Test Loss: tensor(0.4811)",
        [("epoch", 10.0), ("mae_train_loss", 0.3129), ("mae_test_loss", 0.4811)],
    ),
    (
        "Epoch: 0 | Train loss: 0.5 | Test loss: tensor(0.31, device='cuda:0')",
        [("epoch", 0.0), ("train_loss", 0.5), ("test_loss", 0.31)],
    ),
    ("Mean score: 0.967", [("mean_score", 0.967)]),
    ("Training set score: 0.986667", [("training_set_score", 0.986667)]),
    ("Training set loss: 0.046236", [("training_set_loss", 0.046236)]),
    (
        "The mean squared error (MSE) on test set: 3009.1234",
        [("mean_squared_error_mse_on_test_set", 3009.1234)],
    ),
    ("Number of testing samples: 10", [("number_of_testing_samples", 10.0)]),
    ("weights: 0.7, bias: 0.3", [("weights", 0.7), ("bias", 0.3)]),
    ("    accuracy                           0.97       899", [("accuracy", 0.97)]),
    # number formats and separators
    ("Mean score: np.float64(0.5)", [("mean_score", 0.5)]),
    ("lr = 3.2e-05, delta = -1; acc = 97.5%", [("lr", 3.2e-05), ("delta", -1.0), ("acc", 97.5)]),
    ("{'loss': 0.5, 'acc': 0.9}", [("loss", 0.5), ("acc", 0.9)]),
    ("12/12 [=====] - 0s 2ms/step - loss: 0.6 - accuracy: 0.7", [("loss", 0.6), ("accuracy", 0.7)]),
    ("Training loss 0.5", [("training_loss", 0.5)]),
    ("progress 10%\rprogress 50%\rloss: 0.25", [("loss", 0.25)]),
    # false alarms
    ("Labels for training data:", []),
    ("[0 1 2]", []),
    ("Number 3", []),
    ("Scores on each CV fold: [0.96666667 0.96666667 0.93333333]", []),
    ("All: [33.33333333 33.33333333 33.33333333]", []),
    ("   macro avg       0.97      0.97      0.97       899", []),
    ("           0       1.00      0.99      0.99        88", []),
    ("              precision    recall  f1-score   support", []),
    ("Classification report for classifier SVC(gamma=0.001):", []),
    ("500 0.5431 early stopping!", []),
    ("Saving model to: models/01_pytorch_workflow_model_0.pth", []),
    ("Using device: cpu", []),
    ("OrderedDict([('weights', tensor([0.3367])), ('bias', tensor([0.1288]))])", []),
    ("Predicted values: tensor([[0.8685], [0.8825]])", []),
    ("Started at 12:30:45", []),
    ("version: 1.2.3", []),
    ("x >= 4", []),
    ("The loss went down by 5 percent", []),
    ("0: 0.5", []),
    ("", []),
]


@pytest.mark.parametrize(("line", "expected"), PARSED, ids=[line[:40] for line, _ in PARSED])
def test_parse_line(line: str, expected: list[tuple[str, float]]) -> None:
    assert parse_line(line) == expected


@pytest.mark.parametrize(
    ("previous", "line", "expected"),
    [
        ("Fraction Correct [Accuracy]:", "0.96", [("fraction_correct_accuracy", 0.96)]),
        ("Epoch: 3 | The accuracy:", "tensor(0.5)", [("accuracy", 0.5)]),
        ("Fraction Correct [Accuracy]", "0.96", []),
        ("Labels for test data:", "[2 1 0 2]", []),
        (None, "0.96", []),
    ],
)
def test_a_lone_number_takes_the_label_of_the_line_before(
    previous: str | None, line: str, expected: list[tuple[str, float]]
) -> None:
    assert parse_line(line, previous) == expected


def test_nan_and_infinity() -> None:
    [(label, value)] = parse_line("val loss: nan")
    assert label == "val_loss" and math.isnan(value)
    assert parse_line("loss: -inf") == [("loss", -math.inf)]
    assert parse_line("info: information") == []


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("The MAE Test Loss", "mae_test_loss"),
        ("  R2 (test)  ", "r2_test"),
        ("[1/10] loss", "loss"),
        ("a", "a"),
        ("42", None),
        ("x" * 100, "x" * 60),
    ],
)
def test_slug(label: str, expected: str | None) -> None:
    assert slug(label) == expected


def test_metrics_from_text_keeps_every_value_in_order() -> None:
    text = "Fraction Correct [Accuracy]:\n0.96\nEpoch: 0 | loss: 1\nnoise\nEpoch: 1 | loss: 0.5\n"
    assert metrics_from_text(text) == {
        "fraction_correct_accuracy": [0.96],
        "epoch": [0.0, 1.0],
        "loss": [1.0, 0.5],
    }


def test_printed_metrics_are_logged_and_output_is_unchanged(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "Epoch: 0 | Test loss: 0.5\nFraction Correct [Accuracy]:\n0.96\n"
        "Epoch: 1 | Test loss: 0.25\n"
    )
    with PrintedMetrics() as printed:
        print("Epoch: 0 | Test loss: 0.5")
        sys.stdout.write("Fraction Correct ")  # lines may arrive in pieces
        sys.stdout.write("[Accuracy]:\n0.9")
        print("6", flush=True)
        sys.stdout.writelines(["Epoch: 1 | ", "Test loss: 0.25\n"])
    assert capsys.readouterr().out == text
    assert printed.latest == {"epoch": 1.0, "test_loss": 0.25, "fraction_correct_accuracy": 0.96}
    assert printed.series["test_loss"] == [0.5, 0.25]
    assert logged(run_dir) == [
        ("epoch", 0.0, 0),
        ("test_loss", 0.5, 0),
        ("fraction_correct_accuracy", 0.96, 0),
        ("epoch", 1.0, 1),
        ("test_loss", 0.25, 1),
    ]


def test_last_line_without_newline_is_parsed_and_stdout_restored(run_dir: Path) -> None:
    before = sys.stdout
    with PrintedMetrics(log=False) as printed:
        print("accuracy: 0.9", end="")
        assert sys.stdout is not before
    assert sys.stdout is before
    assert printed.latest == {"accuracy": 0.9}
    assert logged(run_dir) == []  # log=False only collects


def test_stdout_is_restored_when_the_block_raises(run_dir: Path) -> None:
    before = sys.stdout
    with pytest.raises(RuntimeError, match="boom"), PrintedMetrics() as printed:
        print("loss: 1.5")
        raise RuntimeError("boom")
    assert sys.stdout is before
    assert printed.latest == {"loss": 1.5}
    assert logged(run_dir) == [("loss", 1.5, 0)]


def test_huge_output_passes_through_and_is_not_parsed(run_dir: Path) -> None:
    sink = io.StringIO()
    huge = "loss: 1 " * 500_000
    with contextlib.redirect_stdout(sink), PrintedMetrics() as printed:
        print(huge, end="")
        print(huge)
        print("loss: 0.5")
    assert sink.getvalue() == huge + huge + "\nloss: 0.5\n"
    assert printed.series == {"loss": [0.5]}


def test_streams_without_buffer_stay_without_buffer(run_dir: Path) -> None:
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), PrintedMetrics():
        assert not hasattr(sys.stdout, "buffer")
        print("score: 1")
    assert sink.getvalue() == "score: 1\n"


def test_streams_with_buffer_keep_it(run_dir: Path) -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    with contextlib.redirect_stdout(stream), PrintedMetrics() as printed:
        sys.stdout.buffer.write(b"bytes: 1\n")  # bypasses the parser, still arrives
        print("text: 2")
        assert sys.stdout.encoding == "utf-8"
    assert raw.getvalue() == b"bytes: 1\ntext: 2\n"
    assert printed.latest == {"text": 2.0}


def test_tracking_failures_do_not_break_printing(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(tracking, "log_metric", broken)
    with PrintedMetrics() as printed:
        print("loss: 1")
        print("loss: 2")
    captured = capsys.readouterr()
    assert captured.out == "loss: 1\nloss: 2\n"
    assert captured.err.count("disk full") == 1
    assert printed.series == {"loss": [1.0, 2.0]}


def test_ipython_timing_reports_are_not_metrics() -> None:
    from mlops_kernel.printed_metrics import metrics_from_text

    text = (
        "CPU times: user 374 ms, sys: 12 ms, total: 386 ms\nWall time: 1.4 s\n"
        "1.2 ms ± 3 µs per loop (mean ± std. dev. of 7 runs, 1,000 loops each)\nloss: 0.5\n"
    )
    assert metrics_from_text(text) == {"loss": [0.5]}
