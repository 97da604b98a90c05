"""Stalled and trickling clients against the intake under real gunicorn, directly and
through the shipped nginx, at a small scale (bench/bench_slow_clients.py measures 500 of
them): they neither stop reporters from submitting and following up nor hold a thread for
longer than the read timeout or the minimum body rate allow (docs/OPERATIONS.md, "When
things fail")."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from appkit import RECEIPT_RE, Client, Deployment
from nginxkit import build_nginx_prefix

requests = pytest.importorskip("requests", reason="the requests package is not installed")

THREADS = 12
READ_TIMEOUT = 3
SLOW = {
    "SEALBOX_INTAKE_THREADS": str(THREADS),
    "SEALBOX_INTAKE_READ_TIMEOUT": str(READ_TIMEOUT),
    "SEALBOX_MIN_BODY_BYTES_PER_SECOND": "1024",
    "SEALBOX_BODY_RATE_GRACE_SECONDS": "4",
}
HEAD = b"POST /en/followup/ HTTP/1.1\r\nHost: intake\r\n"
BODY_HEAD = HEAD + (
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
)


def _address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


@contextmanager
def stalled(base: str, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections that stop sending: half in their headers, half in the body."""
    sockets = []
    try:
        for i in range(count):
            sock = socket.create_connection(_address(base), timeout=30)
            sock.sendall(HEAD if i % 2 else BODY_HEAD + b"receipt=1234")
            sockets.append(sock)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _report_and_follow_up(base: str) -> None:
    reporter = Client(base, requests.Session())
    form = reporter.get("/en/report/")
    review = reporter.submit(form, "/report/review", {"description": "Bribes.", "website": ""})
    sent = reporter.submit(review, "/report/send", {})
    assert sent.status_code == 200, sent.text[:2000]
    receipt = RECEIPT_RE.search(sent.text).group(1)  # type: ignore[union-attr]
    later = Client(base, requests.Session())
    login = later.get("/en/followup/")
    assert later.submit(login, "/followup/", {"receipt": receipt}).status_code == 303
    case = later.get("/en/followup/case")
    added = later.submit(case, "/message", {"text": "More."})
    assert added.status_code in (200, 303), added.text[:2000]


def test_stalled_clients_leave_reporters_served_and_are_dropped(
    sqlite_deployment: Deployment,
) -> None:
    # One worker with THREADS threads; more stalled connections than half of them.
    base = sqlite_deployment.start("intake", workers=1, **SLOW)
    with stalled(base, THREADS - 2) as sockets:
        time.sleep(0.5)  # every stalled connection now holds a thread
        started = time.monotonic()
        _report_and_follow_up(base)
        # Dropped after the read timeout: a stalled body gets the readable 408 page, a
        # stalled header a closed connection (there is no request yet to answer).
        answers = [_answer(sock) for sock in sockets]
        waited = time.monotonic() - started
    assert waited < READ_TIMEOUT + 5, waited
    for i, answer in enumerate(answers):
        if i % 2:
            assert answer == b"", answer[:200]
        else:
            assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
            assert b"The connection stopped" in answer and b"Content-Security-Policy" in answer


def test_a_trickling_body_is_answered_408_after_the_grace_period(
    sqlite_deployment: Deployment,
) -> None:
    base = sqlite_deployment.start("intake", workers=1, **SLOW)
    sock = socket.create_connection(_address(base), timeout=30)
    sock.sendall(BODY_HEAD)
    stop = threading.Event()

    def trickle() -> None:  # one byte a second: never silent for the read timeout
        while not stop.wait(1.0):
            try:
                sock.sendall(b"1")
            except OSError:
                return

    dripper = threading.Thread(target=trickle)
    dripper.start()
    started = time.monotonic()
    try:
        answer = _answer(sock)
    finally:
        stop.set()
        dripper.join()
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    # The grace period (4 s), then the first read below 1 KiB/s on average.
    assert 4 <= time.monotonic() - started < 4 + READ_TIMEOUT + 3


@pytest.fixture
def behind_nginx(
    sqlite_deployment: Deployment,
    tool: Callable[[str], str],
    deploy_dir: Path,
    tls_cert: tuple[Path, Path],
    tmp_path: Path,
    free_port: Callable[[], int],
    launcher: Any,
) -> Callable[..., str]:
    """``start(**settings)``: the intake (one worker, THREADS threads) behind the shipped
    nginx sites; returns the base URL of nginx's onion server (plain HTTP, as from Tor)."""

    def start(**settings: str) -> str:
        onion = free_port()
        listener = {"SEALBOX_ONION_LISTEN": f"127.0.0.1:{onion}"}
        sqlite_deployment.start("intake", workers=1, **{**SLOW, **listener, **settings})
        ports = {name: free_port() for name in ("i80", "i443", "ionion", "c443", "conion")}
        ports |= {"intake": onion, "intake_onion": onion, "caseworker": onion}
        prefix = tmp_path / "nginx"
        conf = build_nginx_prefix(deploy_dir, prefix, tls_cert, ports, worker_connections=512)
        command = [tool("nginx"), "-c", str(conf), "-p", f"{prefix}/", "-g", "daemon off;"]
        launcher.start("nginx", command, port=ports["ionion"])
        return f"http://127.0.0.1:{ports['ionion']}"

    return start


def test_through_nginx_stalled_headers_cost_no_app_thread(
    behind_nginx: Callable[..., str],
) -> None:
    # Four times as many stalled headers as the app has threads, and a read timeout long
    # enough that a reporter would wait for it if they reached the app: nginx holds them.
    base = behind_nginx(SEALBOX_INTAKE_READ_TIMEOUT="30")
    with _headers_only(base, 4 * THREADS):
        time.sleep(0.5)
        started = time.monotonic()
        _report_and_follow_up(base)
        assert time.monotonic() - started < 15  # never waited for a thread


def test_through_nginx_stalled_bodies_get_the_apps_408(behind_nginx: Callable[..., str]) -> None:
    base = behind_nginx()
    with stalled(base, 2 * (THREADS - 2)) as sockets:
        time.sleep(0.5)
        started = time.monotonic()
        _report_and_follow_up(base)
        answers = [_answer(sock) for sock in sockets[::2]]  # the stalled bodies
        waited = time.monotonic() - started
    assert waited < READ_TIMEOUT + 5, waited
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
        assert b"The connection stopped" in answer


@contextmanager
def _headers_only(base: str, count: int) -> Iterator[None]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.create_connection(_address(base), timeout=30)
            sock.sendall(HEAD)
            sockets.append(sock)
        yield
    finally:
        for sock in sockets:
            sock.close()
