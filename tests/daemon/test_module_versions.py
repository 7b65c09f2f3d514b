"""Module versions in the store, on SQLite and a real PostgreSQL, and migration 0002."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from mlops_daemon.modules import content_hash, entry_module, module_file
from mlops_daemon.store.engine import alembic_config, make_engine
from mlops_daemon.store.models import ModuleVersion
from mlops_daemon.store.repository import Store
from mlops_kernel.schemas import RunQuery, RunSpec

PROJECT = "/srv/project"
SPEC = RunSpec(project="/p", entry_point="train.py")


def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mlops.db'}"
    url: str = request.getfixturevalue("postgres_db_url")
    return url


BACKENDS = ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return db_url(request, tmp_path)


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    s = Store(url)
    try:
        yield s
    finally:
        s.close()


def record(
    store: Store, digest: str, path: str = "pkg/train.py", project: str = PROJECT, **kw: Any
) -> tuple[ModuleVersion, bool]:
    return store.record_module_version(
        project,
        path.removesuffix(".py").replace("/", "."),
        path,
        f"sha256:{digest}",
        notebook_path="/srv/project/train.ipynb",
        notebook_hash="sha256:nb",
        cell_ids=["a", "b"],
        **kw,
    )


def test_each_new_content_is_the_next_version(store: Store) -> None:
    first, created = record(store, "aa", git_sha="1111", diff="+x\n")
    assert created and first.version == 1
    assert first.cell_ids == ["a", "b"] and first.git_sha == "1111" and first.diff == "+x\n"
    second, created = record(store, "bb", git_sha="2222")
    assert created and second.version == 2 and second.id != first.id
    again, created = record(store, "aa", git_sha="3333")
    assert not created
    assert (again.id, again.version, again.git_sha) == (first.id, 1, "1111")
    assert [v.version for v in store.module_versions(PROJECT)] == [1, 2]


def test_versions_are_numbered_per_project_and_module_path(store: Store) -> None:
    record(store, "aa")
    record(store, "bb")
    other_path, _ = record(store, "aa", path="pkg/evaluate.py")
    other_project, _ = record(store, "aa", project="/srv/other")
    assert other_path.version == 1
    assert other_project.version == 1
    rows = store.module_versions(PROJECT)
    assert [(r.module_path, r.version) for r in rows] == [
        ("pkg/evaluate.py", 1),
        ("pkg/train.py", 1),
        ("pkg/train.py", 2),
    ]
    assert [r.version for r in store.module_versions(PROJECT, "pkg/train.py")] == [1, 2]
    assert store.module_versions("/srv/nowhere") == []
    listed = store.list_modules("/srv/other")
    assert [(m.project, m.module, m.version) for m in listed.modules] == [
        ("/srv/other", "pkg.train", 1)
    ]
    assert len(store.list_modules().modules) == 4


def test_a_version_is_found_by_its_content(store: Store) -> None:
    row, _ = record(store, "aa")
    found = store.module_version_for(PROJECT, "pkg/train.py", "sha256:aa")
    assert found is not None and found.id == row.id
    assert store.module_version_for(PROJECT, "pkg/train.py", "sha256:zz") is None
    assert store.module_version_for(PROJECT, "pkg/other.py", "sha256:aa") is None
    assert store.module_version_for("/srv/nowhere", "pkg/train.py", "sha256:aa") is None


def test_the_unique_constraints_hold(store: Store) -> None:
    row, _ = record(store, "aa")
    with pytest.raises(IntegrityError), store.session(write=True) as s:
        dup = row.model_copy(update={"id": "other-id", "version": 2})
        s.add(ModuleVersion.model_validate(dup.model_dump()))


def test_concurrent_recorders_get_one_version_each(store: Store) -> None:
    """Writers recording at once never share or skip a version number."""
    results: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(5):
            row, _ = record(store, f"{n}-{i}")
            with lock:
                results.append(row.version)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(1, 21))


def test_runs_show_the_module_version_they_trained(store: Store) -> None:
    row, _ = record(store, "aa", git_sha="abc")
    spec = RunSpec(project=PROJECT, entry_point="pkg.train:main")
    store.create_run("r1", spec, "local", Path("/tmp/r1"), row.id)
    store.create_run("r2", spec, "local", Path("/tmp/r2"))
    linked = store.get_run("r1").module_version
    assert linked is not None
    assert (linked.id, linked.module, linked.version, linked.git_sha) == (
        row.id,
        "pkg.train",
        1,
        "abc",
    )
    assert store.get_run("r2").module_version is None
    page = {r.id: r.module_version for r in store.list_runs(RunQuery()).runs}
    assert page["r1"] == linked and page["r2"] is None
    assert store.get_row("r1").module_version_id == row.id


# -- migration 0002 ------------------------------------------------------------------


def _fill_at_0001(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(
            text("insert into project (id, path, name, created_at) values (1, '/p', 'p', :t)"),
            {"t": "2026-01-01 00:00:00"},
        )
        c.execute(
            text(
                "insert into run (id, project_id, entry_point, executor, status, spec_json, "
                "run_dir, created_at, cancel_requested, metrics_offset, tags_json) values "
                "('r1', 1, 'train.py', 'local', 'succeeded', :spec, '/tmp/r1', :t, false, 3, '{}')"
            ),
            {"t": "2026-01-01 00:00:00", "spec": SPEC.model_dump_json()},
        )
        c.execute(text("insert into param values ('r1', 'lr', '0.1', 0.1)"))
        c.execute(text("insert into metric values ('r1', 'loss', 0, 0, 0.5, 1)"))
        c.execute(text("insert into latest_metric values ('r1', 'loss', 0, 0.5, 1)"))
        c.execute(text("insert into artifact values ('r1', 'model.pkl', 10, null)"))


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {
            t: int(c.execute(text(f"select count(*) from {t}")).scalar_one())
            for t in ("run", "param", "metric", "latest_metric", "artifact")
        }


def test_upgrading_a_filled_database_keeps_every_row(url: str) -> None:
    """0002 rebuilds the run table on SQLite: its params, metrics and artifacts (all
    ON DELETE CASCADE) must survive, and so they must on the way down and up again."""
    engine = make_engine(url)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "0001")
        _fill_at_0001(engine)
        full = {"run": 1, "param": 1, "metric": 1, "latest_metric": 1, "artifact": 1}
        assert _counts(engine) == full
        command.upgrade(config, "head")
        assert _counts(engine) == full
        with engine.connect() as c:
            assert c.execute(text("select module_version_id from run")).scalar_one() is None
            if engine.dialect.name == "sqlite":
                assert c.execute(text("pragma foreign_keys")).scalar_one() == 1
        command.downgrade(config, "0001")
        assert _counts(engine) == full
        command.upgrade(config, "head")
        assert _counts(engine) == full
    finally:
        engine.dispose()
    store = Store(url)  # the models agree with the migrated schema
    try:
        assert store.get_run("r1").params == {"lr": 0.1}
        row, _ = store.record_module_version("/p", "pkg.m", "pkg/m.py", "sha256:aa")
        assert row.version == 1
    finally:
        store.close()


def test_deleting_a_version_unlinks_its_runs(store: Store) -> None:
    row, _ = record(store, "aa")
    store.create_run(
        "r1", RunSpec(project=PROJECT, entry_point="x.py"), "local", Path("/t"), row.id
    )
    with store.session(write=True) as s:
        s.execute(text("delete from module_version"))
    assert store.get_row("r1").module_version_id is None


# -- which file a run's entry point runs, and its hash -----------------------------------


def test_entry_points_find_their_module_file(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "train.py").write_bytes(b"def main(): pass\n")
    (tmp_path / "pkg" / "sub" / "__init__.py").write_bytes(b"def main(): pass\n")
    (tmp_path / "run.py").write_bytes(b"print(1)\n")
    assert module_file(tmp_path, "pkg.train:main") == tmp_path / "pkg" / "train.py"
    assert module_file(tmp_path, "pkg.sub:main") == tmp_path / "pkg" / "sub" / "__init__.py"
    assert module_file(tmp_path, "run.py") == tmp_path / "run.py"
    for missing in ("pkg.nope:main", "sklearn.base:clone", "nope.py", "../x.py", "bad entry:"):
        assert module_file(tmp_path, missing) is None, missing
    found = entry_module(str(tmp_path), "pkg.train:main")
    assert found == (
        str(tmp_path.resolve()),
        "pkg/train.py",
        # the kernel's rule: "sha256:" + hex SHA-256 of the file's bytes
        "sha256:" + hashlib.sha256(b"def main(): pass\n").hexdigest(),
    )
    assert content_hash(b"") == (
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert entry_module(str(tmp_path / "nowhere"), "pkg.train:main") is None
