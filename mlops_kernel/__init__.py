"""jupyter-mlops domain core.

Training code imports the tracking API from here::

    from mlops_kernel import get_params, log_metric, log_artifact

Only the standard library is imported at this point, so ``import mlops_kernel``
stays cheap inside a notebook kernel or a training container.
"""

__version__ = "0.1.0"

from mlops_kernel.tracking import (
    flush,
    get_params,
    log_artifact,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    run_dir,
    set_tags,
)

__all__ = [
    "__version__",
    "flush",
    "get_params",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "run_dir",
    "set_tags",
]
