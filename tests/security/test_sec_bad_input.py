"""Bad input to the intake app: every rejected request gets a clear page with the right
status, in the reporter's language, no 5xx and no traceback, and nothing stored changes
(case/message/attachment rows and the blob store are compared before and after)."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from secapp import FlaskHTTP, Reporter, csrf_of, form_to
from sqlalchemy import func, select

import crypto._primitives as primitives
from cases.content import list_attachments
from cases.keyring import reporter_thread_key
from cases.models import Attachment, BlobChunk, Case, IdentityRecord, Message, ReporterSession
from cases.reporting.followup import find_case
from cases.store import Store
from crypto import new_receipt

MIB = 1024 * 1024
LIMITS = {
    "max_request_bytes": 3 * MIB,
    "max_file_bytes": 1 * MIB,
    "max_files_per_submission": 3,
    "max_report_chars": 2000,
    "submissions_per_hour_per_client": 1000,
    "lookups_per_hour_per_client": 1000,
    "submissions_per_minute_global": 1000,
    "lookups_per_minute_global": 1000,
}


def snapshot(store: Store) -> tuple[dict[str, int], list[str]]:
    with store.transaction() as session:
        counts = {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in (Case, Message, Attachment, IdentityRecord, BlobChunk)
        }
    root = store.settings.blob_path
    return counts, sorted(p.name for p in root.iterdir()) if root.exists() else []


@pytest.fixture
def limited(store: Store) -> Store:
    return Store(replace(store.settings, **LIMITS), engine=store.engine)


@pytest.fixture
def app(limited: Store) -> Flask:
    from intake import create_app

    return create_app(limited.settings, limited)


@pytest.fixture
def client(app: Flask) -> Any:
    # Not ``with app.test_client()``: a preserved context would be shared (flask.g and
    # all) with the requests of any other client of the same app in the test.
    return app.test_client()


@pytest.fixture
def reporter(client: Any) -> Reporter:
    return Reporter(FlaskHTTP(client))


@pytest.fixture
def seeded(reporter: Reporter, limited: Store) -> str:
    """One case already stored, which no bad request may disturb; returns its receipt."""
    return reporter.submit({"description": "an earlier report"}, files=[("a.txt", b"kept")])


def assert_error_page(response: Any, status: int, lang: str = "en") -> str:
    text = response.get_data(as_text=True) if hasattr(response, "get_data") else response.text
    code = response.status_code if hasattr(response, "status_code") else response.status
    assert code == status, f"expected {status}, got {code}: {text[:1500]}"
    assert "Traceback" not in text and "werkzeug" not in text.lower()
    assert re.search(rf'<html lang="{lang}"', text), text[:500]
    assert "<h1" in text
    return text


# -- sizes ----------------------------------------------------------------------------------


def test_oversized_body_is_413_and_stores_nothing(
    client: Any, reporter: Reporter, limited: Store, seeded: str
) -> None:
    before = snapshot(limited)
    review = reporter.review({"description": "big upload"})
    r = reporter.send(review, files=[(f"part{i}.bin", secrets.token_bytes(900_000))
                                     for i in range(4)])  # 3.6 MB > 3 MiB body limit
    assert r.status == 413
    assert "Traceback" not in r.text
    assert snapshot(limited) == before


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_oversized_file_is_413_in_the_reporters_language(
    client: Any, limited: Store, seeded: str, lang: str
) -> None:
    reporter = Reporter(FlaskHTTP(client), lang=lang)
    before = snapshot(limited)
    review = reporter.review({"description": "one file too large"})
    r = reporter.send(review, files=[("ok.txt", b"fine"), ("huge.bin", b"x" * (MIB + 1))])
    assert r.status == 413, r.text[:2000]
    assert f'<html lang="{lang}"' in r.text and "huge.bin" in r.text
    assert "one file too large" in r.text  # what the reporter typed is kept
    assert snapshot(limited) == before


def test_too_many_files_is_413_and_stores_none_of_them(
    reporter: Reporter, limited: Store, seeded: str
) -> None:
    before = snapshot(limited)
    review = reporter.review({"description": "too many"})
    r = reporter.send(review, files=[(f"f{i}.txt", b"data %d" % i) for i in range(4)])
    assert r.status == 413 and "Traceback" not in r.text
    assert snapshot(limited) == before


def test_oversized_text_field_is_413_with_the_form_again(
    reporter: Reporter, limited: Store, seeded: str
) -> None:
    before = snapshot(limited)
    r = reporter.review({"description": "x" * 2001})
    assert r.status == 413 and '<html lang="en"' in r.text
    r = reporter.review({"description": "ok", "q_when": "y" * 5000})
    assert r.status == 413
    assert snapshot(limited) == before


def test_text_field_beyond_the_form_memory_limit_is_413(
    client: Any, limited: Store, seeded: str
) -> None:
    page = client.get("/en/report/").get_data(as_text=True)
    before = snapshot(limited)
    body = {"csrf_token": csrf_of(page), "description": "z" * (2000 * 5 + 70_000)}
    r = client.post("/en/report/send", data=body, content_type="multipart/form-data")
    assert_error_page(r, 413)
    assert snapshot(limited) == before


# -- broken encodings -----------------------------------------------------------------------

BOUNDARY = "sbxboundary7MA4YWxkTrZu0gW"


def multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = BOUNDARY) -> bytes:
    out = b""
    for name, filename, content in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


@pytest.fixture
def send_form(client: Any, reporter: Reporter) -> dict[str, Any]:
    """A genuine review page's hidden fields, to wrap in hand-made bodies."""
    review = reporter.review({"description": "hand made body"})
    return form_to(review.text, "/report/send")


