"""The request body as both apps read it: a broken or stalled body is the client's fault.

The WSGI server decodes the transfer encoding while the app reads ``wsgi.input``. When a
client sends what is not valid HTTP (a chunk size ``zz`` or ``-5``, a chunk without its
CRLF, a bad chunk extension or trailer), gunicorn raises its own parse error from inside
that read, which the app would otherwise answer as a 500 on every route that reads a form.
``guard_request_bodies`` wraps the input so each such fault reaches the app as one of
the exceptions below, with the status each app answers it with, on its usual error page
and headers (plain Python: each app maps them to its own HTTP errors):

* a malformed body -> 400 (``MalformedBody``);
* a client that sent nothing for the socket's read timeout (``config.server``), or
  whose body arrives slower on average than a minimum rate once a grace period has passed
  -> 408 (``StalledBody``);
* a connection reset mid-body -> 400 (``CutBody``).

gunicorn then drains what is left of such a body before it reuses the connection, fails,
and closes it: what remains is never read as the next request.

**The minimum rate.** A client can send one byte every few seconds, never silent for the
read timeout, and so hold a worker thread for hours. The app cannot see how fast bytes
arrive from its own reads (gunicorn returns a read only once it is complete: a 1 MiB read
at one byte a second returns after twelve days), so one watchdog thread per process asks
the kernel instead: every second it reads how many bytes each connection whose body is
being read has received so far (``TCP_INFO``'s ``tcpi_bytes_received``, Linux). A body
below the rate once the grace period has passed is cut (``shutdown(SHUT_RD)`` wakes the
blocked read) and answered 408. Where the kernel has no such counter the rate is not
enforced; the read timeout still is.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# A blocking read that the socket's SO_RCVTIMEO ended (deploy/gunicorn.*.conf.py) fails
# with EAGAIN; a socket with a Python-level timeout raises TimeoutError.
_STALLED = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.ETIMEDOUT})


class UnreadableBody(Exception):
    """The request body could not be read, through the client's fault."""

    status = 400


class MalformedBody(UnreadableBody):
    """What the client sent is not valid HTTP."""


class CutBody(UnreadableBody):
    """The connection was reset before the body was complete."""


class StalledBody(UnreadableBody):
    """Nothing arrived for the read timeout."""

    status = 408


@dataclass(frozen=True)
class MinimumRate:
    bytes_per_second: int
    grace_seconds: float


class GuardedInput:
    """``wsgi.input`` whose read errors are the exceptions above."""

    def __init__(
        self, raw: IO[bytes], rate: MinimumRate | None = None, sock: socket.socket | None = None
    ) -> None:
        self._raw = raw
        self._rate = rate
        self._sock = sock
        self._started = time.monotonic()
        self._reading = False
        self._too_slow = False

    @property
    def watched(self) -> bool:
        return self._rate is not None and self._sock is not None

    def _guarded(self, read: Callable[[], Any]) -> Any:
        self._reading = True
        try:
            data = read()
        except OSError as exc:
            if self._too_slow or isinstance(exc, TimeoutError) or exc.errno in _STALLED:
                raise StalledBody() from None
            raise CutBody() from None
        except Exception as exc:
            if self._too_slow:
                raise StalledBody() from None
            # gunicorn.http.errors.ParseException and its kind (NoMoreData, InvalidChunkSize,
            # ChunkMissingTerminator, InvalidHeader...): any other server's equivalent too.
            raise MalformedBody() from exc
        finally:
            self._reading = False
        if self._too_slow:
            raise StalledBody()
        return data

    def cut_if_too_slow(self, now: float) -> bool:
        """Called by the watchdog: cut a body being read below the minimum rate."""
        if self._rate is None or self._sock is None or not self._reading:
            return False
        elapsed = now - self._started
        if elapsed <= self._rate.grace_seconds:
            return False
        received = bytes_received(self._sock)
        if received is None or received >= self._rate.bytes_per_second * elapsed:
            return False
        self._too_slow = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RD)  # the blocked read returns at once
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._guarded(lambda: self._raw.read(-1 if size is None else size))  # type: ignore[no-any-return]

    def readline(self, size: int | None = -1) -> bytes:
        return self._guarded(lambda: self._raw.readline(-1 if size is None else size))  # type: ignore[no-any-return]

    def readlines(self, hint: int = -1) -> list[bytes]:
        return self._guarded(lambda: self._raw.readlines(hint))  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


# struct tcp_info (linux/tcp.h): tcpi_bytes_received is the u64 at byte 128 (Linux 4.1+).
_TCP_INFO_BYTES_RECEIVED = 128


def bytes_received(sock: socket.socket) -> int | None:
    """How many bytes the kernel has received on this TCP connection, or None."""
    option = getattr(socket, "TCP_INFO", None)
    if option is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, option, 256)
    except OSError:
        return None
    if len(info) < _TCP_INFO_BYTES_RECEIVED + 8:
        return None
    return int(struct.unpack_from("Q", info, _TCP_INFO_BYTES_RECEIVED)[0])


class _Watchdog:
    """One thread per process that checks, every second, the bodies being read."""

    def __init__(self) -> None:
        self._bodies: set[GuardedInput] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, body: GuardedInput) -> None:
        with self._lock:
            self._bodies.add(body)
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                self._thread = threading.Thread(target=self._run, name="body-rate", daemon=True)
                self._thread.start()

    def forget(self, body: GuardedInput) -> None:
        with self._lock:
            self._bodies.discard(body)

    def _run(self) -> None:
        while True:
            time.sleep(1.0)
            self._check_all()

    def _check_all(self) -> None:
        # Its own frame: no reference to a finished request's body outlives the call.
        with self._lock:
            bodies = list(self._bodies)
        now = time.monotonic()
        for body in bodies:
            body.cut_if_too_slow(now)


_watchdog = _Watchdog()


def guard_request_bodies(wsgi_app: WSGIApp, rate: MinimumRate | None = None) -> WSGIApp:
    """The WSGI app with its ``wsgi.input`` guarded (and watched, with a minimum rate)."""

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raw = environ.get("wsgi.input")
        if raw is None:
            return wsgi_app(environ, start_response)
        if not _has_body(environ):  # most requests (GET): nothing to watch or time
            environ["wsgi.input"] = GuardedInput(raw)
            return wsgi_app(environ, start_response)
        sock = environ.get("gunicorn.socket") if rate is not None else None
        body = GuardedInput(raw, rate, sock if isinstance(sock, socket.socket) else None)
        environ["wsgi.input"] = body
        if body.watched:
            _watchdog.watch(body)
        try:
            return wsgi_app(environ, start_response)
        finally:
            _watchdog.forget(body)

    return guarded


def _has_body(environ: dict[str, Any]) -> bool:
    length = environ.get("CONTENT_LENGTH") or "0"
    return length != "0" or "HTTP_TRANSFER_ENCODING" in environ


def minimum_rate(bytes_per_second: int, grace_seconds: int) -> MinimumRate | None:
    """The settings' minimum body rate (0 turns it off)."""
    return MinimumRate(bytes_per_second, grace_seconds) if bytes_per_second > 0 else None
