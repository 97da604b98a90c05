"""Bad input that only a real server sees: huge and numerous headers, a request line
longer than allowed, bodies that lie about their length. Against ``python -m intake`` and
gunicorn with the shipped configuration. Expected: a 4xx, never a 5xx, the server keeps
serving, and none of the header values reaches its output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from secapp import RealHTTP, Reporter, Server, gunicorn_server, intake_server, raw_request
from secutil import Scanner, marker
from sqlalchemy import func, select

from cases.models import Case
from cases.store import Store


def status_of(response: bytes) -> int:
    if response.startswith(b"HTTP/1."):
        return int(response.split(b" ", 2)[1])
    # http.server answers an unparseable request line HTTP/0.9-style: a bare error page.
    found = re.search(rb"Error code: (\d{3})", response)
    assert found, response[:300]
    return int(found.group(1))


@pytest.fixture(params=["python -m intake", "gunicorn"])
def server(request: pytest.FixtureRequest, store: Store, sec_tmpdir: Path,
           tmp_path: Path) -> Server:
    make = intake_server if request.param == "python -m intake" else gunicorn_server
    srv = make(store.settings, sec_tmpdir, tmp_path / "logs").start()
    request.addfinalizer(srv.stop)
    return srv


@pytest.mark.slow
def test_huge_headers_and_lines_are_refused_and_the_server_survives(
    server: Server, store: Store, scanner: Scanner, tmp_path: Path
) -> None:
    secret = marker("hdr")
    host = f"Host: 127.0.0.1:{server.port}\r\n".encode()
    cases = {
        "one 100 KB header": b"GET /en/ HTTP/1.1\r\n" + host
        + b"X-Big: " + secret.encode() + b"a" * 100_000 + b"\r\n\r\n",
        "one 9 KB header": b"GET /en/ HTTP/1.1\r\n" + host
        + b"Cookie: sealbox=" + secret.encode() + b"b" * 9_000 + b"\r\n\r\n",
        "300 headers": b"GET /en/ HTTP/1.1\r\n" + host
        + b"".join(b"X-H%d: %s\r\n" % (i, secret.encode()) for i in range(300)) + b"\r\n",
        "70 KB request line": b"GET /en/?" + secret.encode() + b"c" * 70_000
        + b" HTTP/1.1\r\n" + host + b"\r\n",
        "content-length larger than the body": b"POST /en/report/review HTTP/1.1\r\n" + host
        + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n"
        + b"Connection: close\r\n\r\ndescription=" + secret.encode(),
        "negative content-length": b"POST /en/report/review HTTP/1.1\r\n" + host
        + b"Content-Length: -5\r\nConnection: close\r\n\r\nxx",
        "garbage request line": secret.encode() + b"\x00\xff\r\n\r\n",
    }
    with store.transaction() as db:
        before = db.scalar(select(func.count()).select_from(Case))
    for name, request in cases.items():
        # A body shorter than its Content-Length leaves the server waiting: stop after 3 s.
        response = raw_request(server.port, request, timeout=3)
        if response:  # some servers just close on garbage; that is fine too
            code = status_of(response)
            # A 9 KB cookie is within what the development server takes (and ignored).
            allowed = (200,) if name == "one 9 KB header" else ()
            assert 400 <= code < 500 or code in allowed, (name, response[:300])
            assert b"Traceback" not in response, name
        assert server.proc is not None and server.proc.poll() is None, f"died on {name}"
        ok = Reporter(RealHTTP(server.base)).http.get("/en/")
        assert ok.status == 200, name
    with store.transaction() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == before
    assert Reporter(RealHTTP(server.base)).submit({"description": "still works"})
    server.stop()
    assert "Traceback" not in server.output()
    scanner.add_path(server.log_dir)
    scanner.assert_clean([secret])
