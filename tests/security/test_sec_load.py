"""Load (bounded): 16 concurrent clients send 160 reports (40 with blobs on the filesystem,
which fsyncs each file) with two attachments each to the
intake under gunicorn (the shipped configuration, 4 workers) on PostgreSQL; then every
case is checked (secload.verify). The larger run is bench/bench_load.py."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from secapp import gunicorn_server
from secload import run_load, summary, verify
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cases.store import Store

GENEROUS = {
    "SEALBOX_SUBMISSIONS_PER_HOUR_PER_CLIENT": "100000",
    "SEALBOX_SUBMISSIONS_PER_MINUTE_GLOBAL": "100000",
    "SEALBOX_LOOKUPS_PER_HOUR_PER_CLIENT": "100000",
    "SEALBOX_LOOKUPS_PER_MINUTE_GLOBAL": "100000",
}


@pytest.fixture
def pg_store(pg_url: str, store: Store) -> Iterator[Store]:
    """A PostgreSQL database of this test's own, whatever --db says."""
    admin = create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"sealbox_load_{os.getpid()}_{int(time.time() * 1000) % 100000}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    s = Store(replace(store.settings, database_url=url))
    s.migrate()
    try:
        yield s
    finally:
        s.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("storage", ["filesystem", "database"])
def test_concurrent_submissions_all_stored_once_and_readable(
    pg_store: Store, sec_tmpdir: Path, tmp_path: Path, storage: str
) -> None:
    store = Store(replace(pg_store.settings, attachment_storage=storage), engine=pg_store.engine)
    server = gunicorn_server(store.settings, sec_tmpdir, tmp_path / "logs", workers=4,
                             **GENEROUS).start()
    try:
        result = run_load(server.base, submissions=160 if storage == "database" else 40,
                          clients=16)
    finally:
        server.stop()
    print(storage, summary(result))
    verify(store, result)
    assert "Traceback" not in server.output()
