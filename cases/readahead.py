"""Reading a stream a few pieces ahead, or writing one a few pieces behind, in a thread of
its own (the caseworker's download decrypts the next chunks while the server sends the
previous ones; an upload to the filesystem seals and writes while the next ones arrive)."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Generator, Iterator


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()
READ_AHEAD_PIECES = 4
READ_AHEAD_BATCH = 1024 * 1024
# Far beyond any request's read timeout (config.server): a write-behind thread whose upload
# was neither finished nor aborted (a request that died oddly) ends by itself.
WRITE_BEHIND_IDLE_SECONDS = 900.0


def read_ahead(
    make: Callable[[], Generator[bytes, None, None]],
    depth: int = READ_AHEAD_PIECES,
    batch_bytes: int = READ_AHEAD_BATCH,
) -> Iterator[bytes]:
    """Run the generator ``make()`` in a thread of its own, at most ``depth`` pieces ahead;
    its small pieces are joined into pieces of about ``batch_bytes``.

    For a download: the next chunks are read and decrypted (libsodium releases the GIL)
    while the server thread sends the previous ones, instead of one thread doing both in
    turn (bench/bench_upload.py measured the download at ~0.3x a bare file stream). The
    batches keep the two threads from handing the GIL to each other for every 64 KiB.
    Memory stays flat (``depth`` batches). An exception in ``make()`` (a tampered chunk) is raised
    here, in order; closing this generator (a client gone) stops and closes ``make()``.
    Everything ``make()`` uses (a database session) must be opened inside it: it never
    runs in the caller's thread.
    """
    pieces: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        item: object = _DONE
        batch: list[bytes] = []
        size = 0
        try:
            with contextlib.closing(make()) as source:
                for piece in source:
                    batch.append(piece)
                    size += len(piece)
                    if size >= batch_bytes:
                        pieces.put(b"".join(batch))
                        batch, size = [], 0
                        if stop.is_set():
                            return
            if batch:
                pieces.put(b"".join(batch))
        except BaseException as exc:  # handed to the consumer, raised there
            item = _Failed(exc)
        pieces.put(item)

    worker = threading.Thread(target=produce, name="sealbox-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = pieces.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting for room, let it finish
            with contextlib.suppress(queue.Empty):
                pieces.get(timeout=0.05)
        worker.join()


class WriteBehind:
    """Hand pieces to ``consume`` in a thread of its own, at most ``depth`` pieces behind.

    For an upload: the request thread receives and parses the body while this thread seals
    and writes what came before (libsodium and the file write release the GIL), instead of
    one thread doing all of it in turn (bench/bench_upload.py). Memory stays flat: ``put``
    waits while ``depth`` pieces are queued. An exception in ``consume`` is raised by the
    next ``put`` or by ``close``; nothing more is consumed after it. Whatever ``consume``
    uses must not be used by another thread meanwhile (a database session must not: the
    filesystem blob store's writer is a file of its own).
    """

    def __init__(self, consume: Callable[[bytes], None], depth: int = READ_AHEAD_PIECES,
                 batch_bytes: int = 0) -> None:
        self._consume = consume
        self._batch_bytes = batch_bytes  # small pieces are joined into pieces this large
        self._held: list[bytes] = []
        self._held_size = 0
        self._pieces: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._worker = threading.Thread(target=self._run, name="sealbox-write-behind",
                                        daemon=True)
        self._worker.start()

    def _run(self) -> None:
        while True:
            try:
                piece = self._pieces.get(timeout=WRITE_BEHIND_IDLE_SECONDS)
            except queue.Empty:  # an upload nobody finished nor aborted: do not linger
                self._error = self._error or TimeoutError("no piece for the idle limit")
                return
            if piece is _DONE:
                return
            if self._error is None:
                try:
                    self._consume(piece)  # type: ignore[arg-type]
                except BaseException as exc:  # raised in the request thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, piece: bytes) -> None:
        self._raise()
        self._held.append(piece)
        self._held_size += len(piece)
        if self._held_size >= self._batch_bytes:
            self._hand_over()

    def _hand_over(self) -> None:
        if self._held:
            self._pieces.put(b"".join(self._held))
            self._held, self._held_size = [], 0

    def close(self) -> None:
        """Wait until every piece is consumed; raise what ``consume`` raised."""
        self._raise()
        self._hand_over()
        self._pieces.put(_DONE)
        self._worker.join()
        self._raise()

    def cancel(self) -> None:
        """Consume nothing more and stop (an aborted upload)."""
        if self._error is None:
            self._error = _Cancelled()
        if self._worker.is_alive():
            with contextlib.suppress(queue.Full):
                self._pieces.put(_DONE, timeout=WRITE_BEHIND_IDLE_SECONDS)
            self._worker.join()


class _Cancelled(Exception):
    """The write-behind was cancelled."""
