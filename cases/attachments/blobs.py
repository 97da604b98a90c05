"""Attachment ciphertext storage: a local folder (embedded default) or database chunks.

Both stores take only ciphertext (made by ``crypto.FileSealer``) and stream in constant
memory. Writes are staged and become visible on ``commit``; the submission code commits
blobs before the database transaction, and ``sweep_orphans`` removes ciphertext a crash
left without a database row (it is unreadable anyway: its key was never committed).

**Which files are orphans.** In the folder store a file with no attachment row is either
an orphan (its worker was killed before the transaction committed) or part of a request
still being served in another process: a submission's first file is complete long before
its last has arrived over a slow connection. Every process therefore renews, every
minute, the modification time of each file it is still writing or has written for a
request not yet ended (``_Leases``); a file whose time has not moved for
``orphan_grace_minutes`` (15 by default) belongs to no living request and is removed.

**Staged blobs.** A file the reporter's browser seals arrives in pieces over several
requests, before the report it belongs to (``cases.reporting.staged_files``): each piece
is committed as it comes (``stage``), the whole made visible under its id when the report
is stored (``publish``). A staged blob has a ``staged_files`` row, so neither store counts
it an orphan; the daily purge removes a staged blob left for more than a day with its row.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
import time
import weakref
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cases.models import Attachment, BlobChunk, StagedFile

_BLOB_ID = re.compile(r"^[0-9a-f]{16}$")
DB_CHUNK = 1024 * 1024
LEASE_RENEWAL_SECONDS = 60.0


class BlobWriter(Protocol):
    def write(self, data: bytes) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class BlobStore(Protocol):
    def writer(self, session: Session, blob_id: str) -> BlobWriter: ...
    def open(self, session: Session, blob_id: str) -> BinaryIO: ...
    def delete(self, session: Session, blob_id: str) -> None: ...
    def orphans(self, session: Session, grace_seconds: float) -> list[str]: ...
    def sweep_orphans(self, session: Session, grace_seconds: float) -> int: ...
    def stage(self, session: Session, blob_id: str, number: int, offset: int,
              data: bytes) -> None: ...
    def publish(self, session: Session, blob_id: str) -> None: ...
    def discard_staged(self, session: Session, blob_id: str) -> None: ...


class StagedBlobLost(Exception):
    """A staged blob's pieces are not all there (removed as abandoned, or lost in a crash)."""


def _checked(blob_id: str) -> str:
    if not _BLOB_ID.match(blob_id):
        raise ValueError("invalid blob id")
    return blob_id


