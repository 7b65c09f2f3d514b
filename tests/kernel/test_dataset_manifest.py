"""Dataset manifests and the file-hash cache, on real files."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from mlops_kernel.dataset_cache import HashCache
from mlops_kernel.dataset_manifest import (
    DatasetError,
    FileEntry,
    build_manifest,
    canonical_manifest,
    default_name,
    parse_manifest,
    scan,
)


def make_tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.csv").write_text("x,y\n1,2\n")
    (root / "sub" / "b.bin").write_bytes(os.urandom(3 * (1 << 20) + 17))  # several chunks
    (root / ".hidden").write_text("secret")
    return root


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_manifest_lists_every_file_with_its_hash(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data")
    m = build_manifest(root)
    assert [f.path for f in m.files] == [".hidden", "a.csv", "sub/b.bin"]
    assert {f.path: f.sha256 for f in m.files}["sub/b.bin"] == sha(root / "sub" / "b.bin")
    assert m.file_count == 3
    assert m.size_bytes == sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    expected = json.dumps(
        sorted([f.path, f.size, f.sha256] for f in m.files), separators=(",", ":")
    )
    assert m.canonical() == expected.encode()
    assert m.manifest_hash == "sha256:" + hashlib.sha256(expected.encode()).hexdigest()
    assert parse_manifest(m.canonical()) == sorted(m.files, key=lambda f: f.path)


def test_identity_is_the_content_not_the_place(tmp_path: Path) -> None:
    one = build_manifest(make_tree(tmp_path / "one"))
    two = tmp_path / "two"
    two.mkdir()
    for f in one.files:
        (two / f.path).parent.mkdir(parents=True, exist_ok=True)
        (two / f.path).write_bytes((tmp_path / "one" / f.path).read_bytes())
    assert build_manifest(two).manifest_hash == one.manifest_hash


def test_a_changed_file_changes_the_hash(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data")
    before = build_manifest(root).manifest_hash
    (root / "a.csv").write_text("x,y\n1,3\n")
    assert build_manifest(root).manifest_hash != before


def test_a_renamed_file_changes_the_hash(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data")
    before = build_manifest(root).manifest_hash
    (root / "a.csv").rename(root / "c.csv")
    assert build_manifest(root).manifest_hash != before


def test_canonical_form_does_not_depend_on_order() -> None:
    a, b = FileEntry("b", 1, "00"), FileEntry("a", 2, "11")
    assert canonical_manifest([a, b]) == canonical_manifest([b, a])


def test_tool_folders_are_ignored_and_reported(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data")
    for ignored in (".git", "sub/__pycache__", ".ipynb_checkpoints"):
        (root / ignored).mkdir()
        (root / ignored / "x").write_text("noise")
    m = build_manifest(root)
    assert [f.path for f in m.files] == [".hidden", "a.csv", "sub/b.bin"]
    assert m.ignored == (".git", ".ipynb_checkpoints", "sub/__pycache__")


def test_a_single_file_is_a_dataset(tmp_path: Path) -> None:
    path = tmp_path / "iris.csv"
    path.write_text("a\n1\n")
    m = build_manifest(path)
    assert m.is_file and [(f.path, f.size) for f in m.files] == [("iris.csv", 4)]
    assert default_name(path) == "iris"


def test_default_names_are_sanitised(tmp_path: Path) -> None:
    odd = tmp_path / "My Data (v2)!"
    odd.mkdir()
    assert default_name(odd) == "My-Data-v2-"
    hidden = tmp_path / "..."
    hidden.mkdir()
    with pytest.raises(DatasetError, match="--name"):
        default_name(hidden)


def test_symlinks_inside_are_followed_outside_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data")
    (root / "alias.csv").symlink_to(root / "a.csv")
    (root / "subalias").symlink_to(root / "sub", target_is_directory=True)
    m = build_manifest(root)
    by_path = {f.path: f.sha256 for f in m.files}
    assert by_path["alias.csv"] == by_path["a.csv"]
    assert by_path["subalias/b.bin"] == by_path["sub/b.bin"]
    outside = tmp_path / "outside.txt"
    outside.write_text("elsewhere")
    (root / "out").symlink_to(outside)
    with pytest.raises(DatasetError, match="outside the dataset"):
        scan(root)


def test_symlink_loops_and_broken_links_are_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    with pytest.raises(DatasetError, match="loop"):
        scan(root)
    (root / "sub" / "loop").unlink()
    (root / "broken").symlink_to(root / "nothing")
    with pytest.raises(DatasetError, match="broken symlink"):
        scan(root)


def test_special_files_are_refused_not_skipped(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data")
    os.mkfifo(root / "pipe")
    with pytest.raises(DatasetError, match="not a regular file"):
        scan(root)


@pytest.mark.parametrize("bad", ["relative/path", "/", "/proc/self"])
def test_bad_roots_are_refused(bad: str) -> None:
    with pytest.raises(DatasetError):
        scan(bad)


def test_a_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        scan(tmp_path / "nope")


# -- the cache ----------------------------------------------------------------------


def test_unchanged_files_are_not_read_again(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data")
    cache_file = tmp_path / "cache" / "file-hashes.sqlite"
    with HashCache(cache_file, racy_ns=0) as cache:
        first = build_manifest(root, cache)
    assert (first.stats.files_hashed, first.stats.files_cached) == (3, 0)
    with HashCache(cache_file, racy_ns=0) as cache:  # a new process would open it anew
        second = build_manifest(root, cache)
        assert (second.stats.files_hashed, second.stats.files_cached) == (0, 3)
        assert cache.counters.hits == 3 and cache.counters.misses == 0
    assert second.manifest_hash == first.manifest_hash
    (root / "a.csv").write_text("x,y\n9,9\n")
    with HashCache(cache_file, racy_ns=0) as cache:
        third = build_manifest(root, cache)
    assert (third.stats.files_hashed, third.stats.files_cached) == (1, 2)
    assert third.stats.bytes_hashed == (root / "a.csv").stat().st_size
    assert third.manifest_hash != first.manifest_hash


def test_a_file_changed_just_before_hashing_is_not_trusted(tmp_path: Path) -> None:
    """Racy entries: the file's ctime is within the margin of its hash time."""
    root = make_tree(tmp_path / "data")
    with HashCache(tmp_path / "c.sqlite", racy_ns=3600 * 10**9) as cache:
        build_manifest(root, cache)
        again = build_manifest(root, cache)
        assert again.stats.files_hashed == 3 and cache.counters.racy == 3


