"""The request body as both apps read it: a broken or stalled body is the client's fault.

The WSGI server decodes the transfer encoding while the app reads ``wsgi.input``. When a
client sends what is not valid HTTP (a chunk size ``zz`` or ``-5``, a chunk without its
CRLF, a bad chunk extension or trailer), gunicorn raises its own parse error from inside
that read, which the app would otherwise answer as a 500 on every route that reads a form.
``guard_request_bodies`` wraps the input so each such fault reaches the app as one of
the exceptions below, with the status each app answers it with, on its usual error page
and headers (plain Python: each app maps them to its own HTTP errors):

* a malformed body -> 400 (``MalformedBody``);
* a client that sent nothing for the socket's read timeout -> 408 (``StalledBody``);
* a connection reset mid-body -> 400 (``CutBody``).

gunicorn then drains what is left of such a body before it reuses the connection, fails,
and closes it: what remains is never read as the next request.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable, Iterator
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


class GuardedInput:
    """``wsgi.input`` whose read errors are HTTP errors (see the module's docstring)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw

    def _guarded(self, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except OSError as exc:
            if isinstance(exc, TimeoutError) or exc.errno in _STALLED:
                raise StalledBody() from None
            raise CutBody() from None
        except Exception as exc:
            # gunicorn.http.errors.ParseException and its kind (NoMoreData, InvalidChunkSize,
            # ChunkMissingTerminator, InvalidHeader...): any other server's equivalent too.
            raise MalformedBody() from exc

    def read(self, size: int | None = -1) -> bytes:
        return self._guarded(lambda: self._raw.read(-1 if size is None else size))  # type: ignore[no-any-return]

    def readline(self, size: int | None = -1) -> bytes:
        return self._guarded(lambda: self._raw.readline(-1 if size is None else size))  # type: ignore[no-any-return]

    def readlines(self, hint: int = -1) -> list[bytes]:
        return self._guarded(lambda: self._raw.readlines(hint))  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


def guard_request_bodies(wsgi_app: WSGIApp) -> WSGIApp:
    """The WSGI app with its ``wsgi.input`` guarded."""

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raw = environ.get("wsgi.input")
        if raw is not None:
            environ["wsgi.input"] = GuardedInput(raw)
        return wsgi_app(environ, start_response)

    return guarded
