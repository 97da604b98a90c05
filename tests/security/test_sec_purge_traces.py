"""A purged case leaves nothing of itself in any file of the instance (SQLite).

Crypto-shredding deletes a case's wrapped keys; SQLite's ``secure_delete`` overwrites
deleted rows, but only in the main database file: until a checkpoint, the write-ahead log
keeps the pages as they were. Here a case with a file is submitted, closed and purged by
the real ``sealbox purge`` command and by the admin page, and every file in the instance
folder (database, WAL, SHM, blob store) is searched for the bytes of its wrapped keys and
ciphertexts. (PostgreSQL keeps deleted rows' bytes until their space is reused: that is
the residual risk written in docs/THREAT_MODEL.md.)
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from secapp import cw_csrf, signed_in_caseworker
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cases.models import Attachment, Case, Caseworker, Message, Status, WrappedKey
from cases.reporting.submission import Submission, new_submission
from cases.store import Store

CLOSED_LONG_AGO = dt.date(2020, 1, 1)


@pytest.fixture
def sqlite_store(store: Store) -> Store:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's files: PostgreSQL's residual is documented, not scrubbed")
    return store


def _reviewer(db: Session) -> int:
    """Any account, recorded as the second caseworker who reviewed the closure."""
    account = Caseworker(username="reviewer", is_caseworker=True)
    db.add(account)
    db.flush()
    return int(account.id)


def _closed_case(store: Store) -> tuple[str, list[bytes]]:
    """Submit and close a case; return its id and distinctive slices of its secrets."""
    with new_submission(store) as draft:
        upload = draft.new_attachment()
        upload.write(os.urandom(200_000))
        draft.attach(upload, "evidence.bin", "application/octet-stream")
        draft.finalize(Submission(report={"text": "purge me"}, identity={"name": "A. Person"}))
        case_id = draft.case_id
    with store.transaction() as db:
        db.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(status=Status.CLOSED, closed_on=CLOSED_LONG_AGO,
                    closure_reviewed_by_id=_reviewer(db))
        )
        values: list[bytes] = [
            *db.scalars(select(WrappedKey.wrapped).where(WrappedKey.case_id == case_id)),
            *db.scalars(select(Message.ciphertext).where(Message.case_id == case_id)),
            *db.scalars(
                select(Attachment.file_key_ciphertext).where(Attachment.case_id == case_id)
            ),
        ]
    # 24 bytes from inside each ciphertext: random, so found only where the row still is.
    return case_id, [v[20:44] for v in values]


def _traces(instance: Path, secrets: list[bytes]) -> list[str]:
    found = []
    for path in sorted(p for p in instance.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.name}: secret {i}" for i, s in enumerate(secrets) if s in data]
    return found


def test_sealbox_purge_leaves_no_trace_of_the_case_in_the_instance(sqlite_store: Store) -> None:
    store = sqlite_store
    case_id, secrets = _closed_case(store)
    instance = store.settings.instance_path
    assert _traces(instance, secrets)  # the scan finds them while the case exists
    store.dispose()
    # The apps keep their connections open while the daily purge runs: SQLite then does
    # not checkpoint and remove the log when the purge's own connection closes.
    running_app = sqlite3.connect(instance / "sealbox.db", isolation_level=None)
    try:
        assert running_app.execute("select count(*) from cases").fetchone() == (1,)
        sealbox = Path(sys.executable).with_name("sealbox")
        done = subprocess.run(
            [str(sealbox), "purge", "--instance", str(instance)],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert case_id in done.stdout
        assert _traces(instance, secrets) == []
    finally:
        running_app.close()


def test_admin_page_purge_leaves_no_trace_of_the_case(sqlite_store: Store) -> None:
    from caseworker import create_app

    store = sqlite_store
    app = create_app(store.settings, store)
    signed_in_caseworker(store, app, "alice")
    admin, _ = signed_in_caseworker(store, app, "root", caseworker=False, admin=True)
    case_id, secrets = _closed_case(store)
    token = cw_csrf(admin, "/admin/retention")
    done = admin.post("/admin/retention", data={"confirm": "y", "csrf_token": token})
    assert done.status_code == 302
    with store.transaction() as db:
        assert db.get(Case, case_id) is None
    assert _traces(store.settings.instance_path, secrets) == []
