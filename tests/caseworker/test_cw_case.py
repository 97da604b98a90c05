"""The case page: decrypted content for key holders only, safe rendering of reporter
text, attachments as downloads, and an audit entry for every view and decryption."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

from sqlalchemy import func, select

from cases.keyring import holders
from cases.models import Attachment, AuditEntry, Case, HolderKind, KeyPurpose, WrappedKey
from cases.records.audit import verify_chain

XSS = '<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>'


def audit_actions(store, case_id: str | None = None) -> list[str]:
    with store.transaction() as db:
        query = select(AuditEntry.action).order_by(AuditEntry.id)
        if case_id:
            query = query.where(AuditEntry.case_id == case_id)
        return list(db.scalars(query))


def test_key_holder_reads_the_decrypted_report_and_answers(store, person, signed_in, h) -> None:
    alice = person("alice")
    body = {
        "text": "The procurement officer took 20,000 in cash.",
        "answers": [{"key": "when", "question": "When did it happen?", "answer": "March 2026"}],
    }
    case_id, _ = h.submit(store, body)
    page = signed_in(alice).get(f"/cases/{case_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "The procurement officer took 20,000 in cash." in text
    assert "When did it happen?" in text and "March 2026" in text
    assert "case.viewed" in audit_actions(store, case_id)
    with store.transaction() as db:
        assert db.get_one(Case, case_id).unread_by_caseworkers is False


def test_caseworker_without_a_key_cannot_open_the_case(store, person, signed_in, h) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store, "secret content 7781")
    mallory = person("mallory")  # created after the report: holds no key to it
    b = signed_in(mallory)
    for url in (f"/cases/{case_id}", f"/cases/{case_id}/identity"):
        response = b.get(url)
        assert response.status_code == 404
        assert "secret content 7781" not in response.get_data(as_text=True)
    assert b.post(f"/cases/{case_id}/notes", {"text": "hi"}, prefix="note").status_code == 404
    assert (
        b.post(f"/cases/{case_id}/export", {"include_internal": "y"}, prefix="export").status_code
        == 404
    )
    # Not just hidden: no key is wrapped to mallory, so nothing could decrypt it for her.
    with store.transaction() as db:
        assert mallory.id not in holders(db, case_id)
        assert (
            db.scalar(
                select(func.count())
                .select_from(WrappedKey)
                .where(WrappedKey.caseworker_id == mallory.id)
            )
            == 0
        )
    # A non-existent case looks exactly the same.
    assert b.get("/cases/0000000000000000").status_code == 404
    assert "case.access_denied" in audit_actions(store, case_id)
    assert signed_in(alice).get(f"/cases/{case_id}").status_code == 200


def test_admin_without_caseworker_role_cannot_read_cases(store, person, signed_in, h) -> None:
    person("alice")
    root = person("root", caseworker=False, admin=True)
    case_id, _ = h.submit(store, "for caseworkers only")
    b = signed_in(root)
    assert b.get(f"/cases/{case_id}").status_code == 403
    assert b.get("/cases/new-oral").status_code == 403
    assert b.get("/admin").status_code == 200


def test_signed_out_visitor_is_sent_to_sign_in(browser, store, h) -> None:
    case_id, _ = h.submit(store)
    response = browser.get(f"/cases/{case_id}")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    assert unquote(response.location).endswith(f"/cases/{case_id}")


def test_reporter_text_is_escaped_and_inert(store, person, signed_in, h) -> None:
    alice = person("alice")
    case_id, receipt = h.submit(
        store,
        {"text": XSS, "answers": [{"key": "k", "question": XSS, "answer": XSS}], XSS: XSS},
        files={'"><svg onload=alert(4)>.html': b"<script>alert(5)</script>"},
    )
    from cases.reporting.followup import add_reporter_message, find_case
    from crypto import normalize_receipt

    with store.transaction() as db:
        case, keys = find_case(db, store.settings, normalize_receipt(receipt))
        add_reporter_message(db, case, keys.private_key, XSS, settings=store.settings)
    response = signed_in(alice).get(f"/cases/{case_id}")
    page = response.get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page and "<svg onload" not in page
    assert 'href="javascript:' not in page
    assert html.escape(XSS, quote=False) in page or "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script" not in page.lower()


def test_attachment_download_headers_and_content(store, person, signed_in, h) -> None:
    alice = person("alice")
    data = b"<html><script>alert(1)</script></html>" + bytes(range(256)) * 400
    case_id, _ = h.submit(store, files={"../../etc/evil name\u202e.html": data})
    b = signed_in(alice)
    page = b.get(f"/cases/{case_id}").get_data(as_text=True)
    link = re.search(rf'href="(/cases/{case_id}/attachments/[0-9a-f]+)"', page)
    assert link
    response = b.get(link.group(1))
    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/octet-stream"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "/" not in disposition.split("filename=")[1].split(";")[0]
    assert "\u202e" not in unquote(disposition)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert int(response.headers["Content-Length"]) == len(data)
    assert "attachment.downloaded" in audit_actions(store, case_id)


def test_attachment_of_another_case_is_refused(store, person, signed_in, h) -> None:
    alice = person("alice")
    first, _ = h.submit(store, files={"a.txt": b"first"})
    second, _ = h.submit(store)
    with store.transaction() as db:
        attachment_id = db.scalar(select(Attachment.id).where(Attachment.case_id == first))
    b = signed_in(alice)
    assert b.get(f"/cases/{second}/attachments/{attachment_id}").status_code == 404
    assert b.get(f"/cases/{first}/attachments/{'f' * 16}").status_code == 404


def test_tampered_attachment_does_not_download_as_if_complete(store, person, signed_in, h) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store, files={"a.bin": b"A" * 200_000})
    with store.transaction() as db:
        attachment_id = db.scalar(select(Attachment.id).where(Attachment.case_id == case_id))
    if store.settings.attachment_storage == "filesystem":
        path = store.settings.blob_path / attachment_id
        raw = bytearray(path.read_bytes())
        raw[-5] ^= 1
        path.write_bytes(bytes(raw))
    b = signed_in(alice)
    try:
        response = b.get(f"/cases/{case_id}/attachments/{attachment_id}")
        body = response.data
    except Exception as exc:  # the stream aborts: the client sees a broken download
        assert exc.__class__.__name__ == "DecryptionError"
    else:
        assert len(body) < 200_000


def test_every_view_and_decryption_is_audited_and_the_chain_verifies(
    store, person, signed_in, h
) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store, files={"a.txt": b"x"})
    b = signed_in(alice)
    b.get(f"/cases/{case_id}")
    b.get(f"/cases/{case_id}")
    with store.transaction() as db:
        attachment_id = db.scalar(select(Attachment.id).where(Attachment.case_id == case_id))
    b.get(f"/cases/{case_id}/attachments/{attachment_id}")
    b.post(f"/cases/{case_id}/export", {"include_internal": "y"}, prefix="export").get_data()
    actions = audit_actions(store, case_id)
    assert actions.count("case.viewed") == 1  # one per visit (cases.casework.reading)
    assert "attachment.downloaded" in actions and "case.exported" in actions
    with store.transaction() as db:
        report = verify_chain(db)
        details = list(db.scalars(select(AuditEntry.detail)))
    assert report.ok, report.problems
    assert not any(d == "x" or "a.txt" in d for d in details)


def test_status_history_and_deadlines_are_shown(store, person, signed_in, h) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store)
    b = signed_in(alice)
    b.post(f"/cases/{case_id}/acknowledge", {"message": ""}, prefix="ack")
    page = b.get(f"/cases/{case_id}/history").get_data(as_text=True)
    history = page[page.index('id="history-h"') :]
    assert "Received" in history and "Acknowledged" in history and "alice" in history
    assert "Acknowledgement due" in page and "Feedback due" in page


def test_case_ids_are_not_guessable_or_injectable(store, person, signed_in) -> None:
    alice = person("alice")
    b = signed_in(alice)
    for bad in ("1", "x" * 200, "%27%20OR%201=1--", "..%2F..%2Fetc"):
        assert b.get(f"/cases/{bad}").status_code == 404


def test_internal_keys_never_go_to_the_reporter(store, person, h) -> None:
    person("alice")
    case_id, _ = h.submit(store)
    with store.transaction() as db:
        purposes = db.scalars(
            select(WrappedKey.purpose).where(
                WrappedKey.case_id == case_id, WrappedKey.holder_kind == HolderKind.REPORTER
            )
        ).all()
    assert purposes == [KeyPurpose.THREAD]


def test_the_case_page_says_the_language_the_reporter_wrote_in(store, person, signed_in, h) -> None:  # type: ignore[no-untyped-def]
    alice = person("alice")
    case_id, _ = h.submit(store, {"text": "المدير يتقاضى رشاوى", "answers": [], "language": "ar"})
    page = signed_in(alice).get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Written in: العربية (ar)" in page


def test_the_case_page_says_what_was_removed_from_each_file(store, person, signed_in, h) -> None:
    import pdfkit

    alice = person("alice")
    case_id, _ = h.submit(store, files={"budget.pdf": pdfkit.hidden_everywhere(),
                                        "notes.txt": b"plain notes"})
    page = signed_in(alice).get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Hidden information removed: author, title and software" in page
    assert "Not cleaned: this kind of file is stored as sent." in page
