"""A real server process (``python -m intake``) over HTTP: the README way of running it."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from netkit import free_port

from cases.store import Store
from config import init_instance, load_settings

ROOT = Path(__file__).resolve().parents[2]
UA = "UA-MARKER-Mozilla/5.0"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    instance = tmp_path / "instance"
    init_instance(instance)
    env = {
        **os.environ,
        "SEALBOX_INSTANCE_PATH": str(instance),
        "SEALBOX_RECEIPT_KDF_OPSLIMIT": "1",
        "SEALBOX_RECEIPT_KDF_MEMLIMIT_MIB": "8",
        "PYTHONUNBUFFERED": "1",
    }
    Store(load_settings(environ=env)).migrate()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "intake", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read() if proc.stdout else "server died") from None
            time.sleep(0.1)
    try:
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _multipart(
    fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]
) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, filename, data in files:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def test_real_server_submit_and_follow_up_logging_no_client_details(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, proc = server
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    headers = {"User-Agent": UA, "Referer": "http://referrer-marker.example/"}

    def get(path: str):  # type: ignore[no-untyped-def]
        try:
            return opener.open(urllib.request.Request(base + path, headers=headers), timeout=30)
        except urllib.error.HTTPError as e:
            return e

    def post(path: str, data: bytes, content_type: str):  # type: ignore[no-untyped-def]
        request = urllib.request.Request(
            base + path, data=data, headers={**headers, "Content-Type": content_type}
        )
        try:
            return opener.open(request, timeout=30)
        except urllib.error.HTTPError as e:
            return e

    root = get("/")
    assert root.status == 303 and root.headers["Location"].endswith("/en/")
    landing = get("/en/")
    assert landing.status == 200 and not list(jar)  # no cookie before a report starts
    assert landing.headers.get("Server") in (None, "", "sealbox")
    assert "Werkzeug" not in str(landing.headers) and "Python" not in str(landing.headers)
    assert landing.headers["Content-Security-Policy"].startswith("default-src 'self'")
    form_page = get("/en/report/").read().decode()
    assert list(jar)
    token = browser.csrf_of(form_page)
    review = post(
        "/en/report/review",
        urllib.parse.urlencode(
            {"csrf_token": token, "description": "Bribes paid in cash", "website": ""}
        ).encode(),
        "application/x-www-form-urlencoded",
    )
    assert review.status == 200
    send_form = browser.form_to(review.read().decode(), "/report/send")
    body, ctype = _multipart(
        send_form["fields"], [("files", "evidence.txt", b"evidence " * 100_000)]
    )
    receipt_page = post("/en/report/send", body, ctype)
    assert receipt_page.status == 200
    receipt = re.search(r'data-receipt="([0-9 ]+)"', receipt_page.read().decode()).group(1)

    login_page = get("/en/followup/").read().decode()
    logged_in = post(
        "/en/followup/",
        urllib.parse.urlencode(
            {"csrf_token": browser.csrf_of(login_page), "receipt": receipt}
        ).encode(),
        "application/x-www-form-urlencoded",
    )
    assert logged_in.status == 303
    case_html = get("/en/followup/case").read().decode()
    assert "Bribes paid in cash" in case_html and "evidence.txt" in case_html
    message_form = browser.form_to(case_html, "/case/main/message")
    fields = [(n, v) for n, v in message_form["fields"] if n != "main-text"] + [
        ("main-text", "A follow-up message")
    ]
    body, ctype = _multipart(fields, [("files", "more.txt", b"more evidence")])
    assert post(message_form["action"], body, ctype).status == 303
    case_html = get("/en/followup/case").read().decode()
    assert "A follow-up message" in case_html and "more.txt" in case_html
    file_ids = re.findall(r"/en/followup/files/([0-9a-f]{16})", case_html)
    assert file_ids
    downloaded = get(f"/en/followup/files/{file_ids[0]}").read()
    assert downloaded in (b"evidence " * 100_000, b"more evidence")
    logout = post(
        "/en/followup/logout",
        urllib.parse.urlencode({"csrf_token": browser.csrf_of(case_html)}).encode(),
        "application/x-www-form-urlencoded",
    )
    assert logout.status == 200 and logout.headers["Clear-Site-Data"]
    assert get("/en/missing/page").status == 404

    proc.terminate()
    output = proc.communicate(timeout=10)[0]
    assert "POST /<lang>/report/send 200" in output  # it does log requests...
    assert "GET /<lang>/followup/files/<attachment_id> 200" in output
    # ...but never who made them, in which language, or which case's file was read.
    for secret in (
        *file_ids,
        "/en/",
        "127.0.0.1 -",
        "- - [",
        UA,
        "referrer-marker",
        "Bribes",
        receipt.replace(" ", ""),
    ):
        assert secret not in output, secret
    assert not re.search(r"\b127\.0\.0\.1\b(?!:)", output.replace(f"{base}/", ""))