@pytest.mark.parametrize(
    "name,body,ctype",
    [
        ("truncated", lambda b: b[: len(b) // 2], f"multipart/form-data; boundary={BOUNDARY}"),
        ("no closing boundary", lambda b: b.rsplit(b"--" + BOUNDARY.encode() + b"--", 1)[0],
         f"multipart/form-data; boundary={BOUNDARY}"),
        ("no boundary parameter", lambda b: b, "multipart/form-data"),
        ("wrong boundary", lambda b: b, "multipart/form-data; boundary=nothere"),
        ("garbage", lambda b: secrets.token_bytes(5000),
         f"multipart/form-data; boundary={BOUNDARY}"),
        ("header without blank line", lambda b: b.replace(b"\r\n\r\n", b"\r\n", 1),
         f"multipart/form-data; boundary={BOUNDARY}"),
    ],
)
def test_malformed_multipart_is_a_clear_400(
    client: Any, limited: Store, seeded: str, send_form: dict[str, Any], name: str,
    body: Any, ctype: str,
) -> None:
    parts = [(k, None, v.encode()) for k, v in send_form["fields"]]
    parts.append(("files", "evidence.pdf", secrets.token_bytes(300_000)))
    before = snapshot(limited)
    r = client.post("/en/report/send", data=body(multipart(parts)), content_type=ctype)
    text = r.get_data(as_text=True)
    assert r.status_code in (400, 413), (name, r.status_code, text[:1000])
    assert "Traceback" not in text and '<html lang="en"' in text
    assert snapshot(limited) == before


def test_invalid_utf8_is_a_clear_400(
    client: Any, limited: Store, seeded: str, send_form: dict[str, Any]
) -> None:
    before = snapshot(limited)
    fields = [(k, None, v.encode()) for k, v in send_form["fields"] if k != "description"]
    fields.append(("description", None, b"caf\xe9 \xff\xfe broken \xc3"))
    r = client.post("/en/report/send", data=multipart(fields),
                    content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert_error_page(r, 400)
    page = client.get("/en/report/").get_data(as_text=True)
    r = client.post("/en/report/review", data=b"csrf_token=" + csrf_of(page).encode()
                    + b"&description=%FF%FEbad", content_type="application/x-www-form-urlencoded")
    assert_error_page(r, 400)
    assert snapshot(limited) == before


def test_nul_and_control_characters_never_cause_a_5xx(
    reporter: Reporter, limited: Store, client: Any
) -> None:
    before = snapshot(limited)
    r = reporter.review({"description": "nul \x00 inside \x1b[31m and \x7f"})
    assert r.status in (200, 400), r.text[:1000]
    if r.status == 200:  # accepted: it must round-trip, encrypted, not crash the database
        sent = reporter.send(r)
        assert sent.status in (200, 400)
        if sent.status == 200 and sent.receipt:
            assert reporter.login(sent.receipt).status == 303
            assert reporter.case_page().status == 200
    else:
        assert snapshot(limited) == before


@pytest.mark.parametrize(
    "ctype,body",
    [
        ("application/json", json.dumps({"description": "json report"}).encode()),
        ("text/plain", b"description=plain"),
        ("application/xml", b"<report>x</report>"),
        ("application/x-www-form-urlencoded", b"description=no+csrf+token"),
    ],
)
def test_wrong_content_types_are_refused(
    client: Any, limited: Store, seeded: str, ctype: str, body: bytes
) -> None:
    client.get("/en/report/")
    before = snapshot(limited)
    for path in ("/en/report/review", "/en/report/send", "/en/followup/"):
        r = client.post(path, data=body, content_type=ctype)
        assert_error_page(r, 400)
    assert snapshot(limited) == before


# -- file names -----------------------------------------------------------------------------

HOSTILE_NAMES = [
    "../../../../etc/passwd",
    "..\\..\\..\\windows\\win.ini",
    "/absolute/path/report.pdf",
    "evil\x00.pdf.exe",
    "\x1b[31mred\x07bell\r\nX-Injected: 1.txt",
    "....//....//secret.txt",
    "%2e%2e%2fescaped.txt",
    "con.txt",
    ".",
    "..",
    "\u202egnp.exe",  # right-to-left override
    "a" * 600 + ".txt",
]


def as_browser_sends(name: str) -> str:
    """Browsers escape CR, LF and '"' in a multipart file name (WHATWG HTML, "multipart/
    form-data encoding algorithm"); Werkzeug's test client would send them raw and so
    break the part header itself."""
    return name.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def test_hostile_file_names_are_never_paths_and_are_kept_only_encrypted(
    reporter: Reporter, limited: Store, tmp_path: Any
) -> None:
    files = [(as_browser_sends(name), f"content {i}".encode())
             for i, name in enumerate(HOSTILE_NAMES)]
    limited_many = replace(limited.settings, max_files_per_submission=len(files))
    from intake import create_app

    many = Store(limited_many, engine=limited.engine)
    app = create_app(many.settings, many)
    if True:
        r = Reporter(FlaskHTTP(app.test_client()))
        receipt = r.submit({"description": "hostile names"}, files=files)
        assert r.login(receipt).status == 303
        page = r.case_page()
        assert page.status == 200
        assert "\x1b" not in page.text and "\x00" not in page.text
    # Only random hex blob names were created, all inside the blob store.
    blobs = sorted(p.name for p in many.settings.blob_path.iterdir())
    assert len(blobs) == len(files) and all(re.fullmatch(r"[0-9a-f]{16}", b) for b in blobs)
    instance_files = {p.name for p in many.settings.instance_path.rglob("*")}
    assert not instance_files & {"passwd", "win.ini", "secret.txt", "report.pdf"}
    with many.transaction() as session:
        case, keys = find_case(session, many.settings, receipt.replace(" ", ""))
        assert case is not None
        thread = reporter_thread_key(session, case.id, keys.private_key)
        names = [a.name for a in list_attachments(session, case.id, thread)]
    assert len(names) == len(files)
    for name in names:
        assert "/" not in name and "\\" not in name and name not in (".", "..")
        assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in name), repr(name)
        assert len(name) <= 255


def test_download_names_are_safe_headers(reporter: Reporter, limited: Store) -> None:
    name = as_browser_sends('\r\nSet-Cookie: x=1\r\n"; filename=evil.exe\x1b.txt')
    receipt = reporter.submit({"description": "download"}, files=[(name, b"data")])
    reporter.login(receipt)
    page = reporter.case_page().text
    link = re.search(r'href="(/en/followup/files/[0-9a-f]+)"', page)
    assert link
    r = reporter.http.get(link.group(1))
    assert r.status == 200
    assert "x=1" not in r.headers.get("Set-Cookie", "")
    from werkzeug.http import parse_options_header

    disposition = r.headers["Content-Disposition"]
    assert not any(ord(ch) < 32 for ch in disposition)
    kind, params = parse_options_header(disposition)
    assert kind == "attachment" and set(params) == {"filename"}  # no injected parameter
    assert "/" not in params["filename"] and not any(ord(c) < 32 for c in params["filename"])
    assert r.headers["X-Content-Type-Options"] == "nosniff"


# -- CSRF and sessions ----------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged-token", "IjEyMyI.abc.def"])
def test_missing_or_forged_csrf_is_refused(
    client: Any, reporter: Reporter, limited: Store, seeded: str, token: str | None
) -> None:
    review = reporter.review({"description": "csrf"})
    form = form_to(review.text, "/report/send")
    before = snapshot(limited)
    data = [(k, v) for k, v in form["fields"] if k != "csrf_token"]
    if token is not None:
        data.append(("csrf_token", token))
    r = reporter.http.post(form["action"], data, [("f.txt", b"x" * 200_000)], multipart=True)
    assert r.status == 400 and '<html lang="en"' in r.text and "Traceback" not in r.text
    assert r.receipt is None
    assert snapshot(limited) == before


def test_csrf_token_of_another_browser_is_refused(
    app: Flask, reporter: Reporter, limited: Store, seeded: str
) -> None:
    other = app.test_client().get("/en/report/").get_data(as_text=True)
    stolen = csrf_of(other)
    review = reporter.review({"description": "csrf"})
    form = form_to(review.text, "/report/send")
    before = snapshot(limited)
    data = [(k, v) for k, v in form["fields"] if k != "csrf_token"] + [("csrf_token", stolen)]
    r = reporter.http.post(form["action"], data, multipart=True)
    assert r.status == 400 and r.receipt is None
    assert snapshot(limited) == before


def _cookie(client: Any, name: str) -> str | None:
    c = client.get_cookie(name)
    return c.value if c is not None else None


def test_replayed_session_cookie_after_logout_opens_nothing(
    app: Flask, client: Any, reporter: Reporter, limited: Store
) -> None:
    receipt = reporter.submit({"description": "replay"})
    assert reporter.login(receipt).status == 303
    assert reporter.case_page().status == 200
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    stolen = _cookie(client, cookie_name)
    assert stolen
    page = reporter.case_page()
    r = reporter.post_page_form(page, "/followup/logout", {})
    assert r.status in (200, 303)
    with limited.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ReporterSession)) == 0
    thief = app.test_client()
    thief.set_cookie(cookie_name, stolen)
    r2 = thief.get("/en/followup/case")
    assert r2.status_code in (303, 401, 302)
    assert "replay" not in r2.get_data(as_text=True)


