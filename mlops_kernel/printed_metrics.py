"""Turn numbers that notebook code prints into tracked metrics.

Notebooks report results by printing them (``print(f"Epoch: {e} | Test loss: {l}")``,
``print("Mean score: %0.3f" % s)``). Rather than asking for the code to be
rewritten, an extracted pipeline runs inside :class:`PrintedMetrics`, which lets
all output through unchanged and logs every ``label: number`` it recognises.

Recognised: ``label: number`` and ``label = number`` pairs, several per line,
separated by ``|``, ``,``, ``;``, `` - `` or spaces; numbers may be written as
``tensor(0.31, grad_fn=<...>)``, ``np.float64(0.5)``, ``3.2e-05``, ``97.5%``. A line
that is only a number takes its label from the line before when that one ends
with ``:``. ``label number`` without ``:``/``=`` counts only when the label names
a metric (accuracy, score, loss, ...). Printed arrays and lists are not metrics.
"""

from __future__ import annotations

import re
import sys
import threading
from types import TracebackType
from typing import Any, TextIO, cast

from mlops_kernel import tracking

__all__ = ["MAX_LINE", "METRIC_WORDS", "PrintedMetrics", "metrics_from_text", "parse_line", "slug"]

MAX_LINE = 4096  # longer lines (a printed array, a data dump) are not parsed
MAX_LABEL = 60
METRIC_WORDS = frozenset(
    {"accuracy", "score", "loss", "error", "mse", "rmse", "mae", "r2", "auc", "f1"}
    | {"precision", "recall"}
)
_ARTICLES = frozenset({"the", "a", "an"})
_MAX_BARE_LABEL_WORDS = 6

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?i:nan|inf(?:inity)?)\b"
_WRAPPER = r"(?:(?:torch\.)?tensor|(?:np|numpy)\.(?:float|int|uint)\d*|float|int)"
# A value ends the text, or is followed by a space or a separator (not by ':', ')' or ']').
_FOLLOW = r"(?=\s|[|,;}]|\.?$|\.\s)"
_VALUE = rf"(?:{_WRAPPER}\(\s*(?P<wrapped>{_NUMBER})\s*(?:,[^()]*)?\)|(?P<plain>{_NUMBER}))%?"
_PAIR = re.compile(rf"(?P<sep>(?<![<>!=:])=(?!=)|:)\s*{_VALUE}{_FOLLOW}")
_ONLY_VALUE = re.compile(rf"\s*{_VALUE}\s*")
_BARE = re.compile(rf"\s*(?P<label>[A-Za-z][A-Za-z0-9_\-()\[\]/ ]*?)\s+{_VALUE}{_FOLLOW}")
_NUMBERS_ONLY = re.compile(r"[\s\d.eE+\-%]*")
_SEGMENTS = re.compile(r"\s*[|;]\s*|\s+-\s+")
_BOUNDARY = re.compile(r".*(?:[|;,:=]|\s-\s)", re.DOTALL)


def slug(label: str) -> str | None:
    """``'The MAE Test Loss'`` -> ``'mae_test_loss'``; None when no letter is left."""
    text = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    text = re.sub(r"^[^a-z]+", "", text)  # a label must start with a letter
    words = text.split("_")
    while len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    text = "_".join(words)[:MAX_LABEL].rstrip("_")
    return text or None


def _number(match: re.Match[str]) -> float:
    return float(match.group("wrapped") or match.group("plain"))


def single_number(text: str) -> float | None:
    """The number a displayed value is, when it is one (``0.96``, ``np.float64(0.96)``,
    ``tensor(0.31)``); None for anything else (arrays, frames, text)."""
    match = _ONLY_VALUE.fullmatch(text.strip())
    if match is None or text.strip().endswith("%"):
        return None
    return _number(match)


def _label_before(text: str) -> str:
    """The label part of ``text``: what follows its last separator."""
    boundary = _BOUNDARY.match(text)
    return text[boundary.end() :] if boundary else text


def _names_metric(label: str) -> bool:
    for word in label.split("_"):
        if word in METRIC_WORDS or word.removesuffix("es") in METRIC_WORDS:
            return True
        if word.removesuffix("s") in METRIC_WORDS:
            return True
    return False


def _pairs(segment: str) -> list[tuple[str, float]]:
    found: list[tuple[str, float]] = []
    start = 0
    for match in _PAIR.finditer(segment):
        sep = match.start("sep")
        is_clock = (
            match.group("sep") == ":"
            and sep > 0
            and segment[sep - 1].isdigit()
            and segment[sep + 1 : sep + 2].isdigit()
        )
        if not is_clock:
            label = slug(_label_before(segment[start:sep]))
            if label is not None:
                found.append((label, _number(match)))
        start = match.end()
    return found


def _bare(segment: str) -> list[tuple[str, float]]:
    match = _BARE.match(segment)
    if match is None or len(match.group("label").split()) > _MAX_BARE_LABEL_WORDS:
        return []
    if _NUMBERS_ONLY.fullmatch(segment, match.end()) is None:  # a sentence, not a table row
        return []
    label = slug(match.group("label"))
    if label is None or not _names_metric(label):
        return []
    return [(label, _number(match))]


