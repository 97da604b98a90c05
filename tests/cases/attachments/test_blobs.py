"""The folder blob store's orphans: ciphertext with no attachment row is removed only once
no living request renews it, so the first file of a slow multi-file submission, complete
long before the submission commits, is never taken for an orphan."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

import pytest

from cases.attachments import blobs
from cases.attachments.blobs import FilesystemBlobStore
from cases.store import Store

GRACE = 900.0
BLOB = "00000000000000a1"


def _age(path: Path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_a_file_of_a_living_request_is_renewed_and_kept(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not isinstance(store.blobs, FilesystemBlobStore):
        pytest.skip("the folder store only: database chunks commit with their row")
    monkeypatch.setattr(blobs, "LEASE_RENEWAL_SECONDS", 0.05)
    leases = blobs._Leases()  # this test's own lease thread, renewing every 0.05 s
    path = store.settings.blob_path / BLOB
    with store.transaction() as session:
        first = store.blobs.writer(session, BLOB)
        first.write(b"ciphertext of the first file")
        first.commit()  # complete; its row would commit with the whole submission, later
        leases.hold(first)  # type: ignore[arg-type]
        _age(path, 2 * GRACE)
        time.sleep(0.3)
        assert store.blobs.orphans(session, GRACE) == []  # renewed: still in use

        del first
        gc.collect()  # the request ended without committing (its worker was killed)
        _age(path, 2 * GRACE)
        time.sleep(0.3)  # nobody renews it now
        assert store.blobs.orphans(session, GRACE) == [BLOB]
        assert store.blobs.sweep_orphans(session, GRACE) == 1
    assert not path.exists()