class _Leases:
    """The files this process's requests are writing, renewed every minute by one thread
    for as long as their writer lives (until the request that made it ends)."""

    def __init__(self) -> None:
        self._writers: weakref.WeakSet[_FileWriter] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, writer: _FileWriter) -> None:
        with self._lock:
            self._writers.add(writer)
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                self._thread = threading.Thread(target=self._run, name="blob-leases", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(LEASE_RENEWAL_SECONDS)
            self._renew_all()

    def _renew_all(self) -> None:
        # Its own frame: no strong reference outlives the call, so a writer whose request
        # has ended is dropped from the weak set, and its file left to age.
        with self._lock:
            writers = list(self._writers)
        for writer in writers:
            writer.renew()


_leases = _Leases()


class _FileWriter:
    def __init__(self, final: Path) -> None:
        self._final = final
        self._tmp = final.with_name(f".tmp-{final.name}")
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._fh = os.fdopen(fd, "wb")
        _leases.hold(self)

    def renew(self) -> None:
        """Mark the file as still in use (see the module docstring)."""
        for path in (self._tmp, self._final):
            with contextlib.suppress(FileNotFoundError):
                os.utime(path)

    def write(self, data: bytes) -> None:
        self._fh.write(data)

    def commit(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self._tmp, self._final)

    def abort(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self._tmp.unlink(missing_ok=True)
        self._final.unlink(missing_ok=True)


class FilesystemBlobStore:
    # Its writer is a file of its own, used by no session: an upload may seal and write in
    # a thread of its own (cases.content.AttachmentUpload). The database store's may not.
    writes_behind = True

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def writer(self, session: Session, blob_id: str) -> BlobWriter:
        return _FileWriter(self.root / _checked(blob_id))

    def open(self, session: Session, blob_id: str) -> BinaryIO:
        return (self.root / _checked(blob_id)).open("rb")

    def delete(self, session: Session, blob_id: str) -> None:
        (self.root / _checked(blob_id)).unlink(missing_ok=True)

    def orphans(self, session: Session, grace_seconds: float) -> list[str]:
        """Files with no attachment row nor staged row, untouched for ``grace_seconds``."""
        known = set(session.scalars(select(Attachment.id)))
        staged = set(session.scalars(select(StagedFile.id)))
        cutoff = time.time() - grace_seconds
        found = []
        for path in sorted(self.root.iterdir()):
            name = path.name.removeprefix(".tmp-")
            if name in staged or (name in known and not path.name.startswith(".tmp-")):
                continue
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    found.append(path.name)
        return found

    def sweep_orphans(self, session: Session, grace_seconds: float) -> int:
        found = self.orphans(session, grace_seconds)
        for name in found:
            (self.root / name).unlink(missing_ok=True)
        return len(found)

    def _staging(self, blob_id: str) -> Path:
        return self.root / f".tmp-{_checked(blob_id)}"

    def stage(self, session: Session, blob_id: str, number: int, offset: int,
              data: bytes) -> None:
        """Write a piece at ``offset``, the size the database says is staged: what a crash
        wrote past it (a piece whose row never committed) is cut off first."""
        path = self._staging(blob_id)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if number == 0 else 0)
        if number == 0:
            path.unlink(missing_ok=True)  # a first piece sent again after a failed commit
        try:
            fd = os.open(path, flags, 0o600)
        except FileNotFoundError:
            raise StagedBlobLost(blob_id) from None
        with os.fdopen(fd, "wb") as fh:
            if os.fstat(fd).st_size < offset:
                raise StagedBlobLost(blob_id)
            fh.truncate(offset)
            fh.seek(offset)
            fh.write(data)

    def publish(self, session: Session, blob_id: str) -> None:
        """Flush the staged file and give it its final name (again: a no-op)."""
        path, final = self._staging(blob_id), self.root / _checked(blob_id)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            if final.exists():
                return  # published by an earlier try whose transaction did not commit
            raise StagedBlobLost(blob_id) from None
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(path, final)

    def discard_staged(self, session: Session, blob_id: str) -> None:
        self._staging(blob_id).unlink(missing_ok=True)
        (self.root / _checked(blob_id)).unlink(missing_ok=True)


class _ChunkWriter:
    def __init__(self, session: Session, blob_id: str) -> None:
        self._session = session
        self._blob_id = blob_id
        self._buffer = bytearray()
        self._position = 0

    def _flush(self, data: bytes) -> None:
        # Core insert, not session.add: ORM objects would pile up in the identity map and
        # hold the whole file in memory until commit.
        self._session.execute(
            insert(BlobChunk),
            [{"blob_id": self._blob_id, "position": self._position, "data": data}],
        )
        self._position += 1

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= DB_CHUNK:
            self._flush(bytes(self._buffer[:DB_CHUNK]))
            del self._buffer[:DB_CHUNK]

    def commit(self) -> None:
        if self._buffer or self._position == 0:
            self._flush(bytes(self._buffer))
            self._buffer.clear()

    def abort(self) -> None:
        self._buffer.clear()
        # If the transaction the chunks were written in failed (the database restarted,
        # the connection was cut), they roll back with it: there is nothing to delete.
        with contextlib.suppress(SQLAlchemyError):
            self._session.execute(delete(BlobChunk).where(BlobChunk.blob_id == self._blob_id))


class _ChunkReader(io.RawIOBase):
    """Reads a blob's chunks one at a time, in order."""

    def __init__(self, session: Session, blob_id: str) -> None:
        self._session = session
        self._blob_id = blob_id
        self._next = 0
        self._current = b""
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._offset >= len(self._current):
            data = self._session.scalar(
                select(BlobChunk.data).where(
                    BlobChunk.blob_id == self._blob_id, BlobChunk.position == self._next
                )
            )
            if data is None:
                return 0
            self._current, self._offset = data, 0
            self._next += 1
        n = min(len(buffer), len(self._current) - self._offset)
        buffer[:n] = self._current[self._offset : self._offset + n]
        self._offset += n
        return n


class DatabaseBlobStore:
    """Chunks live in the same database and commit in the same transaction as the case."""

    def writer(self, session: Session, blob_id: str) -> BlobWriter:
        return _ChunkWriter(session, _checked(blob_id))

    def open(self, session: Session, blob_id: str) -> BinaryIO:
        return io.BufferedReader(_ChunkReader(session, _checked(blob_id)), buffer_size=DB_CHUNK)

    def delete(self, session: Session, blob_id: str) -> None:
        session.execute(delete(BlobChunk).where(BlobChunk.blob_id == _checked(blob_id)))

    # Chunks commit or roll back with their attachment row, or with a staged file's row
    # (removed with it): no orphans can exist.
    def orphans(self, session: Session, grace_seconds: float) -> list[str]:
        return []

    def sweep_orphans(self, session: Session, grace_seconds: float) -> int:
        return 0

    def stage(self, session: Session, blob_id: str, number: int, offset: int,
              data: bytes) -> None:
        """Piece ``number`` is chunk ``number``: the reader takes chunks in order, whatever
        their sizes. It commits with the staged row's new size."""
        if number == 0:  # a first piece sent again after a failed commit
            self.discard_staged(session, blob_id)
        session.execute(insert(BlobChunk),
                        [{"blob_id": _checked(blob_id), "position": number, "data": data}])

    def publish(self, session: Session, blob_id: str) -> None:
        """Already where the attachment reads it."""

    def discard_staged(self, session: Session, blob_id: str) -> None:
        self.delete(session, blob_id)


def make_blob_store(kind: str, root: Path) -> BlobStore:
    return DatabaseBlobStore() if kind == "database" else FilesystemBlobStore(root)
