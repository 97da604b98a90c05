"""Reading a stream a few pieces ahead in a thread of its own (the caseworker's download
decrypts the next chunks while the server sends the previous ones)."""

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
