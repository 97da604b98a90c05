"""Fixtures for the security and reliability suite (issue 6).

``scanner`` is the reusable "no plaintext, no identifiers" check: a
:class:`secutil.Scanner` already pointed at everything the test's system can write to —
the instance folder (SQLite file, WAL, SHM, blob store, logs), a fresh temporary directory
that TMPDIR and ``tempfile`` point at for the test, the PostgreSQL database (``pg_dump``)
when the run uses ``--db=postgres``, and the appended part of PostgreSQL's server log.
Tests add their own sources (a server's stdout/stderr, ``caplog`` text) and call
``scanner.assert_clean(markers)``.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from secutil import Scanner

from cases.store import Store

PG_LOG_DIR = Path("/var/log/postgresql")


@pytest.fixture
def sec_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh temporary directory that this process (and any child started with the
    inherited environment) uses for every temporary file."""
    path = tmp_path / "tmp"
    path.mkdir()
    for var in ("TMPDIR", "TEMP", "TMP", "SQLITE_TMPDIR"):
        monkeypatch.setenv(var, str(path))
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


@pytest.fixture
def scanner(sec_tmpdir: Path, store: Store) -> Iterator[Scanner]:
    s = Scanner()
    s.add_path(store.settings.instance_path)
    s.add_path(sec_tmpdir)
    if store.engine.dialect.name == "postgresql":
        s.add_postgres(store.settings.sqlalchemy_url)
        if PG_LOG_DIR.is_dir():
            for log in PG_LOG_DIR.glob("*.log"):
                s.add_log_tail(log)
    yield s
