"""Type by content through the intake (ASVS 5.2): each file's type is recognised from its
first bytes while it streams in, stored in the encrypted attachment metadata beside the
declared name and type, and the caseworker's case page warns when they disagree. The
recognition itself is tested in tests/cases/attachments/test_filetype.py."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pyotp
from sqlalchemy import select

from cases.accounts.enrolment import create_caseworker, unlock
from cases.accounts.twofactor import TOTP_PERIOD, new_totp_secret, seal_totp_secret
from cases.content import AttachmentMeta, attachment_meta
from cases.keyring import caseworker_key
from cases.models import Attachment, Case, Caseworker, KeyPurpose
from cases.store import Store
from caseworker import create_app as create_caseworker_app

PASSPHRASE = "correct horse battery staple"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"


def _zip(*entries: tuple[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in entries:
            zf.writestr(zipfile.ZipInfo(name), text)
    return buf.getvalue()


DOCX = _zip(
    ("[Content_Types].xml", "<Types/>"),
    ("_rels/.rels", "<Relationships/>"),
    ("word/document.xml", "<w:document/>"),
)
PLAIN_ZIP = _zip(("ledger.csv", "a,b\n1,2\n"))


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
            ("ledger.pdf", PDF + b"\n" * 100),
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
