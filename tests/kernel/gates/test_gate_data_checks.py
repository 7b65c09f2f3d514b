"""Data checks on CSV and Parquet files: passing and failing rules, with clear details."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_kernel.dataset_schema import csv_schema, parquet_schema
from mlops_kernel.gates import DataRules
from mlops_kernel.gates.data_checks import DataFinding, check_dataset, dtype_family

GOOD_CSV = """\
age,income,name,member,joined
34,52000.5,ann,true,2024-01-02
51,61000,bob,false,2023-11-30T10:00:00
28,43000,cy,true,2022-05-06
"""

BAD_CSV = """\
age,income,name,member,joined
34,52000.5,ann,true,2024-01-02
,61000,bob,maybe,yesterday
130,-5,cy,true,2022-05-06
-1,n/a,,true,2022-05-06
"""

RULES = DataRules(
    dataset="people",
    columns={
        "age": "int",
        "income": "float",
        "name": "string",
        "member": "bool",
        "joined": "datetime",
    },
    not_null=("age", "name"),
    ranges={"age": (0.0, 120.0), "income": (0.0, None)},
    min_rows=3,
)


def _by_rule(findings: list[DataFinding]) -> dict[str, DataFinding]:
    return {f.rule: f for f in findings}


def test_csv_passes(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text(GOOD_CSV)
    (tmp_path / "README.md").write_text("not a table")
    findings = _by_rule(check_dataset(tmp_path, RULES))
    assert set(findings) == {
        "columns.age",
        "columns.income",
        "columns.name",
        "columns.member",
        "columns.joined",
        "not_null.age",
        "not_null.name",
        "ranges.age",
        "ranges.income",
        "min_rows",
    }
    assert all(f.passed for f in findings.values()), findings
    assert findings["min_rows"].detail == "3 rows in 1 file (at least 3 needed)"
    assert findings["not_null.age"].detail == "column 'age': no nulls in train.csv"


def test_csv_fails_with_clear_details(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text(BAD_CSV)
    findings = _by_rule(check_dataset(tmp_path / "train.csv", RULES))
    failed = {rule for rule, f in findings.items() if not f.passed}
    assert failed == {
        "columns.income",
        "columns.member",
        "columns.joined",
        "not_null.age",
        "not_null.name",
        "ranges.age",
        "ranges.income",
    }
    assert findings["columns.age"].passed  # an int column with a null is still int
    assert findings["columns.income"].detail == (
        "column 'income' is string in train.csv; expected float"
    )
    assert findings["not_null.age"].detail == "column 'age': 1 null in train.csv"
    assert findings["ranges.age"].detail == (
        "column 'age' outside [0, 120]: 1 value below 0 and 1 value above 120 in train.csv "
        "(seen -1 to 130)"
    )
    assert "1 value not a number" in findings["ranges.income"].detail
    assert "1 value below 0" in findings["ranges.income"].detail
    assert findings["min_rows"].passed


def test_families_agree_with_the_dataset_schema(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text(GOOD_CSV)
    recorded = {c["name"]: c["dtype"] for c in csv_schema(path)["columns"]}
    assert recorded["age"] == "int" and recorded["member"] == "bool"
    for column in ("age", "income", "name", "member"):
        rules = DataRules(dataset="d", columns={column: dtype_family(recorded[column])})
        (finding,) = check_dataset(path, rules)
        assert finding.passed, finding


def test_rows_summed_over_files_and_missing_columns(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x,y\n1,2\n3,4\n")
    sub = tmp_path / "more"
    sub.mkdir()
    (sub / "b.tsv").write_text("x\tz\n5\t6\n")
    (tmp_path / ".hidden.csv").write_text("x\n1\n1\n1\n1\n")
    rules = DataRules(dataset="d", columns={"x": "int", "w": "int"}, min_rows=4)
    findings = _by_rule(check_dataset(tmp_path, rules))
    assert findings["columns.x"].passed
    assert findings["columns.x"].detail == "column 'x' is int in a.csv, more/b.tsv"
    assert not findings["columns.w"].passed
    assert findings["columns.w"].detail == "column 'w' is in no file (a.csv, more/b.tsv)"
    assert not findings["min_rows"].passed
    assert findings["min_rows"].detail == "3 rows in 2 files (at least 4 needed)"


def test_no_tabular_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    (finding,) = check_dataset(tmp_path, DataRules(dataset="d", min_rows=1))
    assert finding.rule == "files" and not finding.passed
    assert "no CSV or Parquet file" in finding.detail


def test_unreadable_csv(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_bytes(b"a,b\n\xff\xfe,1\n")
    findings = _by_rule(check_dataset(tmp_path, DataRules(dataset="d", min_rows=0)))
    assert not findings["read:bad.csv"].passed
    assert "not UTF-8" in findings["read:bad.csv"].detail


@pytest.mark.parametrize(
    ("dtype", "family"),
    [
        ("int64", "int"),
        ("uint8", "int"),
        ("Int64", "int"),
        ("double", "float"),
        ("float", "float"),
        ("halffloat", "float"),
        ("decimal128(10, 2)", "float"),
        ("bool", "bool"),
        ("boolean", "bool"),
        ("string", "string"),
        ("large_string", "string"),
        ("object", "string"),
        ("dictionary<values=string, indices=int32, ordered=0>", "string"),
        ("timestamp[ns, tz=UTC]", "datetime"),
        ("date32[day]", "datetime"),
        ("datetime64[ns]", "datetime"),
        ("list<item: int64>", "list<item: int64>"),
    ],
)
def test_dtype_family(dtype: str, family: str) -> None:
    assert dtype_family(dtype) == family


def test_parquet_passes_and_fails(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    good = pa.table(
        {
            "age": pa.array([34, 51, 28], pa.int64()),
            "income": pa.array([52000.5, 61000.0, 43000.0]),
            "name": pa.array(["ann", "bob", "cy"]).dictionary_encode(),
            "member": pa.array([True, False, True]),
            "joined": pa.array([1, 2, 3], pa.timestamp("s")),
        }
    )
    pq.write_table(good, tmp_path / "good.parquet")
    recorded = {c["name"]: c["dtype"] for c in parquet_schema(tmp_path / "good.parquet")["columns"]}
    assert dtype_family(recorded["name"]) == "string"
    findings = check_dataset(tmp_path / "good.parquet", RULES)
    assert all(f.passed for f in findings), findings

    bad = pa.table(
        {
            "age": pa.array([34, None, 130], pa.int32()),
            "income": pa.array(["52000", "61000", "1"]),
            "name": pa.array(["ann", None, None]),
            "member": pa.array([1, 0, 1], pa.int8()),
            "joined": pa.array(["2024-01-01", "x", "y"]),
        }
    )
    pq.write_table(bad, tmp_path / "bad.parquet")
    by_rule = _by_rule(check_dataset(tmp_path / "bad.parquet", RULES))
    assert {r for r, f in by_rule.items() if not f.passed} == {
        "columns.income",
        "columns.member",
        "columns.joined",
        "not_null.age",
        "not_null.name",
        "ranges.age",
        "ranges.income",
    }
    assert by_rule["not_null.name"].detail == "column 'name': 2 nulls in bad.parquet"
    assert by_rule["ranges.age"].detail == (
        "column 'age' outside [0, 120]: 1 value above 120 in bad.parquet (seen 34 to 130)"
    )
    assert (
        by_rule["columns.member"].detail == "column 'member' is int in bad.parquet; expected bool"
    )
    assert by_rule["ranges.income"].detail.endswith("3 values not a number in bad.parquet")


def test_broken_parquet_is_reported(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    (tmp_path / "x.parquet").write_bytes(b"not parquet")
    findings = _by_rule(check_dataset(tmp_path, DataRules(dataset="d", min_rows=0)))
    assert not findings["read:x.parquet"].passed
    assert "not a readable Parquet file" in findings["read:x.parquet"].detail
