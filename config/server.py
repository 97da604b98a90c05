"""What the gunicorn configurations (``deploy/gunicorn.*.conf.py``) set up for both apps:
the process hardening, the listeners' timeouts, and the worker class. No Flask here.

**Timeouts.** A client that stops sending (a stalled header or body) or stops reading
must not hold a worker thread for ever. gunicorn's threaded worker reads and writes a
request's socket in blocking mode with no deadline, so the kernel gives it one:
``SO_RCVTIMEO`` and ``SO_SNDTIMEO`` set on a listening socket are copied by Linux to every
connection it accepts, and a blocking ``recv`` or ``send`` then fails with ``EAGAIN``
after that long without progress. gunicorn closes such a connection; inside the app, a
body read that fails so is answered 408 (``config.requestbody.StalledBody``).

**The worker.** gunicorn's threaded worker closes every connection it does not keep alive
on its main thread, lingering up to two seconds to read what the client may still send
(RFC 9112 9.6). A client that stalled never sends anything or closes, so each such close
stopped the main loop, and with it every new connection, for two seconds: 500 stalled
connections timing out together stopped the worker accepting for over a quarter of an
hour. :class:`ThreadWorker` lingers in the request's own thread instead, of which there
are many, and leaves the main loop free.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from typing import Any

from gunicorn.workers.gthread import ThreadWorker as _GunicornThreadWorker


def set_io_timeouts(listeners: Iterable[Any], seconds: int) -> None:
    """Every connection accepted on ``listeners`` gets ``seconds`` of read and write
    timeout (0 leaves them without)."""
    if seconds <= 0:
        return
    timeval = struct.pack("ll", seconds, 0)
    for listener in listeners:
        for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
            listener.setsockopt(socket.SOL_SOCKET, option, timeval)


def harden_process() -> None:
    """No core dumps and no ptrace or ``/proc/<pid>/mem`` reading by other processes of
    the same user: decrypted reports and unwrapped keys live in the apps' memory. Called
    in gunicorn's master; workers inherit both (fork keeps them)."""
    import resource
    import sys

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_dumpable = 4
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)


_CLOSED = object()  # handle() has already closed the connection


class ThreadWorker(_GunicornThreadWorker):  # type: ignore[misc]
    """gunicorn's ``gthread`` worker whose lingering close runs off the main loop."""

    def handle(self, conn: Any) -> Any:
        result = super().handle(conn)
        if result is False:
            conn.close(graceful=True)  # up to two seconds, in this connection's thread
            return _CLOSED
        return result

    def finish_request(self, conn: Any, fs: Any) -> None:
        if not fs.cancelled() and fs.exception() is None and fs.result() is _CLOSED:
            self.nr_conns -= 1
            return
        super().finish_request(conn, fs)
