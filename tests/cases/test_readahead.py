"""Writing behind in a thread of its own (cases.readahead.WriteBehind), and an upload to
the filesystem blob store that seals and writes that way: the same ciphertext, in order,
a failure of the disk raised in the request's thread, nothing written after an abort."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from cases.attachments.blobs import DatabaseBlobStore, FilesystemBlobStore
from cases.content import WRITE_BEHIND_BATCH, AttachmentUpload, open_attachment
from cases.models import Attachment
from cases.readahead import WriteBehind
from cases.store import Store
from crypto import new_key


def test_pieces_are_consumed_in_order_in_another_thread() -> None:
    seen: list[bytes] = []
    threads: set[str] = set()

    def consume(piece: bytes) -> None:
        threads.add(threading.current_thread().name)
        seen.append(piece)

    behind = WriteBehind(consume, depth=2)
    for n in range(50):
        behind.put(str(n).encode())
    behind.close()
    assert seen == [str(n).encode() for n in range(50)]
    assert threads == {"sealbox-write-behind"}


def test_a_failure_is_raised_in_the_callers_thread_and_nothing_more_is_consumed() -> None:
    seen: list[bytes] = []

    def consume(piece: bytes) -> None:
        if piece == b"bad":
            raise OSError("disk full")
        seen.append(piece)

    behind = WriteBehind(consume, depth=1)
    behind.put(b"good")
    behind.put(b"bad")
    with pytest.raises(OSError, match="disk full"):
        for _ in range(100):  # raised by a later put, or at the latest by close
            behind.put(b"after")
        behind.close()
    assert seen == [b"good"]


def test_a_cancelled_write_behind_consumes_nothing_more() -> None:
    started, release = threading.Event(), threading.Event()
    seen: list[bytes] = []

    def consume(piece: bytes) -> None:
        started.set()
        release.wait(5)
        seen.append(piece)

    behind = WriteBehind(consume, depth=4)
    behind.put(b"first")
    started.wait(5)
    behind.put(b"queued")
    release.set()
    behind.cancel()
    assert seen == [b"first"]


@pytest.mark.parametrize("kind", ["filesystem", "database"])
def test_an_upload_reads_back_whole_whichever_store_and_thread_wrote_it(
    store: Store, tmp_path: Path, kind: str
) -> None:
    blobs = FilesystemBlobStore(tmp_path / "blobs") if kind == "filesystem" \
        else DatabaseBlobStore()
    key, data = new_key(), os.urandom(3 * WRITE_BEHIND_BATCH + 12345)
    with store.transaction() as session:
        upload = AttachmentUpload(blobs, session, "0123456789abcdef", key, keep_metadata=True)
        assert (upload._behind is not None) == (kind == "filesystem")
        for at in range(0, len(data), 65536):  # as the multipart parser hands it over
            upload.write(data[at:at + 65536])
        row = upload.finish("ledger.bin", "application/octet-stream")
        assert row.ciphertext_size == len(b"".join(
            _stored(blobs, session, row)))  # every byte counted once
        assert b"".join(open_attachment(blobs, session, row, key)) == data


def _stored(blobs: object, session: object, row: Attachment) -> list[bytes]:
    with blobs.open(session, row.id) as source:  # type: ignore[attr-defined]
        return [source.read()]


def test_an_upload_whose_disk_fails_says_so_and_an_aborted_one_leaves_no_file(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    with store.transaction() as session:
        upload = AttachmentUpload(blobs, session, "0123456789abcdef", new_key(),
                                  keep_metadata=True)

        def full(_data: bytes) -> None:
            raise OSError("No space left on device")

        monkeypatch.setattr(upload._writer, "write", full)
        with pytest.raises(OSError, match="No space left"):
            for _ in range(8):
                upload.write(os.urandom(WRITE_BEHIND_BATCH))
            upload.finish("x.bin", "application/octet-stream")
        upload.abort()
        other = AttachmentUpload(blobs, session, "0123456789abcdef", new_key(),
                                 keep_metadata=True)
        other.write(os.urandom(2 * WRITE_BEHIND_BATCH))
        other.abort()
    assert list((tmp_path / "blobs").iterdir()) == []


def test_a_write_behind_left_alone_ends_by_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    from cases import readahead

    monkeypatch.setattr(readahead, "WRITE_BEHIND_IDLE_SECONDS", 0.05)
    behind = WriteBehind(lambda _piece: None)
    behind._worker.join(2)
    assert not behind._worker.is_alive()
    with pytest.raises(TimeoutError):
        behind.put(b"too late")
