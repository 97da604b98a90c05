"""Start-up checks (cases.health) against the real PostgreSQL and Redis: every way an
operator commonly gets the services wrong gives one readable line with no password in
it, and the shipped gunicorn configurations stop with those lines instead of tracebacks."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cases.health import (
    ServiceError,
    check_database,
    check_redis,
    check_services,
    database_problems,
    redis_problems,
)
from cases.store import Store
from config import ConfigError, Settings

SECRET = "hunter2-not-in-any-message"


@pytest.fixture
def empty_pg(pg_url: str) -> Iterator[str]:
    """A second, empty PostgreSQL database (no Sealbox tables)."""
    name = make_url(pg_url).database + "_health"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


def test_migrated_database_passes(any_store: Store) -> None:
    check_database(any_store)
    check_services(any_store.settings, any_store)


def test_unreachable_postgres_names_host_not_password() -> None:
    url = f"postgresql+psycopg://sealbox_app:{SECRET}@127.0.0.1:{_closed_port()}/sealbox"
    [problem] = database_problems(url)
    assert problem.startswith("database postgresql+psycopg://sealbox_app:***@127.0.0.1:")
    assert "is not reachable" in problem and "Connection refused" in problem
    assert SECRET not in problem and "\n" not in problem


def test_wrong_database_or_role_is_named(pg_url: str) -> None:
    missing_db = make_url(pg_url).set(database="sealbox_no_such_db")
    [problem] = database_problems(missing_db.render_as_string(hide_password=False))
    assert 'database "sealbox_no_such_db" does not exist' in problem
    missing_role = make_url(pg_url).set(username="sealbox_no_such_role", password=SECRET)
    [problem] = database_problems(missing_role.render_as_string(hide_password=False))
    assert "sealbox_no_such_role" in problem and SECRET not in problem


def test_unmigrated_postgres_says_run_db_upgrade(empty_pg: str) -> None:
    [problem] = database_problems(empty_pg)
    assert "has no Sealbox tables: run `sealbox db upgrade`" in problem
    assert database_problems(empty_pg, schema=False) == []


def test_database_newer_than_code_is_named(settings: Settings, tmp_path: Path) -> None:
    from dataclasses import replace

    url = f"sqlite:///{tmp_path / 'newer.db'}"
    store = Store(replace(settings, database_url=url))
    store.migrate()
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    with pytest.raises(ServiceError) as caught:
        check_database(store)
    store.dispose()
    [problem] = caught.value.problems
    assert "revision ffffffffffff, which this version of Sealbox does not know" in problem


def test_unusable_urls_are_explained(tmp_path: Path) -> None:
    [p] = database_problems("postgresql+psycopg2://u@h/db")
    assert "psycopg2" in p and "postgresql+psycopg://" in p
    [p] = database_problems("mysql+pymysql://u@h/db")
    assert "only SQLite and PostgreSQL" in p
    [p] = database_problems("not a url")
    assert "not a valid SQLAlchemy URL" in p
    [p] = database_problems(f"sqlite:///{tmp_path}/missing/dir/x.db")
    assert "unable to open database file" in p


def test_redis_checks(redis_url: str) -> None:
    assert redis_problems(redis_url) == []
    check_redis(redis_url)
    assert redis_problems("memory://") == []
    [p] = redis_problems(f"redis://sealbox:{SECRET}@127.0.0.1:{_closed_port()}/0")
    assert "is not reachable" in p and "sealbox:***@" in p and SECRET not in p
    [p] = redis_problems(make_url_db(redis_url, 999))
    assert "DB index is out of range" in p


def make_url_db(url: str, db: int) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


def test_check_services_reports_every_problem_at_once(settings: Settings) -> None:
    from dataclasses import replace

    broken = replace(
        settings,
        database_url=f"postgresql+psycopg://u:{SECRET}@127.0.0.1:{_closed_port()}/x",
        ratelimit_storage_uri=f"redis://127.0.0.1:{_closed_port()}/0",
    )
    with pytest.raises(ConfigError) as caught:
        check_services(broken)
    assert isinstance(caught.value, ServiceError)
    assert [p.split()[0] for p in caught.value.problems] == ["database", "Redis"]
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("app", ["intake", "caseworker"])
def test_gunicorn_stops_with_one_line_per_problem(
    app: str, deploy_dir: Path, venv_bin: Path, tmp_path: Path
) -> None:
    from config import init_instance

    instance = tmp_path / "instance"
    init_instance(instance)
    (tmp_path / "stub_app.py").write_text(
        "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'']\n"
    )
    env = {
        **os.environ,
        "SEALBOX_INSTANCE_PATH": str(instance),
        "SEALBOX_DATABASE_URL": f"postgresql+psycopg://sealbox:{SECRET}@127.0.0.1:{_closed_port()}/sealbox",
        "SEALBOX_RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{_closed_port()}/0",
        f"SEALBOX_{app.upper()}_BIND": f"127.0.0.1:{_closed_port()}",
    }
    result = subprocess.run(
        [
            str(venv_bin / "gunicorn"),
            "--config",
            str(deploy_dir / f"gunicorn.{app}.conf.py"),
            "--chdir",
            str(tmp_path),
            "stub_app:app",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [f"sealbox-{app}"] * 2, result.stderr
    assert "database postgresql+psycopg://sealbox:***@127.0.0.1" in lines[0]
    assert "Redis redis://127.0.0.1" in lines[1]
    assert "Traceback" not in result.stderr and SECRET not in result.stderr
