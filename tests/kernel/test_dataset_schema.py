"""Schemas of tabular dataset files: CSV types inferred from every value, Parquet via pyarrow."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from mlops_kernel.dataset_cache import HashCache
from mlops_kernel.dataset_manifest import build_manifest
from mlops_kernel.dataset_schema import NO_PYARROW, csv_schema, dataset_schema, parquet_schema


def columns(schema: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["dtype"] for c in schema["columns"]}


def test_csv_types_rows_and_nulls(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "id,score,flag,label,mixed,blank,late_float\n"
        "1,0.5,true,a,1,,1\n"
        "2,1e3,False,b,x,,2\n"
        "-3,,TRUE,,2,,2.5\n"
        "\n"
    )
    schema = csv_schema(path)
    assert schema["rows"] == 3 and schema["delimiter"] == ","
    assert columns(schema) == {
        "id": "int",
        "score": "float",
        "flag": "bool",
        "label": "string",
        "mixed": "string",
        "blank": "empty",
        "late_float": "float",
    }
    nulls = {c["name"]: c["nulls"] for c in schema["columns"]}
    assert nulls["score"] == 1 and nulls["blank"] == 3 and nulls["id"] == 0
    assert "error" not in schema


def test_csv_delimiter_is_sniffed_and_tsv_known(tmp_path: Path) -> None:
    semi = tmp_path / "semi.csv"
    semi.write_text("a;b\n1;x\n2;y\n")
    assert columns(csv_schema(semi)) == {"a": "int", "b": "string"}
    tsv = tmp_path / "t.tsv"
    tsv.write_text("a\tb\n1\t2.0\n")
    files = [("t.tsv", tsv, "0" * 64)]
    assert columns(dataset_schema(files)["t.tsv"]) == {"a": "int", "b": "float"}


def test_ragged_and_binary_csvs_get_a_note_not_a_failure(tmp_path: Path) -> None:
    ragged = tmp_path / "r.csv"
    ragged.write_text("a,b\n1,2\n3\n4,5,6\n")
    schema = csv_schema(ragged)
    assert schema["rows"] == 3 and "2 rows" in schema["error"]
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "UTF-8" in csv_schema(binary)["error"]


def test_parquet_schema_via_pyarrow(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"x": [1, 2, 3], "y": [0.1, 0.2, None], "s": ["a", "b", "c"]})
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    schema = parquet_schema(path)
    assert schema["rows"] == 3
    assert columns(schema) == {"x": "int64", "y": "double", "s": "string"}


def test_parquet_without_pyarrow_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1")
    assert parquet_schema(path) == {"format": "parquet", "error": NO_PYARROW}


def test_a_broken_parquet_file_gets_a_note(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    path.write_bytes(b"not parquet")
    assert "not a readable Parquet file" in parquet_schema(path)["error"]


def test_schemas_are_cached_by_content_hash(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    (root / "a.csv").write_text("a\n1\n")
    (root / "notes.txt").write_text("not tabular")
    with HashCache(tmp_path / "c.sqlite", racy_ns=0) as cache:
        m = build_manifest(root, cache)
        files = [(f.path, root / f.path, f.sha256) for f in m.files]
        first = dataset_schema(files, cache)
        assert list(first) == ["a.csv"]
        (root / "a.csv").unlink()  # a cached schema is not read from the file
        assert dataset_schema(files, cache) == first