@pytest.mark.parametrize(
    "value",
    [
        "forged",
        "eyJmb2xsb3d1cCI6eyJpZCI6IngiLCJrZXkiOiJ5In19.ZZZ.abc",  # {"followup": ...} unsigned
        "." * 4000,
        "\u00e9\u00e9",
    ],
)
def test_forged_session_cookie_opens_nothing_and_never_5xx(app: Flask, value: str) -> None:
    c = app.test_client()
    c.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    for path in ("/en/followup/case", "/en/followup/", "/en/report/"):
        r = c.get(path)
        assert r.status_code < 500
    assert c.get("/en/followup/case").status_code in (302, 303, 401)


def test_cookie_signed_with_another_instance_key_is_refused(
    app: Flask, reporter: Reporter, client: Any, limited: Store
) -> None:
    from flask.sessions import SecureCookieSessionInterface

    receipt = reporter.submit({"description": "other key"})
    reporter.login(receipt)
    real = _cookie(client, app.config["SESSION_COOKIE_NAME"])
    assert real
    other = Flask("other")
    other.secret_key = secrets.token_bytes(64)
    serializer = SecureCookieSessionInterface().get_signing_serializer(other)
    assert serializer is not None
    payload = app.session_interface.get_signing_serializer(app).loads(real)  # type: ignore[attr-defined]
    forged = serializer.dumps(payload)
    c = app.test_client()
    c.set_cookie(app.config["SESSION_COOKIE_NAME"], forged)
    assert c.get("/en/followup/case").status_code in (302, 303, 401)
    # The control: the genuine cookie does open the case in another client.
    genuine = app.test_client()
    genuine.set_cookie(app.config["SESSION_COOKIE_NAME"], real)
    assert genuine.get("/en/followup/case").status_code == 200


