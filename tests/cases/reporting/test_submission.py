"""Submitting a case and reading it back, as reporter and as caseworkers, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cases.content import list_attachments, open_attachment, read_messages
from cases.keyring import (
    ExcludedFromCase,
    NoAccess,
    Trust,
    caseworker_key,
    grant_access,
    recovery_key,
    reporter_thread_key,
    revoke_access,
)
from cases.models import (
    Attachment,
    Case,
    HolderKind,
    IdentityRecord,
    KeyPurpose,
    Message,
    MessageKind,
    WrappedKey,
)
from cases.reporting.followup import add_reporter_message, find_case, reporter_view
from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from crypto import DecryptionError, new_recovery_keypair, parse_recovery_key


def submit(
    store: Store,
    text: str = "the minister took a bribe",
    files: dict[str, bytes] | None = None,
    **kw,
) -> str:  # type: ignore[no-untyped-def]
    with new_submission(store) as draft:
        for name, data in (files or {}).items():
            upload = draft.new_attachment()
            for i in range(0, len(data), 10_000):
                upload.write(data[i : i + 10_000])
            draft.attach(upload, name, "application/octet-stream")
        receipt = draft.finalize(Submission(report={"text": text}, **kw))
    return receipt


def test_reporter_reads_own_report_and_files(any_store: Store) -> None:
    data = bytes(range(256)) * 2000
    receipt = submit(any_store, files={"ledger.xlsx": data})
    with any_store.transaction() as session:
        case, keys = find_case(session, any_store.settings, receipt)
        assert case is not None
        view = reporter_view(session, case, keys.private_key)
        assert [m.body["text"] for m in view.messages] == ["the minister took a bribe"]
        assert [(a.name, a.size) for a in view.attachments] == [("ledger.xlsx", len(data))]
        attachment = session.get_one(Attachment, view.attachments[0].id)
        thread = reporter_thread_key(session, case.id, keys.private_key)
        assert b"".join(open_attachment(any_store.blobs, session, attachment, thread)) == data


def test_wrong_receipt_finds_nothing(any_store: Store) -> None:
    submit(any_store)
    from crypto import new_receipt

    with any_store.transaction() as session:
        case, _ = find_case(session, any_store.settings, new_receipt())
    assert case is None


def test_routed_caseworker_reads_everything_and_others_cannot(
    any_store: Store, new_caseworker
) -> None:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(any_store, "alice")
    receipt = submit(any_store)
    bob, bob_key = new_caseworker(any_store, "bob")  # created after: holds no key
    with any_store.transaction() as session:
        case, keys = find_case(session, any_store.settings, receipt)
        assert case is not None
        thread = caseworker_key(session, case.id, KeyPurpose.THREAD, alice.id, alice_key)
        assert thread == reporter_thread_key(session, case.id, keys.private_key)
        with pytest.raises(NoAccess):
            caseworker_key(session, case.id, KeyPurpose.THREAD, bob.id, bob_key)
        # Bob's private key cannot open Alice's wrapped key either: access is cryptographic.
        alice_row = session.scalars(
            select(WrappedKey).where(
                WrappedKey.case_id == case.id, WrappedKey.caseworker_id == alice.id
            )
        ).first()
        assert alice_row is not None
        from cases.keyring import key_context
        from crypto import open_with

        with pytest.raises(DecryptionError):
            open_with(bob_key, alice_row.wrapped, key_context(case.id, alice_row.purpose))


def test_internal_key_is_not_readable_with_the_receipt(any_store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(any_store, "alice")
    receipt = submit(any_store)
    from cases.content import add_message

    with any_store.transaction() as session:
        case, keys = find_case(session, any_store.settings, receipt)
        assert case is not None
        internal = caseworker_key(session, case.id, KeyPurpose.INTERNAL, alice.id, alice_key)
        add_message(
            session,
            case.id,
            MessageKind.NOTE,
            internal,
            {"text": "suspect is the CFO"},
            author_id=alice.id,
        )
    with any_store.transaction() as session:
        case, keys = find_case(session, any_store.settings, receipt)
        assert case is not None
        # No internal key is wrapped to the reporter at all...
        reporter_rows = session.scalars(
            select(WrappedKey.purpose).where(
                WrappedKey.case_id == case.id, WrappedKey.holder_kind == HolderKind.REPORTER
            )
        ).all()
        assert reporter_rows == [KeyPurpose.THREAD]
        # ...and the thread key does not decrypt the note.
        thread = reporter_thread_key(session, case.id, keys.private_key)
        [note] = read_messages(session, case.id, {KeyPurpose.INTERNAL: thread}, [MessageKind.NOTE])
        assert note.damaged and note.body == {}
        assert all(
            m.kind is not MessageKind.NOTE
            for m in reporter_view(session, case, keys.private_key).messages
        )


def test_grant_and_revoke(any_store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(any_store, "alice")
    receipt = submit(any_store)
    bob, bob_key = new_caseworker(any_store, "bob")
    with any_store.transaction() as session:
        case, _ = find_case(session, any_store.settings, receipt)
        assert case is not None
        grant_access(session, Trust.of(any_store.settings), case.id, alice.id, alice_key, bob)
    with any_store.transaction() as session:
        assert caseworker_key(session, case.id, KeyPurpose.INTERNAL, bob.id, bob_key)
        assert revoke_access(session, case.id, bob.id) == 2
    with any_store.transaction() as session, pytest.raises(NoAccess):
        caseworker_key(session, case.id, KeyPurpose.THREAD, bob.id, bob_key)


def test_excluded_caseworker_gets_no_key_and_cannot_be_granted(
    any_store: Store, new_caseworker
) -> None:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(any_store, "alice")
    mallory, mallory_key = new_caseworker(any_store, "mallory", custodian=True)
    receipt = submit(any_store, excluded_caseworker_ids=[mallory.id], identity={"name": "Jo"})
    with any_store.transaction() as session:
        case, _ = find_case(session, any_store.settings, receipt)
        assert case is not None
        assert mallory.id not in {
            r
            for r in session.scalars(
                select(WrappedKey.caseworker_id).where(WrappedKey.case_id == case.id)
            )
        }
        trust = Trust.of(any_store.settings)
        with pytest.raises(ExcludedFromCase):
            grant_access(session, trust, case.id, alice.id, alice_key, mallory)
        grant_access(session, trust, case.id, alice.id, alice_key, mallory, override_exclusion=True)
        assert caseworker_key(session, case.id, KeyPurpose.THREAD, mallory.id, mallory_key)


def test_identity_goes_to_custodians_and_recovery_only(any_store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    recovery_text, recovery_public = new_recovery_keypair()
    store = any_store
    object.__setattr__(
        store, "settings", replace(store.settings, recovery_public_key=recovery_public)
    )
    alice, alice_key = new_caseworker(store, "alice")
    carol, carol_key = new_caseworker(store, "carol", caseworker=False, custodian=True)
    receipt = submit(store, identity={"name": "Jo Bloggs", "phone": "+1 555"})
    from cases.content import read_identity_record

    with store.transaction() as session:
        case, _ = find_case(session, store.settings, receipt)
        assert case is not None
        record = session.scalars(
            select(IdentityRecord).where(IdentityRecord.case_id == case.id)
        ).one()
        key = caseworker_key(session, case.id, KeyPurpose.IDENTITY, carol.id, carol_key, record.id)
        assert read_identity_record(record, key)["name"] == "Jo Bloggs"
        with pytest.raises(NoAccess):
            caseworker_key(session, case.id, KeyPurpose.IDENTITY, alice.id, alice_key, record.id)
        # The custodian-only role does not give access to the report itself.
        with pytest.raises(NoAccess):
            caseworker_key(session, case.id, KeyPurpose.THREAD, carol.id, carol_key)
        rkey = recovery_key(
            session, case.id, KeyPurpose.IDENTITY, parse_recovery_key(recovery_text), record.id
        )
        assert read_identity_record(record, rkey)["phone"] == "+1 555"


def test_reporter_message_marks_case_unread(any_store: Store) -> None:
    receipt = submit(any_store)
    with any_store.transaction() as session:
        case, keys = find_case(session, any_store.settings, receipt)
        assert case is not None
        case.unread_by_caseworkers = False
        add_reporter_message(
            session, case, keys.private_key, "I have more documents", settings=any_store.settings
        )
    with any_store.transaction() as session:
        case, keys = find_case(session, any_store.settings, receipt)
        assert case is not None and case.unread_by_caseworkers
        texts = [m.body["text"] for m in reporter_view(session, case, keys.private_key).messages]
        assert texts == ["the minister took a bribe", "I have more documents"]


def test_failure_part_way_leaves_no_case_and_no_blob(any_store: Store) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), new_submission(any_store) as draft:
        upload = draft.new_attachment()
        upload.write(b"x" * 300_000)
        draft.attach(upload, "a.bin", "application/octet-stream")
        draft.finalize(Submission(report={"text": "t"}))
        raise Boom  # e.g. the database failing at commit time
    with any_store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
        assert session.scalar(select(func.count()).select_from(Message)) == 0
    if any_store.settings.attachment_storage == "filesystem":
        assert list(any_store.settings.blob_path.iterdir()) == []


def test_messages_cannot_be_moved_between_cases(any_store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(any_store, "alice")
    first, second = submit(any_store, "first report"), submit(any_store, "second report")
    with any_store.transaction() as session:
        case1, _ = find_case(session, any_store.settings, first)
        case2, _ = find_case(session, any_store.settings, second)
        assert case1 is not None and case2 is not None
        moved = session.scalars(select(Message).where(Message.case_id == case1.id)).one()
        moved.case_id = case2.id  # an attacker with database access relabels a row
        moved.position = 99  # (and numbers it after the other case's messages)
        session.flush()
        key2 = caseworker_key(session, case2.id, KeyPurpose.THREAD, alice.id, alice_key)
        read = read_messages(session, case2.id, {KeyPurpose.THREAD: key2}, [MessageKind.REPORT])
        assert [m.damaged for m in read] == [False, True]  # its own report, the moved one
        assert read[1].body == {}
        session.rollback()


def test_attachments_listed_for_caseworker(any_store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    alice, alice_key = new_caseworker(any_store, "alice")
    receipt = submit(any_store, files={"a.pdf": b"%PDF-1.4 one", "b.txt": b"two"})
    with any_store.transaction() as session:
        case, _ = find_case(session, any_store.settings, receipt)
        assert case is not None
        thread = caseworker_key(session, case.id, KeyPurpose.THREAD, alice.id, alice_key)
        assert sorted(a.name for a in list_attachments(session, case.id, thread)) == [
            "a.pdf",
            "b.txt",
        ]
