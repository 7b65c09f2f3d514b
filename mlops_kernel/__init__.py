"""jupyter-mlops domain core.

Training code imports the tracking API from here::

    from mlops_kernel import get_params, log_metric, log_artifact, dataset_path, log_model

The tracking module is loaded on first use (PEP 562), so ``import mlops_kernel``
costs next to nothing: the run supervisor and the daemon import this package
without needing tracking at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from mlops_kernel.datasets import (
        dataset_path as dataset_path,
    )
    from mlops_kernel.models.log import (
        log_model as log_model,
    )
    from mlops_kernel.tracking import (
        flush as flush,
    )
    from mlops_kernel.tracking import (
        get_params as get_params,
    )
    from mlops_kernel.tracking import (
        log_artifact as log_artifact,
    )
    from mlops_kernel.tracking import (
        log_metric as log_metric,
    )
    from mlops_kernel.tracking import (
        log_metrics as log_metrics,
    )
    from mlops_kernel.tracking import (
        log_param as log_param,
    )
    from mlops_kernel.tracking import (
        log_params as log_params,
    )
    from mlops_kernel.tracking import (
        run_dir as run_dir,
    )
    from mlops_kernel.tracking import (
        set_tags as set_tags,
    )

_TRACKING = frozenset(
    {
        "flush",
        "get_params",
        "log_artifact",
        "log_metric",
        "log_metrics",
        "log_param",
        "log_params",
        "run_dir",
        "set_tags",
    }
)

__all__ = ["__version__", "dataset_path", "log_model", *sorted(_TRACKING)]


def __getattr__(name: str) -> Any:
    if name == "dataset_path":
        from mlops_kernel.datasets import dataset_path

        globals()[name] = dataset_path
        return dataset_path
    if name == "log_model":
        from mlops_kernel.models.log import log_model

        globals()[name] = log_model
        return log_model
    if name in _TRACKING:
        from mlops_kernel import tracking

        value = getattr(tracking, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mlops_kernel' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _TRACKING | {"dataset_path", "log_model"})
