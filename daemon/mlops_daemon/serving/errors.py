"""Errors of the serving endpoints, in the daemon's one exception tree."""

from __future__ import annotations

from ..errors import MlopsError


class ModelUnavailable(MlopsError):
    """The alias names a version that cannot be served right now (HTTP 503)."""

    code = "model_unavailable"
    http_status = 503


class ServiceCutOut(ModelUnavailable):
    """The alias was cut out by an operator: requests are refused until it is restored."""

    code = "cut_out"
