"""Type by content (ASVS 5.2): each file's type is recognised from its first bytes while it
streams in through the intake, stored in the encrypted attachment metadata beside the
declared name and type, and the caseworker's case page warns when they disagree."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pyotp
import pytest
from sqlalchemy import select

from cases.accounts import create_caseworker, unlock
from cases.content import AttachmentMeta, attachment_meta
from cases.filetype import HEAD_BYTES, TypeSniffer, detect, disagreement
from cases.keyring import caseworker_key
from cases.models import Attachment, Case, Caseworker, KeyPurpose
from cases.store import Store
from cases.twofactor import TOTP_PERIOD, new_totp_secret, seal_totp_secret
from caseworker import create_app as create_caseworker_app

PASSPHRASE = "correct horse battery staple"


def _zip(*entries: tuple[str, str], first_stored: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, (name, text) in enumerate(entries):
            method = zipfile.ZIP_STORED if first_stored and i == 0 else zipfile.ZIP_DEFLATED
            zf.writestr(zipfile.ZipInfo(name), text, compress_type=method)
    return buf.getvalue()


DOCX = _zip(
    ("[Content_Types].xml", "<Types/>"),
    ("_rels/.rels", "<Relationships/>"),
    ("word/document.xml", "<w:document/>"),
)
XLSX = _zip(("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<workbook/>"))
ODT = _zip(
    ("mimetype", "application/vnd.oasis.opendocument.text"),
    ("content.xml", "<office:document-content/>"),
    first_stored=True,
)
PLAIN_ZIP = _zip(("ledger.csv", "a,b\n1,2\n"))

SAMPLES = {
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
    "zip": PLAIN_ZIP,
    "docx": DOCX,
    "xlsx": XLSX,
    "odt": ODT,
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "gif": b"GIF89a\x01\x00\x01\x00",
    "webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    "mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41",
    "mov": b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ",
    "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    "ogg": b"OggS\x00\x02\x00\x00",
    "wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
    "rtf": b"{\\rtf1\\ansi\\deff0 ",
    "cfb": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 24,
    "7z": b"7z\xbc\xaf\x27\x1c\x00\x04",
    "rar": b"Rar!\x1a\x07\x01\x00",
    "gzip": b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
    "text": "Überweisung an die Firma, 12.000 €\r\n".encode(),
    "html": b"<!DOCTYPE html><html><script>alert(1)</script>",
    "exe": b"MZ\x90\x00\x03\x00\x00\x00",
    "unknown": bytes(range(256)),
    "empty": b"",
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_detect_common_formats_by_their_first_bytes(kind: str) -> None:
    assert detect(SAMPLES[kind]) == kind


def test_utf16_text_is_not_taken_for_mp3() -> None:
    assert detect("notes".encode("utf-16")) == "text"


def test_sniffer_keeps_only_the_head_however_the_file_is_cut() -> None:
    data = DOCX + bytes(range(256)) * 200
    for piece in (1, 7, 4096, len(data)):
        sniffer = TypeSniffer()
        for i in range(0, len(data), piece):
            sniffer.feed(data[i : i + piece])
        assert sniffer.detected == "docx"
        assert len(sniffer._head) == HEAD_BYTES  # memory stays bounded


@pytest.mark.parametrize(
    ("name", "declared", "detected", "warning"),
    [
        ("invoice.pdf", "application/pdf", "zip", "a ZIP archive"),
        ("invoice.pdf", "application/pdf", "pdf", None),
        ("contract.docx", "", "docx", None),
        ("contract.docx", "", "zip", None),  # an Office file is a ZIP underneath
        ("photo.JPG", "image/jpeg", "exe", "a Windows program"),
        ("photo.jpg", "image/jpeg", "unknown", "not a format we recognise"),
        ("IMG_0001.MOV", "video/quicktime", "mp4", None),
        ("notes.txt", "text/plain", "html", "a web page (HTML)"),
        ("notes.txt", "text/plain", "unknown", None),  # odd encodings are still text
        ("scan", "application/pdf", "jpeg", "a JPEG image"),  # no extension: declared type
        ("data.xyz", "application/octet-stream", "zip", None),
        ("data.xyz", "application/octet-stream", "elf", "a Linux program"),
        ("empty.pdf", "application/pdf", "empty", None),
        ("old.pdf", "application/pdf", "", None),  # stored before detection existed
    ],
)
def test_disagreement(name: str, declared: str, detected: str, warning: str | None) -> None:
    assert disagreement(name, declared, detected) == warning


# -- through the real apps ----------------------------------------------------------------


def _caseworker(store: Store, username: str = "alice") -> tuple[int, bytes, str]:
    secret = new_totp_secret()
    with store.transaction() as db:
        account = create_caseworker(db, store.settings, username, PASSPHRASE)
        account.totp_secret_enc = seal_totp_secret(store.settings.server_key, account.id, secret)
    return account.id, unlock(account, PASSPHRASE), secret


def _caseworker_client(store: Store, username: str, account_id: int, secret: str):  # type: ignore[no-untyped-def]
    """The caseworker app, signed in through its real pages (passphrase, then TOTP)."""
    app = create_caseworker_app(store.settings, store)
    client = app.test_client()

    def token(page: str) -> str:
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert match
        return match.group(1)

    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login", data={"csrf_token": token(page), "username": username, "passphrase": PASSPHRASE}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get(response.location).get_data(as_text=True)
    with store.transaction() as db:
        last = db.get_one(Caseworker, account_id).totp_last_counter
    counter = max(last + 1, int(time.time()) // TOTP_PERIOD - 1)
    code = str(pyotp.TOTP(secret).generate_otp(counter))
    response = client.post("/login/code", data={"csrf_token": token(page), "code": code})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return client


def test_detected_type_is_stored_encrypted_and_the_case_page_warns(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    alice_id, alice_key, secret = _caseworker(store)
    browser.submit(
        "The invoices were faked.",
        files=[
            ("invoice.pdf", PLAIN_ZIP),  # named .pdf, content is a ZIP archive
            ("ledger.pdf", SAMPLES["pdf"] + b"\n" * 100),
            ("contract.docx", DOCX),
            # The name is reporter text: escaped in the warning.
            ("<img src=x onerror=alert(1)>.pdf", PLAIN_ZIP),
        ],
    )
    with store.transaction() as session:
        case = session.scalars(select(Case)).one()
        thread = caseworker_key(session, case.id, KeyPurpose.THREAD, alice_id, alice_key)
        rows = list(session.scalars(select(Attachment)))
        metas: dict[str, AttachmentMeta] = {
            m.name: m for m in (attachment_meta(a, thread) for a in rows)
        }
        for row in rows:  # the detected type is inside the ciphertext, not beside it
            assert b"zip" not in row.meta_ciphertext and b"detected" not in row.meta_ciphertext
    assert {n: m.detected for n, m in metas.items()} == {
        "<img src=x onerror=alert(1)>.pdf": "zip",
        "invoice.pdf": "zip",
        "ledger.pdf": "pdf",
        "contract.docx": "docx",
    }
    assert metas["invoice.pdf"].content_type == "application/pdf"  # as the browser declared
    assert metas["invoice.pdf"].content_mismatch == "a ZIP archive"
    assert metas["ledger.pdf"].content_mismatch is None

    client = _caseworker_client(store, "alice", alice_id, secret)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    warnings = re.findall(r'<p class="flash flash-error">([^<]*)</p>', page)
    assert any("invoice.pdf" in w and "its content is a ZIP archive" in w for w in warnings), (
        warnings
    )
    assert not any("ledger.pdf" in w or "contract.docx" in w for w in warnings)
    assert any("&lt;img src=x onerror=alert(1)&gt;.pdf" in w for w in warnings), warnings
    assert "<img src=x" not in page


def test_follow_up_files_get_their_type_too(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    alice_id, alice_key, _ = _caseworker(store)
    browser.login(browser.submit())
    response = browser.post_form(
        browser.case_page(),
        "/case/main/message",
        files=[("minutes.txt", b"MZ\x90\x00" + bytes(300))],
        **{"main-text": "the minutes"},
    )
    assert response.status_code == 303
    with store.transaction() as session:
        case = session.scalars(select(Case)).one()
        thread = caseworker_key(session, case.id, KeyPurpose.THREAD, alice_id, alice_key)
        meta = attachment_meta(session.scalars(select(Attachment)).one(), thread)
    assert meta.detected == "exe"
    assert meta.content_mismatch == "a Windows program"
