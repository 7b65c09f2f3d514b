"""The key-line scanner that gives config errors their line numbers."""

from __future__ import annotations

from mlops_kernel.gates.config_lines import key_lines, locate

TEXT = '''\
# comment with [gates] and key = 1 in it
[docker]
base_image = "x"

[gates]
metrics = [
  "accuracy >= 0.9",   # trailing comment
  'rmse <= 3',
]
note = """a multi-line
fake = 1
string"""
fairness.sensitive = ["sex"]
"quoted key" = 1

[gates.data."my data"]
columns = { a = "int", b = "float" }
ranges = { a = [0, 1],
  b = { min = 0 } }

[ gates . tests ]
paths = ["t"]
'''


def test_lines_of_keys_tables_and_items() -> None:
    index = key_lines(TEXT)
    assert index[("docker",)] == 2
    assert index[("docker", "base_image")] == 3
    assert index[("gates",)] == 5
    assert index[("gates", "metrics")] == 6
    assert index[("gates", "metrics", 0)] == 7
    assert index[("gates", "metrics", 1)] == 8
    assert index[("gates", "note")] == 10
    assert ("gates", "fake") not in index  # inside a multi-line string
    assert index[("gates", "fairness", "sensitive")] == 13
    assert index[("gates", "fairness")] == 13
    assert index[("gates", "quoted key")] == 14
    assert index[("gates", "data", "my data")] == 16
    assert index[("gates", "data", "my data", "columns", "b")] == 17
    assert index[("gates", "data", "my data", "ranges", "a", 1)] == 18
    assert index[("gates", "data", "my data", "ranges", "b", "min")] == 19
    assert index[("gates", "tests", "paths")] == 22


def test_locate_falls_back_to_parents_then_none() -> None:
    index = key_lines(TEXT)
    assert locate(index, ("gates", "tests", "timeout_s")) == 21
    assert locate(index, ("gates", "reproducible", "rtol")) == 5
    assert locate(index, ("elsewhere", "x")) is None
    assert locate(key_lines(""), ("gates",)) is None
