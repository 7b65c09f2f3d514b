"""Read a run's log by byte offset, never splitting a UTF-8 character."""

from __future__ import annotations

from pathlib import Path

from mlops_kernel import runfiles


def read_log(run_dir: Path, offset: int, max_bytes: int) -> tuple[str, int, int]:
    """(text, next offset, file size) of the run's log from ``offset``."""
    path = run_dir / runfiles.LOG_FILE
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            if offset >= size:
                return "", min(offset, size), size
            fh.seek(offset)
            data = fh.read(max_bytes)
    except FileNotFoundError:
        return "", 0, 0
    data = _whole_characters(data, at_end=offset + len(data) >= size)
    return data.decode("utf-8", errors="replace"), offset + len(data), size


def _whole_characters(data: bytes, at_end: bool) -> bytes:
    """Drop a multi-byte character cut in half at the end of ``data``."""
    if at_end:
        return data
    for cut in range(1, 4):
        if len(data) < cut:
            break
        byte = data[-cut]
        if byte & 0xC0 != 0x80:  # a lead byte or ASCII
            return data if _char_length(byte) <= cut else data[:-cut]
    return data


def _char_length(lead: int) -> int:
    if lead < 0x80:
        return 1
    if lead < 0xE0:
        return 2
    return 3 if lead < 0xF0 else 4
