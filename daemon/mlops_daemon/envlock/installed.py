"""A snapshot of the distributions installed in this interpreter, cached.

``importlib.metadata.packages_distributions()`` reads every distribution's
RECORD (a few hundred milliseconds in a data-science environment), so the
snapshot is built once and reused until one of the ``sys.path`` directories
changes (installing or removing a distribution adds or removes a
``*.dist-info`` directory, which changes the directory's mtime).
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import sys
import threading
from functools import cached_property

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

SELF = "jupyter-mlops"
"""This product's own distribution: provided to runs separately, never locked."""


class Installed:
    """The distributions of one moment of ``sys.path``."""

    def __init__(self) -> None:
        self._dists: dict[str, metadata.Distribution] = {}
        self._versions: dict[str, str] = {}
        for dist in metadata.distributions():
            meta = dist.metadata  # parsed anew on every access: read it once
            name, version = (meta["Name"], meta["Version"]) if meta else (None, None)
            key = canonicalize_name(name) if name else ""
            if key and version and key not in self._dists:  # the first on sys.path wins
                self._dists[key] = dist
                self._versions[key] = version
        self._requires: dict[str, list[Requirement]] = {}

    @cached_property
    def _top_level(self) -> dict[str, list[str]]:
        mapping = metadata.packages_distributions()
        return {
            top: list(dict.fromkeys(canonicalize_name(n) for n in names))
            for top, names in mapping.items()
        }

    def distributions_for(self, top: str) -> list[str]:
        """Canonical names of the installed distributions providing top-level module ``top``."""
        return [n for n in self._top_level.get(top, []) if n in self._dists]

    def narrow(self, names: list[str], dotted: str) -> list[str]:
        """Of several distributions sharing a namespace (``google``), those holding ``dotted``."""
        if len(names) < 2:
            return names
        parts = dotted.split(".")
        for k in range(len(parts), 1, -1):
            prefix = "/".join(parts[:k])
            hits = [n for n in names if _holds(self._dists[n], prefix)]
            if hits:
                return hits
        return names

    def version(self, name: str) -> str | None:
        return self._versions.get(canonicalize_name(name))

    def requires(self, name: str) -> list[Requirement]:
        """The parsed Requires-Dist of an installed distribution (unparsable lines skipped)."""
        key = canonicalize_name(name)
        if key not in self._requires:
            dist = self._dists.get(key)
            parsed: list[Requirement] = []
            for line in (dist.requires or []) if dist else []:
                try:
                    parsed.append(Requirement(line))
                except InvalidRequirement:
                    continue
            self._requires[key] = parsed
        return self._requires[key]

    def direct_url(self, name: str) -> str | None:
        """Where a distribution came from when it was not installed from an index (PEP 610)."""
        dist = self._dists.get(canonicalize_name(name))
        text = dist.read_text("direct_url.json") if dist else None
        if not text:
            return None
        try:
            url = json.loads(text).get("url")
        except (ValueError, AttributeError):
            return None
        return url if isinstance(url, str) else None


def _holds(dist: metadata.Distribution, prefix: str) -> bool:
    for file in dist.files or ():
        path = file.as_posix()
        if path.startswith(prefix + "/") or path.startswith(prefix + "."):
            return True
    return False


_lock = threading.Lock()
_cache: tuple[tuple[tuple[str, int], ...], Installed] | None = None


def _fingerprint() -> tuple[tuple[str, int], ...]:
    stamps = []
    for entry in sys.path:
        try:
            stamps.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            stamps.append((entry, -1))
    return tuple(stamps)


def installed() -> Installed:
    """The current snapshot (rebuilt when a ``sys.path`` directory changed)."""
    global _cache
    stamp = _fingerprint()
    with _lock:
        if _cache is None or _cache[0] != stamp:
            _cache = (stamp, Installed())
        return _cache[1]


def warm() -> None:
    """Build the snapshot and its top-level module map now (e.g. at daemon start, in a thread)."""
    installed().distributions_for("")
