"""Alembic: empty -> head -> base on both databases, and the models match the migrations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from cases.db import Base, make_engine
from cases.store import alembic_config


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[str, Engine]]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
        engine = make_engine(url)
        yield url, engine
        engine.dispose()
        return
    base_url: str = request.getfixturevalue("pg_url")
    name = make_url(base_url).database + "_mig"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _run(engine: Engine, url: str, verb: str, target: str) -> None:
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, target)


def test_upgrade_matches_models_and_downgrades_clean(empty_db: tuple[str, Engine]) -> None:
    url, engine = empty_db
    _run(engine, url, "upgrade", "head")
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == [], f"models and migrations differ: {diff}"
    _run(engine, url, "downgrade", "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}


def _caseworker_row(conn, username: str, display_name: str) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        text(
            "INSERT INTO caseworkers (username, display_name, password_hash, public_key,"
            " wrapped_private_key, totp_last_counter, is_caseworker, is_custodian, is_admin,"
            " active, failed_logins, created_at, language) VALUES (:u, :d, 'h', :k, :w, 0,"
            " true, false, false, true, 0, '2026-01-01 00:00:00', 'en')"
        ),
        {"u": username, "d": display_name, "k": bytes(32), "w": bytes(97)},
    )


def test_0002_clears_display_names_copied_from_usernames_and_back(
    empty_db: tuple[str, Engine],
) -> None:
    url, engine = empty_db
    _run(engine, url, "upgrade", "0001")
    with engine.begin() as conn:
        _caseworker_row(conn, "alice", "alice")  # copied by the old create_caseworker
        _caseworker_row(conn, "bob", "Bob Martin")
    _run(engine, url, "upgrade", "0002")
    with engine.connect() as conn:
        query = "SELECT username, display_name || '|' || team FROM caseworkers"
        rows = dict(conn.execute(text(query)).all())
    assert rows == {"alice": "|", "bob": "Bob Martin|"}
    _run(engine, url, "downgrade", "0001")
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT username, display_name FROM caseworkers")).all())
    assert rows == {"alice": "alice", "bob": "Bob Martin"}
