"""A small HTTP client that behaves like a browser with JavaScript off: it keeps cookies,
reads a form's hidden fields and CSRF token from the page, and posts them back.

Large bodies are never held in memory: a file part is sent from disk with
``socket.sendfile`` (zero copy, so the client takes as little CPU as possible from the
server it shares the machine with), and downloads are read into one reusable buffer.
"""

from __future__ import annotations

import http.client
import os
import secrets
import sys
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

# The page-form parser the test suites use (one home for it).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
import pageforms

BUFFER = 1024 * 1024


def form_to(html: str, action_part: str) -> dict[str, Any]:
    """The form posting to ``action_part``, with the (name, value) pairs of its hidden and
    text inputs (tests/support/pageforms.py parses the page)."""
    form = pageforms.form_to(html, action_part)
    form["fields"] = pageforms.values(form, "hidden", "text")
    return form


csrf_of = pageforms.csrf_of


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Browser:
    """One visitor: a keep-alive connection to one server and a cookie jar."""

    def __init__(self, port: int, timeout: float = 600) -> None:
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def close(self) -> None:
        self.conn.close()

    def _cookie_header(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.msg.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                expired = morsel["expires"] and "1970" in morsel["expires"]
                if morsel.value == "" or expired or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def _finish(self, response: http.client.HTTPResponse) -> Reply:
        body = response.read()
        self._keep_cookies(response)
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)

    def _retrying(self, send: Any) -> Reply:
        try:
            return send()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # the server closed an idle keep-alive connection: reconnect once
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            return send()

    def get(self, path: str) -> Reply:
        def send() -> Reply:
            self.conn.request("GET", path, headers=self._cookie_header())
            return self._finish(self.conn.getresponse())

        return self._retrying(send)

    def post(self, path: str, fields: list[tuple[str, str]] | dict[str, str]) -> Reply:
        items = list(fields.items()) if isinstance(fields, dict) else fields
        body = urlencode(items).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **self._cookie_header()}

        def send() -> Reply:
            self.conn.request("POST", path, body=body, headers=headers)
            return self._finish(self.conn.getresponse())

        return self._retrying(send)

    def post_body(self, path: str, body: bytes, content_type: str,
                  headers: dict[str, str] | None = None) -> Reply:
        """POST a body of its own type (a script's JSON)."""
        sent = {"Content-Type": content_type, **(headers or {}), **self._cookie_header()}

        def send() -> Reply:
            self.conn.request("POST", path, body=body, headers=sent)
            return self._finish(self.conn.getresponse())

        return self._retrying(send)

    def follow(self, reply: Reply, limit: int = 5) -> Reply:
        while reply.status in (301, 302, 303) and limit:
            target = urlsplit(reply.headers["location"])
            reply = self.get(target.path + (f"?{target.query}" if target.query else ""))
            limit -= 1
        return reply

    def post_multipart(
        self,
        path: str,
        fields: list[tuple[str, str]],
        files: list[tuple[str, str, Path]],
    ) -> Reply:
        """POST multipart/form-data with a known Content-Length; file parts are streamed
        from disk with sendfile (the client never holds a file in memory)."""
        boundary = "----sealbox-bench-" + secrets.token_hex(12)
        pieces: list[bytes | Path] = []
        for name, value in fields:
            pieces.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        for name, filename, file_path in files:
            pieces.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            )
            pieces.append(file_path)
            pieces.append(b"\r\n")
        pieces.append(f"--{boundary}--\r\n".encode())
        length = sum(p.stat().st_size if isinstance(p, Path) else len(p) for p in pieces)
        self.conn.close()  # a fresh connection: no half-read keep-alive state
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        self.conn.putrequest("POST", path)
        self.conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        self.conn.putheader("Content-Length", str(length))
        for key, value in self._cookie_header().items():
            self.conn.putheader(key, value)
        self.conn.endheaders()
        sock = self.conn.sock
        for piece in pieces:
            if isinstance(piece, Path):
                with piece.open("rb") as source:
                    sock.sendfile(source)
            else:
                sock.sendall(piece)
        return self._finish(self.conn.getresponse())

    def download(self, path: str, headers: dict[str, str] | None = None
                 ) -> tuple[int, int, float]:
        """GET and discard the body: (status, bytes received, seconds to the last byte)."""
        start = time.perf_counter()
        self.conn.request("GET", path, headers={**self._cookie_header(), **(headers or {})})
        response = self.conn.getresponse()
        buffer = bytearray(BUFFER)
        view = memoryview(buffer)
        total = 0
        while n := response.readinto(view):
            total += n
        self._keep_cookies(response)
        return response.status, total, time.perf_counter() - start

    def download_digest(self, path: str, headers: dict[str, str] | None = None
                        ) -> tuple[int, int, bytes]:
        """GET the body and return its BLAKE2b digest (to check a download once, untimed)."""
        import hashlib

        self.conn.request("GET", path, headers={**self._cookie_header(), **(headers or {})})
        response = self.conn.getresponse()
        digest = hashlib.blake2b()
        total = 0
        while piece := response.read(BUFFER):
            digest.update(piece)
            total += len(piece)
        return response.status, total, digest.digest()


def file_digest(path: Path) -> bytes:
    import hashlib

    digest = hashlib.blake2b()
    with path.open("rb") as source:
        while piece := source.read(BUFFER):
            digest.update(piece)
    return digest.digest()


def write_random_file(path: Path, size: int) -> Path:
    """``size`` random bytes (incompressible, like most evidence files) on disk."""
    with path.open("wb") as out:
        left = size
        while left:
            piece = os.urandom(min(left, BUFFER))
            out.write(piece)
            left -= len(piece)
    return path
