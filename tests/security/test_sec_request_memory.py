"""No POST can make an app hold much text in memory.

Each text field was bounded, but not their sum: 200 parts of about 300 KB each (62 MB) to
``/en/report/review`` took a worker from 76 MB to 342 MB with four such requests at once.
Here such a body is sent to every kind of POST route of both apps: each answers 413 (the
readable page) without reading far past the bound, the Python heap's peak during the
request stays small, and nothing stored changes.
"""

from __future__ import annotations

import io
import tracemalloc
from dataclasses import replace
from typing import Any

import pytest
from pageforms import CSRF_RE
from secapp import FlaskHTTP, Reporter, cw_csrf, signed_in_caseworker

from cases.store import Store

MIB = 1024 * 1024
PART = 300_000  # under the per-field limit at the default report length (50,000 chars)
PARTS = 200  # the most parts a request may have
BOUNDARY = "sbxmemory0boundary"


class CountingBody(io.BytesIO):
    """The request body, counting how much of it the app read."""

    consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.consumed += len(data)
        return data


def _flood(csrf_name: str, token: str) -> bytes:
    filler = b"z" * PART
    out = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{csrf_name}"\r\n\r\n'.encode()
           + token.encode() + b"\r\n"]
    for i in range(PARTS - 1):
        out.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n'.encode()
                   + filler + b"\r\n")
    out.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(out)


def _post(client: Any, path: str, body: bytes) -> tuple[int, str, int, int]:
    """(status, page, bytes the app read, peak heap growth during the request)."""
    stream = CountingBody(body)
    tracemalloc.start()
    try:
        response = client.post(
            path,
            input_stream=stream,
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
            content_length=len(body),
        )
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return response.status_code, response.get_data(as_text=True), stream.consumed, peak


@pytest.fixture
def default_limits(store: Store) -> Store:
    """The shipped limits (not the suite's smaller ones): what a worker really accepts."""
    return Store(replace(store.settings, max_report_chars=50_000), engine=store.engine)


INTAKE_POSTS = [
    "/en/report/",
    "/en/report/review",
    "/en/report/send",
    "/en/report/done",
    "/en/followup/",
    "/en/followup/case/main/message",
    "/en/followup/identity",
    "/en/followup/retaliation",
]


@pytest.mark.parametrize("path", INTAKE_POSTS)
def test_intake_posts_hold_a_bounded_amount_of_text(default_limits: Store, path: str) -> None:
    from intake import create_app

    app = create_app(default_limits.settings, default_limits)
    reporter = Reporter(FlaskHTTP(app.test_client()))
    receipt = reporter.submit({"description": "an earlier report"})
    assert reporter.login(receipt).status == 303
    token = CSRF_RE.search(reporter.case_page().text).group(1)  # type: ignore[union-attr]
    body = _flood("csrf_token", token)
    status, page, consumed, peak = _post(reporter.http.client, path, body)
    assert status == 413, (path, status, page[:300])
    assert "What you sent is too large" in page
    assert consumed < 3 * MIB, (path, consumed)  # stopped reading near the bound (~0.8 MB)
    assert peak < 16 * MIB, (path, peak)  # was about 62 MB of text plus its copies


CASEWORKER_POSTS = ["/login", "/account/passphrase", "/admin/policy", "/cases/new-oral"]


@pytest.mark.parametrize("path", CASEWORKER_POSTS)
def test_caseworker_posts_hold_a_bounded_amount_of_text(default_limits: Store, path: str) -> None:
    from caseworker import create_app

    app = create_app(default_limits.settings, default_limits)
    client, _ = signed_in_caseworker(default_limits, app, "root", admin=True)
    body = _flood("csrf_token", cw_csrf(client, "/account"))
    status, _page, consumed, peak = _post(client, path, body)
    assert status == 413, (path, status)
    assert consumed < 3 * MIB and peak < 16 * MIB, (path, consumed, peak)
