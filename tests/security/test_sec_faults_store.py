"""Faults below the apps: the database failing at commit, a full disk, a killed process.

Each test uses the real database (SQLite, or PostgreSQL with --db=postgres), the real
blob store and real cryptography, and checks what is left afterwards: no case, no message,
no attachment row, no ciphertext file; then a fresh submission works and decrypts.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from cases.attachments.blobs import FilesystemBlobStore
from cases.content import list_attachments, open_attachment, read_messages
from cases.keyring import reporter_thread_key
from cases.models import (
    READABLE_BY_REPORTER,
    Attachment,
    BlobChunk,
    Case,
    IdentityRecord,
    KeyPurpose,
    Message,
    WrappedKey,
)
from cases.reporting.followup import find_case
from cases.reporting.submission import Submission, new_submission
from cases.store import Store

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


class CommitFailure(RuntimeError):
    pass


def rows(store: Store) -> dict[str, int]:
    with store.transaction() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Case, Message, Attachment, WrappedKey, IdentityRecord, BlobChunk)
        }


def blob_files(store: Store) -> list[Path]:
    root = store.settings.blob_path
    return sorted(root.iterdir()) if root.exists() else []


def submit(store: Store, files: dict[str, bytes], text: str = "report") -> str:
    with new_submission(store) as draft:
        for name, data in files.items():
            upload = draft.new_attachment()
            for i in range(0, len(data), 64 * 1024):
                upload.write(data[i : i + 64 * 1024])
            draft.attach(upload, name, "application/octet-stream")
        return draft.finalize(Submission(report={"text": text}, identity={"name": "N"}))


def assert_decrypts(store: Store, receipt: str, text: str, files: dict[str, bytes]) -> None:
    with store.transaction() as session:
        case, keys = find_case(session, store.settings, receipt)
        assert case is not None
        thread = reporter_thread_key(session, case.id, keys.private_key)
        keys_by_purpose = {KeyPurpose.THREAD: thread}
        messages = read_messages(session, case.id, keys_by_purpose, READABLE_BY_REPORTER)
        assert messages[0].body == {"text": text}
        got = {}
        for meta in list_attachments(session, case.id, thread):
            row = session.get_one(Attachment, meta.id)
            got[meta.name] = b"".join(open_attachment(store.blobs, session, row, thread))
        assert got == files


@pytest.fixture(params=["filesystem", "database"])
def blob_store(request: pytest.FixtureRequest, store: Store) -> Store:
    """The test's store with each attachment storage (same database)."""
    return Store(replace(store.settings, attachment_storage=request.param), engine=store.engine)


def test_commit_failure_leaves_no_case_and_no_ciphertext(blob_store: Store) -> None:
    store = blob_store
    kept = submit(store, {"kept.bin": os.urandom(300_000)}, "kept")
    before, files_before = rows(store), blob_files(store)

    def fail(_conn: object) -> None:
        raise CommitFailure("the database went away at commit")

    event.listen(store.engine, "commit", fail)
    try:
        with pytest.raises(CommitFailure):
            submit(store, {"a.bin": os.urandom(2 * MIB), "b.bin": os.urandom(70_000)}, "lost")
    finally:
        event.remove(store.engine, "commit", fail)
    assert rows(store) == before
    assert blob_files(store) == files_before  # the two new blobs were deleted, kept stays
    # The next submission works and both cases decrypt.
    data = os.urandom(500_000)
    receipt = submit(store, {"next.bin": data}, "next")
    assert_decrypts(store, receipt, "next", {"next.bin": data})
    assert rows(store)["cases"] == before["cases"] + 1
    with store.transaction() as session:
        assert find_case(session, store.settings, kept)[0] is not None