# -- receipts -------------------------------------------------------------------------------


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = primitives.argon2id_kdf

    def counting(size: int, secret: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
        calls.append(memlimit)
        return real(size, secret, salt, opslimit, memlimit)

    monkeypatch.setattr(primitives, "argon2id_kdf", counting)
    return calls


def _typo(receipt: str) -> str:
    digits = receipt.replace(" ", "")
    return digits[:-1] + str((int(digits[-1]) + 1) % 10)


@pytest.mark.parametrize(
    "typed",
    [
        "1234 5678 9O12 3456 7890 1234 5678",
        "abcd efgh ijkl mnop qrst uvwx yzab",
        "1234",
        "1234 5678 9012 3456 7890 1234 5678 9",
        "",
        "12345678901234567890123456789012345678901234567890" * 20,
        "<script>alert(1)</script>",
        "TYPO",
    ],
)
def test_bad_receipts_get_a_clear_400_and_cost_no_derivation(
    reporter: Reporter, limited: Store, derivations: list[int], typed: str
) -> None:
    if typed == "TYPO":
        typed = _typo(new_receipt())
    before = snapshot(limited)
    derivations.clear()
    r = reporter.login(typed)
    assert r.status == 400, r.text[:1000]
    assert '<html lang="en"' in r.text and "Traceback" not in r.text
    assert "<script>alert(1)</script>" not in r.text
    assert derivations == []
    assert snapshot(limited) == before


NAMELESS = b"--b\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--b--\r\n"


def test_a_multipart_part_without_a_name_is_a_400_in_both_apps(app: Flask, limited: Store) -> None:
    """Found by the fuzz: Werkzeug files such a part under the key None, and Flask-WTF's
    CSRF check then crashed (a 500 any client could cause) in both apps."""
    from caseworker import create_app as caseworker_app

    before = snapshot(limited)
    for the_app, path in ((app, "/en/followup/"), (caseworker_app(limited.settings, limited),
                                                    "/login")):
        r = the_app.test_client().post(path, data=NAMELESS,
                                       content_type="multipart/form-data; boundary=b")
        assert r.status_code == 400, (path, r.status_code)
        assert "Traceback" not in r.get_data(as_text=True)
    assert snapshot(limited) == before
