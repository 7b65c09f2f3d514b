"""Which GPUs a run gets, as recorded in its environment (name and memory).

Read from ``nvidia-smi`` when the machine has one; an empty list otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

QUERY = "index,name,memory.total,uuid,driver_version"


def gpu_inventory(count: int | None = None) -> list[dict[str, Any]]:
    """The machine's GPUs (the first ``count`` of them when given), or [] when there are none
    or ``nvidia-smi`` cannot say."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run(
            [smi, f"--query-gpu={QUERY}", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = [_parse(line) for line in out.splitlines() if line.strip()]
    found = [g for g in gpus if g is not None]
    return found if count is None else found[:count]


def _parse(line: str) -> dict[str, Any] | None:
    parts = [p.strip() for p in line.split(",")]
    if len(parts) < 5:
        return None
    index, name, memory, uuid, driver = parts[:5]
    try:
        memory_mb: int | None = int(float(memory))
    except ValueError:
        memory_mb = None
    return {
        "index": int(index) if index.isdigit() else index,
        "name": name,
        "memory_mb": memory_mb,
        "uuid": uuid,
        "driver": driver,
    }
