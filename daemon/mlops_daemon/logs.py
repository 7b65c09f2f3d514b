"""Read a run's log by byte offset, never splitting a UTF-8 character."""

from __future__ import annotations

from pathlib import Path

from mlops_kernel import runfiles


def read_log(run_dir: Path, offset: int, max_bytes: int) -> tuple[str, int, int]:
    """(text, next offset, file size) of the run's log from ``offset``.

    A page ends on a character boundary (so the next page starts on one). A
    character still being written at the end of the file waits for its rest.
    """
    path = run_dir / runfiles.LOG_FILE
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            if offset >= size:
                return "", min(offset, size), size
            fh.seek(offset)
            data = fh.read(max_bytes + 3)
    except FileNotFoundError:
        return "", 0, 0
    data = data[: _boundary(data, max_bytes)]
    return data.decode("utf-8", errors="replace"), offset + len(data), size


def _is_continuation(byte: int) -> bool:
    return byte & 0xC0 == 0x80


def _boundary(data: bytes, limit: int) -> int:
    """The largest cut ≤ ``limit`` that ends on a whole character (at least one)."""
    cut = min(limit, len(data))
    while cut > 0 and cut < len(data) and _is_continuation(data[cut]):
        cut -= 1
    if cut == 0:  # the first character alone is longer than the limit
        cut = 1
        while cut < len(data) and _is_continuation(data[cut]):
            cut += 1
    # A character cut short by the end of the data (still being written) waits.
    start = cut - 1
    while start > 0 and _is_continuation(data[start]):
        start -= 1
    if start >= 0 and start + _char_length(data[start]) > cut and start > 0:
        cut = start
    return cut


def _char_length(lead: int) -> int:
    if lead < 0x80:
        return 1
    if lead < 0xE0:
        return 2
    return 3 if lead < 0xF0 else 4
