"""The jupyter-mlops orchestration daemon: store, run service, executors, REST API and CLI.

Kept import-light on purpose: the run supervisor imports this package in every run.
"""

from mlops_kernel import __version__

__all__ = ["__version__"]
