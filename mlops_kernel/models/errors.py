"""The exceptions of logging and serving models (one tree, all ``ValueError``)."""

from __future__ import annotations


class ModelError(ValueError):
    """A user mistake when logging or loading a model; the message says what to do."""


class ModelExportError(ModelError):
    """The model could not be converted to ONNX (or the result does not check out)."""


class InputError(ModelError):
    """Raw input rows that do not fit the model (serving answers 400 with the message)."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (library errors can run to pages)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
