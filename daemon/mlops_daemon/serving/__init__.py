"""Serving registered models over HTTP (``POST /serve/{model}/{alias}``)."""

from __future__ import annotations

from .errors import ModelUnavailable, ServiceCutOut
from .service import ServingService

__all__ = ["ModelUnavailable", "ServiceCutOut", "ServingService"]
