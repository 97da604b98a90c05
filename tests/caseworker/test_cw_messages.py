"""Replies to the reporter (thread key: the reporter reads them with the receipt), feedback,
and internal notes (internal key: never readable with the receipt)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cases.content import read_messages
from cases.keyring import NoAccess, caseworker_key, reporter_thread_key
from cases.models import Case, HolderKind, KeyPurpose, Message, MessageKind, Status, WrappedKey
from cases.reporting.followup import add_reporter_message, find_case, reporter_view
from crypto import DecryptionError, normalize_receipt, open_with


def reporter_texts(store, receipt: str) -> list[str]:
    with store.transaction() as db:
        case, keys = find_case(db, store.settings, normalize_receipt(receipt))
        return [m.body.get("text", "") for m in reporter_view(db, case, keys.private_key).messages]


def test_reporter_reads_a_reply_written_here(store, person, signed_in, h) -> None:
    alice = person("alice")
    case_id, receipt = h.submit(store)
    b = signed_in(alice)
    response = b.post(
        f"/cases/{case_id}/reply", {"text": "Can you send the invoice?"}, prefix="reply"
    )
    assert response.status_code == 302
    assert reporter_texts(store, receipt)[-1] == "Can you send the invoice?"
    page = b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Can you send the invoice?" in page


def test_reporter_messages_appear_in_the_thread_and_mark_the_case_unread(
    store, person, signed_in, h
) -> None:
    alice = person("alice")
    case_id, receipt = h.submit(store)
    b = signed_in(alice)
    b.get(f"/cases/{case_id}")
    with store.transaction() as db:
        case, keys = find_case(db, store.settings, normalize_receipt(receipt))
        add_reporter_message(
            db, case, keys.private_key, "Here is more: the boss knew.", settings=store.settings
        )
    assert "new activity" in b.get("/").get_data(as_text=True)
    assert "Here is more: the boss knew." in b.get(f"/cases/{case_id}").get_data(as_text=True)


def test_feedback_reply_records_the_feedback_date(store, person, signed_in, h, today) -> None:
    alice = person("alice")
    case_id, receipt = h.submit(store)
    b = signed_in(alice)
    early = b.post(f"/cases/{case_id}/reply", {"text": "Update", "feedback": "y"}, prefix="reply")
    assert early.status_code == 400
    assert "acknowledge the report before giving feedback" in early.get_data(as_text=True).lower()
    b.post(f"/cases/{case_id}/acknowledge", {"message": ""}, prefix="ack")
    response = b.post(
        f"/cases/{case_id}/reply", {"text": "We opened an audit.", "feedback": "y"}, prefix="reply"
    )
    assert response.status_code == 302
    with store.transaction() as db:
        case = db.get_one(Case, case_id)
        assert case.feedback_given_on == today and case.next_due_on is None
    assert "We opened an audit." in reporter_texts(store, receipt)


def test_plain_reply_does_not_count_as_feedback(store, person, signed_in, h) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store)
    b = signed_in(alice)
    b.post(f"/cases/{case_id}/acknowledge", {"message": ""}, prefix="ack")
    b.post(f"/cases/{case_id}/reply", {"text": "A question"}, prefix="reply")
    with store.transaction() as db:
        assert db.get_one(Case, case_id).feedback_given_on is None


def test_internal_note_is_not_decryptable_with_the_receipt(store, person, signed_in, h) -> None:
    alice = person("alice")
    case_id, receipt = h.submit(store)
    b = signed_in(alice)
    response = b.post(f"/cases/{case_id}/notes", {"text": "The CFO is the suspect"}, prefix="note")
    assert response.status_code == 302
    assert "The CFO is the suspect" in b.get(f"/cases/{case_id}/workflow").get_data(as_text=True)
    assert "The CFO is the suspect" not in reporter_texts(store, receipt)
    with store.transaction() as db:
        _case, keys = find_case(db, store.settings, normalize_receipt(receipt))
        note = db.scalars(
            select(Message).where(Message.case_id == case_id, Message.kind == MessageKind.NOTE)
        ).one()
        # The receipt-derived key opens only the thread key...
        thread = reporter_thread_key(db, case_id, keys.private_key)
        # ...which does not decrypt the note,
        [opened] = read_messages(db, case_id, {KeyPurpose.INTERNAL: thread}, [MessageKind.NOTE])
        assert opened.damaged and opened.body == {}
        # and no wrapped internal key opens with the reporter's private key.
        internal_rows = db.scalars(
            select(WrappedKey).where(
                WrappedKey.case_id == case_id, WrappedKey.purpose == KeyPurpose.INTERNAL
            )
        ).all()
        assert internal_rows and all(r.holder_kind != HolderKind.REPORTER for r in internal_rows)
        from cases.keyring import key_context

        for row in internal_rows:
            with pytest.raises(DecryptionError):
                open_with(keys.private_key, row.wrapped, key_context(case_id, KeyPurpose.INTERNAL))
        # The caseworker's internal key does decrypt it.
        key = caseworker_key(db, case_id, KeyPurpose.INTERNAL, alice.id, alice.private_key)
        [body] = [
            m.body
            for m in read_messages(db, case_id, {KeyPurpose.INTERNAL: key}, [MessageKind.NOTE])
        ]
        assert body == {"text": "The CFO is the suspect"}
        assert b"CFO" not in note.ciphertext


def test_empty_note_and_reply_are_refused(store, person, signed_in, h) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store)
    b = signed_in(alice)
    note = b.post(f"/cases/{case_id}/notes", {"text": ""}, prefix="note")
    reply = b.post(f"/cases/{case_id}/reply", {"text": "   "}, prefix="reply")
    assert note.status_code == reply.status_code == 400
    assert 'aria-invalid="true"' in note.get_data(as_text=True)
    with store.transaction() as db:
        kinds = db.scalars(select(Message.kind).where(Message.case_id == case_id)).all()
    assert kinds == [MessageKind.REPORT]


def test_typed_text_is_kept_when_a_form_is_refused(store, person, signed_in, h) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store)
    b = signed_in(alice)
    response = b.post(
        f"/cases/{case_id}/reply", {"text": "Long careful answer", "feedback": "y"}, prefix="reply"
    )
    assert response.status_code == 400
    assert "Long careful answer" in response.get_data(as_text=True)


def test_a_caseworker_without_key_cannot_write_to_the_reporter(store, person, signed_in, h) -> None:
    person("alice")
    case_id, receipt = h.submit(store)
    bob = person("bob")
    response = signed_in(bob).post(f"/cases/{case_id}/reply", {"text": "phish"}, prefix="reply")
    assert response.status_code == 404
    assert "phish" not in reporter_texts(store, receipt)
    with store.transaction() as db, pytest.raises(NoAccess):
        caseworker_key(db, case_id, KeyPurpose.THREAD, bob.id, bob.private_key)


def test_a_reply_to_a_received_case_is_its_acknowledgement_when_the_box_stays_ticked(
    store, person, signed_in, h, today
) -> None:
    """EU 2019/1937 Art. 9(1)(b): a reply that confirms receipt acknowledges the report. On
    a Received case the page puts the acknowledgement first and offers it with the reply."""
    alice = person("alice")
    case_id, receipt = h.submit(store)
    b = signed_in(alice)
    page = b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert page.index('id="acknowledge"') < page.index('id="thread"')  # acknowledgement first
    box = re.search(r'<input[^>]*name="reply-acknowledges"[^>]*>', page)
    assert box is not None and "checked" in box.group(0)  # ticked until the caseworker unticks it
    assert "A reply that confirms receipt is the acknowledgement" in page
    unticked = b.post(f"/cases/{case_id}/reply", {"text": "A question first."}, prefix="reply")
    assert unticked.status_code == 302
    assert db_status(store, case_id) is Status.RECEIVED  # unticked: a plain reply
    sent = b.post(
        f"/cases/{case_id}/reply",
        {"text": "Thank you, we have your report.", "acknowledges": "y"},
        prefix="reply",
    )
    assert sent.status_code == 302
    with store.transaction() as db:
        case = db.get_one(Case, case_id)
        assert case.status is Status.ACKNOWLEDGED and case.acknowledged_on == today
    texts = reporter_texts(store, receipt)
    assert texts.count("Thank you, we have your report.") == 1
    page = b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="acknowledge"' not in page and 'id="thread"' in page
    assert 'name="reply-acknowledges"' not in page  # nothing left to acknowledge


def db_status(store, case_id: str) -> Status:  # type: ignore[no-untyped-def]
    with store.transaction() as db:
        return db.get_one(Case, case_id).status
