"""The postgres fixtures give a real, working, isolated PostgreSQL server."""

import psycopg
import pytest
import sqlalchemy
from sqlalchemy.engine import make_url
from support.postgres import fresh_database, psycopg_conninfo

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _database_exists(server_url: str, name: str) -> bool:
    with psycopg.connect(psycopg_conninfo(server_url)) as conn:
        row = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
    return row is not None


def test_server_is_real_postgresql(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://")
    with psycopg.connect(psycopg_conninfo(postgres_url)) as conn:
        row = conn.execute("select version()").fetchone()
    assert row is not None
    assert "PostgreSQL" in row[0]


def test_fresh_database_is_empty_and_usable(postgres_db_url: str) -> None:
    with psycopg.connect(psycopg_conninfo(postgres_db_url)) as conn:
        tables = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'public'"
        ).fetchone()
        assert tables == (0,)
        conn.execute("create table runs (id serial primary key, name text not null)")
        conn.execute("insert into runs (name) values (%s), (%s)", ("a", "b"))
        rows = conn.execute("select name from runs order by id").fetchall()
    assert rows == [("a",), ("b",)]


def test_url_works_with_sqlalchemy(postgres_db_url: str) -> None:
    engine = sqlalchemy.create_engine(postgres_db_url)
    try:
        with engine.begin() as conn:
            assert conn.execute(sqlalchemy.text("select 1 + 1")).scalar_one() == 2
    finally:
        engine.dispose()


def test_databases_are_distinct_isolated_and_dropped(postgres_url: str) -> None:
    with fresh_database(postgres_url) as first, fresh_database(postgres_url) as second:
        first_name, second_name = make_url(first).database, make_url(second).database
        assert first_name != second_name
        with psycopg.connect(psycopg_conninfo(first)) as conn:
            conn.execute("create table only_in_first (x int)")
        with psycopg.connect(psycopg_conninfo(second)) as conn:
            found = conn.execute("select to_regclass('public.only_in_first')").fetchone()
        assert found == (None,)
        # A connection left open (as a leaked engine pool would) must not
        # prevent the drop at the end.
        leaked = psycopg.connect(psycopg_conninfo(second))
    leaked.close()
    assert first_name is not None and second_name is not None
    assert not _database_exists(postgres_url, first_name)
    assert not _database_exists(postgres_url, second_name)
