"""The whole journey through the real app: submit -> receipt -> follow-up -> message -> file."""

from __future__ import annotations

from sqlalchemy import func, select

from cases.content import open_attachment
from cases.keyring import caseworker_key
from cases.models import Attachment, Case, KeyPurpose, Message, MessageKind
from cases.store import Store
from crypto import normalize_receipt


def test_submit_receipt_followup_message_and_file(browser, store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(store, "alice")
    evidence = b"%PDF-1.4 ledger " + bytes(range(256)) * 400
    receipt = browser.submit(
        "The director takes bribes from the road contractor.",
        files=[("ledger.pdf", evidence)],
        q_when="Every month since March",
        q_relationship="employee",
    )
    assert len(normalize_receipt(receipt)) == 28

    case_page = browser.login(receipt)
    assert case_page.status_code == 303
    page = browser.case_page()
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "The director takes bribes from the road contractor." in html
    assert "Every month since March" in html
    assert "ledger.pdf" in html
    assert "Nobody has confirmed reading it yet" in html  # status in plain words
    assert "We will confirm receiving it by" in html  # due dates

    sent = browser.post_form(
        page,
        "/case/main/message",
        files=[("photo.jpg", b"\xff\xd8 more evidence")],
        **{"main-text": "I found more documents."},
    )
    assert sent.status_code == 303
    html = browser.case_page().get_data(as_text=True)
    assert "I found more documents." in html and "photo.jpg" in html

    with store.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert session.scalar(select(func.count()).select_from(Attachment)) == 2
        kinds = [m.kind for m in session.scalars(select(Message).order_by(Message.position))]
        assert kinds == [MessageKind.REPORT, MessageKind.REPORTER_MESSAGE]
        # The routed caseworker reads the same thread, files included.
        thread = caseworker_key(session, case.id, KeyPurpose.THREAD, alice.id, alice_key)
        files = {a.id: a for a in session.scalars(select(Attachment))}
        contents = sorted(
            b"".join(open_attachment(store.blobs, session, a, thread)) for a in files.values()
        )
        assert contents == sorted([evidence, b"\xff\xd8 more evidence"])


def test_reporter_downloads_their_file(browser) -> None:  # type: ignore[no-untyped-def]
    receipt = browser.submit(files=[("notes ü.txt", b"secret notes")])
    browser.login(receipt)
    html = browser.case_page().get_data(as_text=True)
    import re

    link = re.search(r'href="(/en/followup/files/[0-9a-f]+)"', html)
    assert link
    response = browser.client.get(link.group(1))
    assert response.status_code == 200
    assert response.data == b"secret notes"
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''notes%20%C3%BC.txt" in response.headers["Content-Disposition"]
