"""Broken requests against both apps under real gunicorn: a malformed chunked body is the
client's fault, answered with the app's readable 400 page and its usual headers, on every
route that accepts a POST; and a report whose answer never arrived, sent again by the
browser, is not stored twice (docs/OPERATIONS.md, "When things fail")."""

from __future__ import annotations

import itertools
import json
import re
import socket
import time
from collections.abc import Iterator

from appkit import Client, Deployment
from sqlalchemy import func, select
from werkzeug.routing import Rule

import caseworker
import intake
from cases.models import Case
from cases.reporting.followup import find_case
from cases.store import Store
from crypto import normalize_receipt
from intake.errors import JSON_ENDPOINTS

MALFORMED_CHUNKS = {
    "size zz": b"zz\r\nabc\r\n0\r\n\r\n",
    "size -5": b"-5\r\nabcde\r\n0\r\n\r\n",
    "no CRLF after the data": b"3\r\nabcX0\r\n\r\n",
    "bad extension": b"3;\x01bad\r\nabc\r\n0\r\n\r\n",
    "over-long size line": b"3;" + b"a" * 70000 + b"\r\nabc\r\n0\r\n\r\n",
    "bad trailer": b"3\r\nabc\r\n0\r\nBad Trailer\r\n\r\n",
}
ARGUMENTS = {"lang": "en", "case_id": "0123456789abcdef"}


def _placeholder(rule: Rule, argument: str) -> str | int:
    converter = rule._converters[argument]
    return 1 if type(converter).__name__ == "IntegerConverter" else "0123456789abcdef"


def _post_paths(app_module: object, store: Store) -> Iterator[tuple[str, str]]:
    """Every POST route of the app, with placeholder arguments: (path, endpoint)."""
    app = app_module.create_app(store.settings, store)  # type: ignore[attr-defined]
    rules: list[Rule] = list(app.url_map.iter_rules())
    for rule in rules:
        if "POST" in (rule.methods or ()):
            values = {arg: ARGUMENTS.get(arg, _placeholder(rule, arg)) for arg in rule.arguments}
            path = rule.build(values, append_unknown=False)
            assert path is not None
            yield path[1], rule.endpoint


def _send(base: str, path: str, body: bytes) -> tuple[int, dict[str, str], str]:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as raw:
        raw.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
            + body
        )
        received = b""
        while chunk := raw.recv(65536):  # the server closes the connection after its answer
            received += chunk
    head, _, page = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, page.decode()


def test_malformed_chunked_bodies_get_the_readable_400(sqlite_deployment: Deployment) -> None:
    front = sqlite_deployment.start("intake", workers=1, SEALBOX_SEAL_IN_BROWSER="true")
    back = sqlite_deployment.start("caseworker", workers=1)
    for base, module in ((front, intake), (back, caseworker)):
        paths = list(_post_paths(module, sqlite_deployment.store))
        assert len(paths) > 5, paths
        for (kind, body), (path, endpoint) in itertools.product(MALFORMED_CHUNKS.items(), paths):
            status, headers, page = _send(base, path, body)
            assert status == 400, (kind, path, status, page[:500])
            assert "content-security-policy" in headers, (kind, path, headers)
            if endpoint in JSON_ENDPOINTS:  # a script's call: the same words, as JSON
                assert headers["content-type"] == "application/json", (kind, path, headers)
                assert json.loads(page)["title"] == "The form arrived damaged", (kind, page)
                continue
            assert "text/html" in headers["content-type"], (kind, path, headers)
            if module is intake:
                assert "The form arrived damaged" in page, (kind, path, page[:2000])
            else:
                assert "The request could not be understood." in page, (kind, path, page)
    for started in sqlite_deployment.logs.values():
        assert "Traceback" not in started.output(), started.output()[-3000:]


def test_a_resent_report_whose_answer_was_lost_is_stored_once_and_shows_its_receipt(
    sqlite_deployment: Deployment,
) -> None:
    import requests

    base = sqlite_deployment.start("intake", workers=1)
    reporter = Client(base, requests.Session())
    form = reporter.get("/en/report/")
    review = reporter.submit(form, "/report/review", {"description": "Kickbacks.", "website": ""})
    assert review.status_code == 200, review.text[:2000]
    # The send, as the browser makes it; the connection drops before the answer arrives,
    # so the browser never gets the session cookie the answer would have set.
    send = _send_form(review.text, review.url)
    prepared = reporter.http.prepare_request(
        requests.Request("POST", send["action"], data=send["fields"], files={"files": ("", b"")})
    )
    raw = socket.create_connection(_address(base), timeout=30)
    raw.sendall(_as_bytes(prepared))
    raw.close()
    store = sqlite_deployment.store
    deadline = time.monotonic() + 20
    while _cases(store) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _cases(store) == 1  # the first send was stored
    # The browser sends the same form again, with the same cookie: the receipt the lost
    # answer held is shown now, and there is still one case.
    again = reporter.http.send(prepared, timeout=60)
    assert again.status_code == 200, again.text[:2000]
    assert "Your report has been sent" in again.text
    receipt = re.search(r'data-receipt="([0-9 ]+)"', again.text).group(1)  # type: ignore[union-attr]
    with store.transaction() as db:
        assert find_case(db, store.settings, normalize_receipt(receipt))[0] is not None
    assert _cases(store) == 1


def _cases(store: Store) -> int:
    with store.transaction() as db:
        return int(db.scalar(select(func.count()).select_from(Case)) or 0)


def _address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def _as_bytes(prepared: object) -> bytes:
    from urllib.parse import urlsplit

    url = urlsplit(prepared.url)  # type: ignore[attr-defined]
    head = f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
    for name, value in prepared.headers.items():  # type: ignore[attr-defined]
        head += f"{name}: {value}\r\n"
    body = prepared.body  # type: ignore[attr-defined]
    return head.encode() + b"\r\n" + (body if isinstance(body, bytes) else body.encode())


def _send_form(html: str, page_url: str) -> dict[str, object]:
    from urllib.parse import urljoin

    from appkit import form_to

    form = form_to(html, "/report/send", page_url)
    return {"action": urljoin(page_url, form["action"]), "fields": form["fields"]}
