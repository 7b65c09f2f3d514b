"""Logged models: export to ONNX, the run-dir layout, and the helpers that read it back.

``log_model`` (in :mod:`mlops_kernel.models.log`) is exported as ``mlops_kernel.log_model``.
The daemon uses :mod:`mlops_kernel.models.onnx_runtime` only, which needs no training library.
"""