_TIMING = re.compile(r"(CPU times: |Wall time: |.* per loop \(mean)")


def parse_line(line: str, previous: str | None = None) -> list[tuple[str, float]]:
    """The ``(label, value)`` pairs printed on one line, in order.

    ``previous`` is the line printed before: when it ends with ``:`` and ``line``
    is only a number, that number takes the previous line's label.
    """
    if len(line) > MAX_LINE:
        return []
    parts = [part for part in line.split("\r") if part.strip()]  # progress bars redraw
    if not parts:
        return []
    line = parts[-1].strip()
    if _TIMING.match(line):  # IPython's %time/%timeit report: not the notebook's numbers
        return []
    only = _ONLY_VALUE.fullmatch(line)
    if only is not None:
        before = (previous or "").strip()
        if len(before) > MAX_LINE or not before.endswith(":"):
            return []
        label = slug(_label_before(before[:-1]))
        return [] if label is None else [(label, _number(only))]
    found: list[tuple[str, float]] = []
    for segment in _SEGMENTS.split(line):
        found.extend(_pairs(segment) or _bare(segment))
    return found


def metrics_from_text(text: str) -> dict[str, list[float]]:
    """Every value printed in ``text``, per label, in order."""
    series: dict[str, list[float]] = {}
    previous: str | None = None
    for line in text.splitlines():
        for label, value in parse_line(line, previous):
            series.setdefault(label, []).append(value)
        previous = line
    return series


class PrintedMetrics:
    """Tee ``sys.stdout`` and log the metrics printed inside the ``with`` block.

    All output reaches the real stdout unchanged. Each value is logged with
    :func:`mlops_kernel.tracking.log_metric` (``log=False``: only collected), the
    step counting that label's values from 0. ``latest`` holds the last value
    per label, ``series`` all of them. A last line without a newline is parsed
    on exit; stdout is restored on exit, also when the block raises.
    """

    def __init__(self, *, log: bool = True) -> None:
        self.latest: dict[str, float] = {}
        self.series: dict[str, list[float]] = {}
        self._log = log
        self._warned = False
        self._saved: TextIO | None = None
        self._tee: _Tee | None = None

    def __enter__(self) -> PrintedMetrics:
        self._saved = sys.stdout
        self._tee = _Tee(self._saved, self._record)
        sys.stdout = cast(TextIO, self._tee)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tee is not None:
                self._tee.finish()
        finally:
            sys.stdout = cast(TextIO, self._saved)
            self._tee = None

    def _record(self, line: str, previous: str | None) -> None:
        for label, value in parse_line(line, previous):
            values = self.series.setdefault(label, [])
            step = len(values)
            values.append(value)
            self.latest[label] = value
            if not self._log:
                continue
            try:
                tracking.log_metric(label, value, step=step)
            except Exception as exc:  # printing must never fail because of tracking
                if not self._warned:
                    self._warned = True
                    print(f"mlops: printed metric {label!r} not logged: {exc}", file=sys.stderr)


class _Tee:
    """A stand-in for ``sys.stdout``: writes go through, complete lines are parsed.

    Attributes it does not define (``buffer``, ``encoding``, ``fileno``, ...) are
    those of the wrapped stream, so they exist exactly when they existed before.
    """

    def __init__(self, target: TextIO | None, on_line: Any) -> None:
        self._target = target
        self._on_line = on_line
        self._lock = threading.RLock()
        self._local = threading.local()
        self._pending: list[str] = []
        self._pending_len = 0
        self._previous: str | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._target, name)

    def write(self, text: str) -> int:
        written = self._target.write(text) if self._target is not None else len(text)
        if isinstance(text, str) and not getattr(self._local, "busy", False):
            self._feed(text)
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._target is not None:
            self._target.flush()

    def finish(self) -> None:
        """Parse what was printed after the last newline."""
        with self._lock:
            if self._pending_len:
                self._complete("")

    def _feed(self, text: str) -> None:
        with self._lock:
            self._local.busy = True
            try:
                start = 0
                while (end := text.find("\n", start)) >= 0:
                    self._complete(text[start:end])
                    start = end + 1
                self._keep(text[start:])
            except Exception:  # a parsing bug must not break the program's output
                self._pending, self._pending_len = [], 0
            finally:
                self._local.busy = False

    def _keep(self, piece: str) -> None:
        if piece and self._pending_len <= MAX_LINE:
            piece = piece[: MAX_LINE + 1 - self._pending_len]
            self._pending.append(piece)
            self._pending_len += len(piece)

    def _complete(self, piece: str) -> None:
        self._keep(piece)
        line = "".join(self._pending)
        self._pending, self._pending_len = [], 0
        if len(line) > MAX_LINE:  # over-long: no metric, and no label for the next line
            self._previous = None
            return
        self._on_line(line, self._previous)
        self._previous = line