def test_same_size_same_mtime_rewrite_is_caught_by_ctime(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "data")
    path = root / "a.csv"
    with HashCache(tmp_path / "c.sqlite", racy_ns=0) as cache:
        build_manifest(root, cache)
        st = path.stat()
        while path.stat().st_ctime_ns == st.st_ctime_ns:  # a later clock tick than the hash's
            path.write_text("x,y\n1,5\n")  # same size
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime set back
        assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
        m = build_manifest(root, cache)
    assert {f.path: f.sha256 for f in m.files}["a.csv"] == sha(path)
    assert m.stats.files_hashed == 1


def test_two_writers_share_the_cache(tmp_path: Path) -> None:
    roots = [make_tree(tmp_path / f"d{i}") for i in range(4)]
    cache_file = tmp_path / "shared.sqlite"
    errors: list[BaseException] = []

    def work(root: Path) -> None:
        try:
            for _ in range(3):
                with HashCache(cache_file, racy_ns=0) as cache:
                    build_manifest(root, cache)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(r,)) for r in roots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with HashCache(cache_file, racy_ns=0) as cache:
        for root in roots:
            assert build_manifest(root, cache).stats.files_hashed == 0


def test_a_corrupt_cache_is_replaced(tmp_path: Path) -> None:
    cache_file = tmp_path / "c.sqlite"
    cache_file.write_bytes(b"this is not a database" * 100)
    root = make_tree(tmp_path / "data")
    with HashCache(cache_file, racy_ns=0) as cache:
        assert build_manifest(root, cache).stats.files_hashed == 3
    with HashCache(cache_file, racy_ns=0) as cache:
        assert build_manifest(root, cache).stats.files_hashed == 0
