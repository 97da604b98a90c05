"""Ports and readiness for the tests that start real servers (gunicorn, nginx, tor, the
browser suite's apps): one home, so every suite gets the same protection against ports
that collide."""

from __future__ import annotations

import secrets
import socket
import subprocess
import time

_HANDED_OUT: set[int] = set()
_LOW, _HIGH = 20000, 32000  # below Linux's ephemeral range (32768-60999 by default)


def free_port() -> int:
    """A port that no other test of this run was given, below the ephemeral range.

    A port from ``bind(0)`` is an ephemeral one: any outgoing connection (gunicorn's to
    Redis, a readiness probe's own source port) can take it before the server under test
    binds it, and a probe can even connect to itself on it. Ports below the range are
    never chosen as source ports."""
    for _ in range(500):
        port = _LOW + secrets.randbelow(_HIGH - _LOW)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free port between {_LOW} and {_HIGH}")


def wait_for_port(
    port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 30
) -> None:
    """Return once something accepts TCP connections on 127.0.0.1:``port``; raise
    RuntimeError if ``proc`` exits first and TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")
