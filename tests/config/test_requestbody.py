"""config.requestbody: what a broken, reset, stalled or trickling body becomes, read
through a real socket pair where the kernel's part matters."""

from __future__ import annotations

import errno
import io
import socket
import struct
import threading
import time

import pytest

from config.requestbody import (
    CutBody,
    GuardedInput,
    MalformedBody,
    MinimumRate,
    StalledBody,
    bytes_received,
)


class _Failing(io.RawIOBase):
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def read(self, size: int = -1) -> bytes:
        raise self.error


class ParseException(Exception):  # what gunicorn.http.errors raises
    pass


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ParseException("Invalid chunk size: zz"), MalformedBody),
        (ConnectionResetError(errno.ECONNRESET, "reset"), CutBody),
        (BlockingIOError(errno.EAGAIN, "SO_RCVTIMEO"), StalledBody),
        (TimeoutError("timed out"), StalledBody),
    ],
)
def test_each_read_fault_becomes_its_exception(error: BaseException, expected: type) -> None:
    body = GuardedInput(_Failing(error))  # type: ignore[arg-type]
    with pytest.raises(expected) as raised:
        body.read(10)
    assert raised.value.status == (408 if expected is StalledBody else 400)


def test_a_healthy_body_reads_unchanged() -> None:
    body = GuardedInput(io.BytesIO(b"receipt=1234\nmore\n"))
    assert body.readline() == b"receipt=1234\n"
    assert list(body) == [b"more\n"]


class _SocketBody(io.RawIOBase):
    """Reads as gunicorn's body reader does: ``recv`` until ``size`` bytes have come."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def read(self, size: int = -1) -> bytes:
        data = b""
        while len(data) < size:
            piece = self.sock.recv(size - len(data))
            if not piece:
                break
            data += piece
        return data


def _pair() -> tuple[socket.socket, socket.socket]:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    return client, server


def test_the_kernel_counts_what_a_connection_received() -> None:
    client, server = _pair()
    with client, server:
        client.sendall(b"x" * 5000)
        time.sleep(0.1)
        assert bytes_received(server) == 5000


def test_a_trickle_below_the_rate_is_cut_while_being_read() -> None:
    client, server = _pair()
    with client, server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 5, 0))
        body = GuardedInput(_SocketBody(server), MinimumRate(1024, 0.2), server)
        assert not body.cut_if_too_slow(time.monotonic() + 1)  # not being read: left alone
        client.sendall(b"1")
        assert body.read(1) == b"1"
        cut = threading.Timer(0.5, lambda: body.cut_if_too_slow(time.monotonic()))
        cut.start()
        started = time.monotonic()
        with pytest.raises(StalledBody):
            body.read(100)  # blocked: the cut wakes it long before the 5 s read timeout
        assert time.monotonic() - started < 2
        cut.join()


def test_a_fast_body_is_not_cut() -> None:
    client, server = _pair()
    with client, server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 2, 0))
        body = GuardedInput(_SocketBody(server), MinimumRate(1024, 0.0), server)
        client.sendall(b"x" * 100_000)
        outcome: list[type] = []

        def read_then_wait() -> None:
            body.read(100_000)
            try:
                body.read(1)  # waits for a byte that never comes
            except StalledBody as exc:  # after the 2 s read timeout
                outcome.append(type(exc))

        reader = threading.Thread(target=read_then_wait)
        reader.start()
        time.sleep(0.3)
        assert not body.cut_if_too_slow(time.monotonic())  # 100 kB in 0.3 s: fast enough
        reader.join()
        assert outcome == [StalledBody]
