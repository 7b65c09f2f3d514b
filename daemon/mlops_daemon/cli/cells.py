"""Parse ``--cells``: cell numbers as JupyterLab shows them (from 1, over all cells)."""

from __future__ import annotations

import re

from ..errors import InvalidInput

_PART = re.compile(r"^(\d+)(?:\s*-\s*(\d+))?$")
EXAMPLE = "--cells 1-4,7"


def parse_cells(text: str) -> list[int]:
    """``"1-4,7"`` -> ``[0, 1, 2, 3, 6]``: 1-based numbers and ranges, as 0-based
    indices, sorted and without repeats. Anything else is a clear InvalidInput."""
    indices: set[int] = set()
    parts = text.split(",")
    for raw in parts:
        part = raw.strip()
        match = _PART.match(part)
        if not match:
            what = "an empty item" if not part else repr(part)
            raise InvalidInput(
                f"--cells: {what} is not a cell number or range; give cell numbers as "
                f"JupyterLab shows them, from 1, e.g. {EXAMPLE}"
            )
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if first < 1:
            raise InvalidInput(f"--cells: cells are numbered from 1 (got {part!r}); e.g. {EXAMPLE}")
        if last < first:
            raise InvalidInput(
                f"--cells: the range {part!r} runs backwards; write it {last}-{first}"
            )
        if last - first > 100_000:
            raise InvalidInput(f"--cells: the range {part!r} is too long for a notebook")
        indices.update(range(first - 1, last))
    return sorted(indices)
