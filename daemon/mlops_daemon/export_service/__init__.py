"""``mlops export-service``: a registered model as a standalone prediction service."""

from __future__ import annotations

from .offline import WheelSource
from .writer import ExportedModel, image_name, write_service

__all__ = ["ExportedModel", "WheelSource", "image_name", "write_service"]
