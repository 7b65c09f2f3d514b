from __future__ import annotations

from pathlib import Path

from mlops_daemon.logs import read_log
from mlops_kernel import runfiles


def test_pages_by_offset(tmp_path: Path) -> None:
    (tmp_path / runfiles.LOG_FILE).write_text("hello\nworld\n")
    text, nxt, size = read_log(tmp_path, 0, 6)
    assert (text, nxt, size) == ("hello\n", 6, 12)
    text, nxt, _ = read_log(tmp_path, nxt, 100)
    assert (text, nxt) == ("world\n", 12)
    assert read_log(tmp_path, 12, 100)[:2] == ("", 12)
    assert read_log(tmp_path, 500, 100)[:2] == ("", 12)


def test_never_splits_a_character(tmp_path: Path) -> None:
    (tmp_path / runfiles.LOG_FILE).write_text("aé€😀z", encoding="utf-8")
    out, offset = "", 0
    for _ in range(20):
        text, offset, size = read_log(tmp_path, offset, 2)
        out += text
        if offset >= size:
            break
    assert out == "aé€😀z"


def test_missing_log(tmp_path: Path) -> None:
    assert read_log(tmp_path, 0, 10) == ("", 0, 0)
