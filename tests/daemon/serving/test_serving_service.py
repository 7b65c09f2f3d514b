"""ServingService in process, over a real SQLite store: predictions, caching and
invalidation, input errors, the ONNX file check, and latency statistics."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from support.serving_models import LoggedModel, register

from mlops_daemon.errors import InvalidInput, NotFound
from mlops_daemon.serving import ModelUnavailable, ServiceCutOut, ServingService
from mlops_daemon.serving import service as service_module
from mlops_daemon.serving.stats import WINDOW, LatencyRecorder, percentile
from mlops_daemon.store.async_store import AsyncStore
from mlops_daemon.store.repository import Store
from mlops_kernel.model_schemas import ServeRequest

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'mlops.db'}")
    yield s
    s.close()


@pytest.fixture
def serving(store: Store, logged: dict[str, LoggedModel]) -> Iterator[ServingService]:
    for i, model in enumerate(logged.values()):
        register(store, model, f"run{i}")
    service = ServingService(AsyncStore(store))
    yield service
    service.close()


def predict(
    service: ServingService, model: str, rows: list[list[Any]], alias: str = "production"
) -> Any:
    return run(service.predict(model, alias, ServeRequest(inputs=rows)))


def test_predictions_equal_the_native_models(
    serving: ServingService, logged: dict[str, LoggedModel]
) -> None:
    iris, diabetes, colours = logged["iris"], logged["diabetes"], logged["colours"]
    answer = predict(serving, "iris", iris.rows)
    assert (answer.model, answer.alias, answer.version) == ("iris", "production", 1)
    assert answer.outputs == iris.expected
    assert answer.latency_ms > 0
    values = predict(serving, "diabetes", diabetes.rows).outputs
    np.testing.assert_allclose(values, diabetes.expected, rtol=1e-4, atol=1e-3)
    assert predict(serving, "colours", colours.rows).outputs == colours.expected


def test_inference_runs_on_a_worker_thread(
    serving: ServingService, logged: dict[str, LoggedModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = service_module.run_onnx

    def spy(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(service_module, "run_onnx", spy)
    predict(serving, "iris", logged["iris"].rows[:3])
    assert len(threads) == 1
    assert threads[0].startswith("mlops-serve"), threads
    assert threads[0] != threading.main_thread().name


def test_cut_out_is_cached_until_invalidated(
    store: Store, serving: ServingService, logged: dict[str, LoggedModel]
) -> None:
    rows = logged["iris"].rows[:2]
    predict(serving, "iris", rows)  # the alias is now cached
    store.set_cut_out("iris", ["production"], True, "test", "drift on the EU data")
    assert predict(serving, "iris", rows).outputs  # cached: the registry must invalidate
    serving.invalidate("iris")
    with pytest.raises(ServiceCutOut, match="drift on the EU data") as caught:
        predict(serving, "iris", rows)
    assert caught.value.http_status == 503
    assert "mlops restore iris production" in caught.value.message
    store.set_cut_out("iris", ["production"], False, "test", None)
    serving.invalidate("iris")
    assert predict(serving, "iris", rows).outputs == logged["iris"].expected[:2]


def test_without_alias_cache_a_cut_out_applies_at_once(
    store: Store, logged: dict[str, LoggedModel]
) -> None:
    register(store, logged["iris"], "run-a")
    service = ServingService(AsyncStore(store), cache_aliases=False)
    rows = logged["iris"].rows[:1]
    predict(service, "iris", rows)
    store.set_cut_out("iris", ["production"], True, "test", "stop")
    with pytest.raises(ServiceCutOut):
        predict(service, "iris", rows)
    service.close()


@pytest.mark.parametrize(
    ("model", "rows", "message"),
    [
        ("iris", [[1.0, 2.0, 3.0]], "row 0: expected a list of 4 values; got 3 values"),
        ("iris", [[1, 2, 3, 4], [1, 2, "x", 4]], "row 1, column 2: 'x' is not a number"),
        ("diabetes", [[0.1] * 9], "row 0: expected a list of 10 values (age, sex, bmi"),
        ("diabetes", [[0.1] * 9 + [{"a": 1}]], "row 0, column 's6'"),
    ],
)
def test_bad_rows_are_invalid_input(
    serving: ServingService, model: str, rows: list[list[Any]], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        predict(serving, model, rows)
    assert message in caught.value.message
    assert caught.value.http_status == 400


def test_unknown_model_or_alias_is_not_found(serving: ServingService) -> None:
    with pytest.raises(NotFound, match="nosuch"):
        predict(serving, "nosuch", [[1, 2, 3, 4]])
    with pytest.raises(NotFound, match="no alias 'staging'"):
        predict(serving, "iris", [[1, 2, 3, 4]], alias="staging")
    assert serving.stats("nosuch") == {}


def test_a_changed_onnx_file_is_not_served(
    store: Store, logged: dict[str, LoggedModel], tmp_path: Path
) -> None:
    iris = logged["iris"]
    copy = tmp_path / "run-copy" / "models" / "iris"
    shutil.copytree(iris.model_dir, copy)
    tampered = LoggedModel("iris", copy, iris.manifest, iris.native, iris.rows, iris.expected)
    register(store, tampered, "run-copy")
    onnx = copy / "model.onnx"
    onnx.write_bytes(onnx.read_bytes() + b"\0")
    service = ServingService(AsyncStore(store))
    with pytest.raises(ModelUnavailable, match="changed since it was registered") as caught:
        predict(service, "iris", iris.rows[:1])
    assert caught.value.http_status == 503
    service.close()


def test_stats_count_successes_and_errors(
    serving: ServingService, logged: dict[str, LoggedModel]
) -> None:
    rows = logged["iris"].rows[:1]
    for _ in range(5):
        predict(serving, "iris", rows)
    with pytest.raises(InvalidInput):
        predict(serving, "iris", [[1.0]])
    stats = serving.stats("iris")["production"]
    assert (stats.count, stats.errors, stats.window) == (6, 1, 5)
    assert stats.p50_ms is not None and stats.p99_ms is not None
    assert 0 < stats.p50_ms <= stats.p99_ms
    assert serving.stats("diabetes") == {}


def test_latency_ring_keeps_the_last_window() -> None:
    recorder = LatencyRecorder()
    for i in range(WINDOW + 500):
        recorder.success(float(i))
    stats = recorder.snapshot("m", "a")
    assert stats.count == WINDOW + 500
    assert stats.window == WINDOW
    assert stats.p50_ms == 500 + WINDOW / 2 - 1
    assert stats.p99_ms == 500 + WINDOW * 0.99 - 1
    assert percentile([], 50) is None
    assert percentile([3.0], 99) == 3.0
