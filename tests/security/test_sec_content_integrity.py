"""Someone who can write to the database and holds a case key cannot rewrite or remove what
was reported without ``sealbox audit verify`` saying so.

Before, the audit chain committed to no content: a database writer with a caseworker's
key could replace a report with a well-formed ciphertext of other words, and the chain
still verified. Now each audit entry about a case commits to the case's content chain
(cases.records.audit, cases.records.integrity). Each attack below is done the way such an
attacker would
do it, thoroughly: the new ciphertext is valid under the right key and context, its digest
column and the case's stored head are recomputed. The report is made, followed up and read
through the apps' real routes; the verdict comes from the real ``sealbox`` command.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from secapp import FlaskHTTP, Reporter, signed_in_caseworker
from sqlalchemy import delete, select, update

from cases.content import message_context
from cases.keyring import caseworker_key
from cases.models import Attachment, AuditEntry, AuditHead, Case, Caseworker, KeyPurpose, Message
from cases.records.audit import current_head
from cases.records.integrity import ContentReport, _heads, _items
from cases.store import Store
from caseworker import cli
from crypto import FileSealer, content_digest, decrypt_record, encrypt_record

FAST = {
    "SEALBOX_PASSPHRASE_KDF_OPSLIMIT": "1",
    "SEALBOX_PASSPHRASE_KDF_MEMLIMIT_MIB": "8",
    "SEALBOX_RECEIPT_KDF_OPSLIMIT": "1",
    "SEALBOX_RECEIPT_KDF_MEMLIMIT_MIB": "8",
}


def sealbox(store: Store, *args: str) -> Any:
    env = dict(FAST)
    if store.settings.database_url:
        env["SEALBOX_DATABASE_URL"] = store.settings.database_url
    argv = [*args, "--instance", str(store.settings.instance_path)]
    return CliRunner(env=env).invoke(cli.main, argv)


@pytest.fixture
def reported(store: Store) -> dict[str, Any]:
    """A report with a file, a follow-up message, and a caseworker who read the case."""
    from caseworker import create_app as caseworker_app
    from intake import create_app as intake_app

    back_office = caseworker_app(store.settings, store)
    alice, alice_id = signed_in_caseworker(store, back_office, "alice")
    reporter = Reporter(FlaskHTTP(intake_app(store.settings, store).test_client()))
    receipt = reporter.submit({"description": "The director took 40,000 in cash."},
                              files=[("ledger.csv", b"date,amount\n2026-01-04,40000\n")])
    assert reporter.login(receipt).status == 303
    assert reporter.message("I have the bank statements too.").status == 303
    with store.transaction() as db:
        case_id = db.scalars(select(Case.id)).one()
    assert alice.get(f"/cases/{case_id}").status_code == 200  # audited: commits the content
    from cases.accounts.enrolment import unlock

    with store.transaction() as db:
        key = unlock(db.get_one(Caseworker, alice_id), "correct horse battery staple")
    assert sealbox(store, "audit", "verify").exit_code == 0
    return {"case_id": case_id, "alice_id": alice_id, "key": key, "alice": alice,
            "reporter": reporter}


def _recompute_head(db: Any, store: Store, case_id: str) -> None:
    """What a thorough attacker does after an edit: the stored head made to fit again."""
    items = _items(db, store.blobs, case_id, ContentReport())
    heads = _heads(items)
    case = db.get_one(Case, case_id)
    case.last_position = len(items)
    case.content_head = heads[items[-1].position] if items else None


def _verdict(store: Store, *args: str) -> str:
    result = sealbox(store, "audit", "verify", *args)
    assert result.exit_code == 1, result.output
    return result.output


def test_a_rewritten_report_is_found(store: Store, reported: dict[str, Any]) -> None:
    case_id = reported["case_id"]
    with store.transaction() as db:
        report = db.scalars(
            select(Message).where(Message.case_id == case_id, Message.position == 1)
        ).one()
        thread = caseworker_key(db, case_id, KeyPurpose.THREAD, reported["alice_id"],
                                reported["key"])
        context = message_context(case_id, report.kind, report.id)
        assert b"40,000" in decrypt_record(thread, report.ciphertext, context)
        forged = json.dumps({"text": "Nothing happened.", "answers": []}).encode()
        report.ciphertext = encrypt_record(thread, forged, context)  # valid under the key
        report.digest = content_digest(report.ciphertext)
        db.flush()
        _recompute_head(db, store, case_id)
    output = _verdict(store)
    assert f"case {case_id}: its first" in output and "rewritten or removed" in output


def test_a_removed_follow_up_message_is_found(store: Store, reported: dict[str, Any]) -> None:
    case_id = reported["case_id"]
    with store.transaction() as db:
        db.execute(delete(Message).where(
            Message.case_id == case_id, Message.kind == "REPORTER_MESSAGE"))
        # Close the gap: the items after it move down one.
        for item in (Message, Attachment):
            db.execute(update(item).where(item.case_id == case_id, item.position > 2)
                       .values(position=item.position - 1))
        _recompute_head(db, store, case_id)
    assert "rewritten or removed" in _verdict(store)


def test_a_replaced_attachment_is_found(store: Store, reported: dict[str, Any]) -> None:
    """The file itself replaced, re-encrypted under its own file key (so it still opens)."""
    case_id = reported["case_id"]
    with store.transaction() as db:
        attachment = db.scalars(select(Attachment).where(Attachment.case_id == case_id)).one()
        thread = caseworker_key(db, case_id, KeyPurpose.THREAD, reported["alice_id"],
                                reported["key"])
        from cases.content import _attachment_contexts

        _meta, key_ctx, stream_ctx = _attachment_contexts(case_id, attachment.id)
        file_key = decrypt_record(thread, attachment.file_key_ciphertext, key_ctx)
        sealer = FileSealer(file_key, stream_ctx)
        forged = sealer.push(b"date,amount\n") + sealer.finish()
        writer = store.blobs.writer(db, attachment.id)
        store.blobs.delete(db, attachment.id)
        writer.write(forged)
        writer.commit()
    assert f"attachment {attachment.id} was altered" in _verdict(store)


def test_a_case_deleted_without_a_purge_is_found(store: Store, reported: dict[str, Any]) -> None:
    with store.transaction() as db:
        db.execute(delete(Case).where(Case.id == reported["case_id"]))
    assert f"case {reported['case_id']} is gone, and no purge was recorded" in _verdict(store)


def test_a_reporter_message_not_yet_read_is_sealed_by_the_nightly_purge(
    store: Store, reported: dict[str, Any]
) -> None:
    """Reporter actions are never audited (the entry's time would tell when). The nightly
    purge commits the content of cases a reporter wrote to, so from then on the message
    cannot be changed unnoticed either."""
    case_id = reported["case_id"]
    assert reported["reporter"].message("A second message, nobody has read it.").status == 303
    assert sealbox(store, "purge").exit_code == 0
    with store.transaction() as db:
        sealed = db.scalars(select(AuditEntry).where(AuditEntry.action == "content.sealed")).all()
        assert [e.case_id for e in sealed] == [case_id]
        last = db.scalars(select(Message).where(Message.case_id == case_id)
                          .order_by(Message.position.desc())).first()
        db.delete(last)
        db.flush()
        _recompute_head(db, store, case_id)
    assert "rewritten or removed" in _verdict(store)


def test_a_log_cut_back_is_found_against_an_exported_head(
    store: Store, reported: dict[str, Any]
) -> None:
    """Dropping the last entries (and moving the head row back) keeps the chain valid;
    only a head exported earlier shows it. `sealbox audit head` prints one."""
    exported = sealbox(store, "audit", "head").output.strip()
    assert sealbox(store, "audit", "verify", "--head", exported).exit_code == 0
    entry_id = int(exported.split(":")[0])
    with store.transaction() as db:
        keep = db.get_one(AuditEntry, entry_id - 2)
        db.execute(delete(AuditEntry).where(AuditEntry.id > keep.id))
        head = db.get_one(AuditHead, 1)
        head.last_id, head.last_hash = keep.id, keep.entry_hash
    assert sealbox(store, "audit", "verify").exit_code == 0  # the chain alone looks fine
    output = _verdict(store, "--head", exported)
    assert f"entry {entry_id}, exported as the head earlier, is missing" in output
    with store.transaction() as db:
        assert current_head(db)[0] == entry_id - 2