def test_failure_during_flush_leaves_nothing(blob_store: Store) -> None:
    """A statement failing part-way (after the case row and some keys were sent)."""
    store = blob_store
    before, files_before = rows(store), blob_files(store)
    calls = {"n": 0}

    def fail_on_identity(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if statement.lstrip().upper().startswith("INSERT INTO IDENTITY_RECORDS"):
            raise CommitFailure("disk I/O error while writing the identity record")

    event.listen(store.engine, "before_cursor_execute", fail_on_identity)
    try:
        with pytest.raises(CommitFailure):
            submit(store, {"a.bin": os.urandom(1_500_000)})
    finally:
        event.remove(store.engine, "before_cursor_execute", fail_on_identity)
    assert calls["n"] > 3  # the failure came after earlier statements of the same submission
    assert rows(store) == before
    assert blob_files(store) == files_before


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs: the real ENOSPC of a full disk."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a 1 MiB tmpfs, which needs root to mount")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_while_writing_an_attachment(store: Store, tiny_disk: Path) -> None:
    instance = replace(store.settings, attachment_storage="filesystem")
    full = Store(instance, engine=store.engine)
    full.blobs = FilesystemBlobStore(tiny_disk / "blobs")
    before = rows(full)
    small = os.urandom(100_000)
    receipt = submit(full, {"fits.bin": small}, "fits")
    with pytest.raises(OSError) as caught:
        submit(full, {"first.bin": os.urandom(200_000), "too-big.bin": os.urandom(3 * MIB)})
    assert caught.value.errno == errno.ENOSPC
    after = rows(full)
    assert after["cases"] == before["cases"] + 1 and after["attachments"] == 1
    # Nothing partial is kept: only the committed case's ciphertext remains.
    with full.transaction() as session:
        known = set(session.scalars(select(Attachment.id)))
    assert {p.name for p in (tiny_disk / "blobs").iterdir()} == known
    assert_decrypts(full, receipt, "fits", {"fits.bin": small})


# -- a process killed mid-upload ------------------------------------------------------------

_KILLED_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from config import load_settings
    from cases.store import Store
    from cases.reporting.submission import new_submission

    settings = load_settings(environ={}, instance_path=Path(sys.argv[1]),
                             database_url=sys.argv[2], receipt_kdf_opslimit=1,
                             receipt_kdf_memlimit_mib=8)
    store = Store(settings)
    with new_submission(store) as draft:
        upload = draft.new_attachment()
        upload.write(os.urandom(1024 * 1024))
        done = draft.new_attachment()            # a file finished and renamed into place
        done.write(os.urandom(100_000))
        draft.attach(done, "finished.bin", "application/octet-stream")
        print("writing", flush=True)
        while True:                              # the reporter's upload is still streaming
            upload.write(os.urandom(64 * 1024))
            time.sleep(0.01)
    """
)


def test_process_killed_mid_upload_leaves_no_case_and_sweep_removes_ciphertext(
    store: Store,
) -> None:
    if not isinstance(store.blobs, FilesystemBlobStore):
        pytest.skip("filesystem blob store")
    data = os.urandom(200_000)
    kept = submit(store, {"kept.bin": data}, "kept")
    before = rows(store)
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(store.settings.instance_path),
         store.settings.sqlalchemy_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"writing\n"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert rows(store) == before
    with store.transaction() as session:
        known = set(session.scalars(select(Attachment.id)))
    leftovers = [p for p in blob_files(store) if p.name not in known]
    # A killed process cannot clean up: a finished blob and a .tmp- one are left ...
    assert len(leftovers) == 2 and any(p.name.startswith(".tmp-") for p in leftovers)
    # ... which the sweep keeps during the grace period (an upload may still be running) ...
    with store.transaction() as session:
        assert store.blobs.sweep_orphans(session, store.settings.orphan_grace_minutes * 60) == 0
    # ... and removes once it is over; committed ciphertext stays.
    old = time.time() - store.settings.orphan_grace_minutes * 60 - 60
    for path in leftovers:
        os.utime(path, (old, old))
    with store.transaction() as session:
        assert store.blobs.sweep_orphans(session, store.settings.orphan_grace_minutes * 60) == 2
    assert {p.name for p in blob_files(store)} == known
    assert_decrypts(store, kept, "kept", {"kept.bin": data})
