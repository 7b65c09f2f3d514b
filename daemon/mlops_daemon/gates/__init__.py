"""Gates: what a run must show before its model may be promoted (see ``runner``)."""

from .runner import GateRunner

__all__ = ["GateRunner"]
