"""Shared fixtures: fast-but-real settings, and a migrated Store on SQLite or PostgreSQL.

The backend for app-level tests is chosen with ``--db=postgres`` or SEALBOX_TEST_DB=postgres
(CI runs the whole suite both ways). Store-level tests use ``any_store``, which runs on both
whenever PostgreSQL is reachable. PostgreSQL tests get a database of their own, created for
the pytest session and dropped at its end, so concurrent runs never collide.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cases.db import Base
from cases.records.audit import ensure_head
from cases.store import Store
from config import Settings, init_instance, load_settings

# Helper modules every suite may import (netkit); not tests/ itself, whose caseworker/
# and intake/ folders would shadow the packages of those names.
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FAST_KDF = {
    "receipt_kdf_opslimit": 1,
    "receipt_kdf_memlimit_mib": 8,
    "passphrase_kdf_opslimit": 1,
    "passphrase_kdf_memlimit_mib": 8,
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("SEALBOX_TEST_DB", "sqlite"),
        choices=("sqlite", "postgres"),
        help="database for app-level tests (default: sqlite, or $SEALBOX_TEST_DB)",
    )


def _pg_admin_url() -> str:
    return os.environ.get("SEALBOX_TEST_POSTGRES_URL", DEFAULT_PG_ADMIN_URL)


def _pg_reachable() -> str | None:
    """None if reachable, else the one-line reason to skip."""
    try:
        engine = create_engine(_pg_admin_url(), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: skip, and say why
        where = make_url(_pg_admin_url()).render_as_string()
        return f"PostgreSQL not reachable at {where}: {exc.__class__.__name__}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this pytest session."""
    reason = _pg_reachable()
    if reason:
        if os.environ.get("SEALBOX_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"sealbox_t_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_pg_migrated: set[str] = set()


def make_settings(instance: Path, **overrides: object) -> Settings:
    if not (instance / "instance.toml").exists():
        init_instance(instance)
    return load_settings(environ={}, instance_path=instance, **{**FAST_KDF, **overrides})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "instance")


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test copies the file (faster than migrating per test)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    template_settings = make_settings(path.parent / "instance", database_url=f"sqlite:///{path}")
    store = Store(template_settings)
    store.migrate()
    store.dispose()
    return path


def _open_store(backend: str, settings: Settings, request: pytest.FixtureRequest) -> Store:
    if backend == "postgres":
        url: str = request.getfixturevalue("pg_url")
        from dataclasses import replace

        store = Store(replace(settings, database_url=url))
        if url not in _pg_migrated:
            store.migrate()
            _pg_migrated.add(url)
        _empty_postgres(store)
        return store
    template: Path = request.getfixturevalue("_sqlite_template")
    db = settings.instance_path / "sealbox.db"
    shutil.copyfile(template, db)
    return Store(settings)


def _empty_postgres(store: Store) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    with store.transaction() as session:
        ensure_head(session)


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture
def store(settings: Settings, db_backend: str, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A migrated, empty Store on the backend chosen for this run."""
    s = _open_store(db_backend, settings, request)
    yield s
    s.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A migrated, empty Store, once on SQLite and once on PostgreSQL."""
    s = _open_store(request.param, settings, request)
    yield s
    s.dispose()


@pytest.fixture
def new_caseworker():  # type: ignore[no-untyped-def]
    """Factory: ``new_caseworker(store, "alice", custodian=True)`` -> (account, private key)."""
    from cases.accounts.enrolment import create_caseworker, unlock

    def make(
        store: Store,
        username: str = "alice",
        passphrase: str = "correct horse battery",
        **roles: bool,
    ):  # type: ignore[no-untyped-def]
        with store.transaction() as session:
            account = create_caseworker(session, store.settings, username, passphrase, **roles)
        return account, unlock(account, passphrase)

    return make


DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis used for rate-limit storage tests ($SEALBOX_TEST_REDIS_URL or the local
    server). Skips when unreachable, but fails when SEALBOX_REQUIRE_REDIS is set (CI)."""
    from cases.health import redis_problems

    url = os.environ.get("SEALBOX_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    problems = redis_problems(url)
    if problems:
        if os.environ.get("SEALBOX_REQUIRE_REDIS"):
            pytest.fail(problems[0])
        pytest.skip(problems[0])
    return url


@pytest.fixture(scope="session", autouse=True)
def _compiled_translations() -> None:
    """Compile the apps' message catalogues (*.po -> *.mo) when a .mo is missing or older
    than its .po, as `make translations` does, so tests see the translated pages."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    for po in sorted(root.glob("*/translations/*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh)
        tmp = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=True)
        tmp.replace(mo)  # atomic: a concurrent run never reads half a file


@pytest.fixture
def accepted() -> Iterator[tuple[str, socket.socket]]:
    """A real connection accepted on a fresh loopback listener: the listener's address (to
    configure as ``onion_listen``) and the server's end of the connection (what gunicorn
    puts in the environ as ``gunicorn.socket``)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        host, port = listener.getsockname()
        with socket.create_connection((host, port)):
            connection, _ = listener.accept()
            with connection:
                yield f"{host}:{port}", connection



@pytest.fixture
def closure_reviewer():  # type: ignore[no-untyped-def]
    """Factory: ``closure_reviewer(store)`` -> the id of an account to record as the second
    caseworker who reviewed a closure, for tests that close cases by a direct UPDATE and
    are about what retention does next (cases.casework.holders has the review itself)."""
    from cases.models import Caseworker

    def make(store: Store) -> int:
        with store.transaction() as session:
            account = Caseworker(username="reviewer-" + secrets.token_hex(4), is_caseworker=True)
            session.add(account)
            session.flush()
            return int(account.id)

    return make
