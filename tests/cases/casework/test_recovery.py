"""The recovery key at work (cases.casework.recovery), on SQLite and PostgreSQL: it opens
every case, gives cases back to a new account with nothing lost, exports, rotates, and is
refused where it must be."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace

import pytest
from sqlalchemy import select

from cases.casework import recovery
from cases.casework.recovery import RecoveryRefused
from cases.content import open_attachment, read_identity_record, read_messages
from cases.keyring import NoAccess, caseworker_key, recovery_key
from cases.models import (
    Attachment,
    AuditEntry,
    CaseExclusion,
    Caseworker,
    IdentityRecord,
    KeyPurpose,
    MessageKind,
    OutgoingNotice,
    WrappedKey,
    today,
)
from cases.records.audit import verify_chain
from cases.reporting.followup import find_case
from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from crypto import new_recovery_keypair, parse_recovery_key

FILE = bytes(range(256)) * 700


@pytest.fixture
def keyed(any_store: Store) -> tuple[Store, str]:
    """The store, with mail on (so admin alerts are written) and a recovery key we know."""
    text, public = new_recovery_keypair()
    settings = replace(any_store.settings, recovery_public_key=public, smtp_host="127.0.0.1")
    object.__setattr__(any_store, "settings", settings)
    return any_store, text


def _report(store: Store, text: str = "the director falsified the audit") -> str:
    with new_submission(store) as draft:
        upload = draft.new_attachment()
        upload.write(FILE)
        draft.attach(upload, "ledger.xlsx", "application/vnd.ms-excel")
        return draft.finalize(Submission(report={"text": text}, identity={"name": "Jo Bloggs"}))


def _case_id(store: Store, receipt: str) -> str:
    with store.transaction() as db:
        case, _ = find_case(db, store.settings, receipt)
        assert case is not None
        return case.id


def test_unlock_takes_only_this_instances_key(keyed) -> None:  # type: ignore[no-untyped-def]
    store, text = keyed
    assert recovery.unlock(store.settings, text.lower().replace("-", " ")) == parse_recovery_key(
        text
    )
    other, _ = new_recovery_keypair()
    with pytest.raises(RecoveryRefused, match="not this instance's"):
        recovery.unlock(store.settings, other)
    with pytest.raises(RecoveryRefused, match="checksum"):
        recovery.unlock(store.settings, text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1])


def test_every_account_lost_then_the_recovery_key_brings_every_case_back(  # type: ignore[no-untyped-def]
    keyed, new_caseworker
) -> None:
    """The drill: the only holders are gone (disabled, their keys deleted); a new account,
    enrolled after, gets every case back with the report, the file, the internal record
    and the identity."""
    from cases.accounts.administration import disable

    store, text = keyed
    private = parse_recovery_key(text)
    new_caseworker(store, "alice")
    new_caseworker(store, "cora", caseworker=False, custodian=True)
    case_ids = [_case_id(store, _report(store, f"report number {n}")) for n in range(3)]
    with store.transaction() as db:
        for name in ("alice", "cora"):
            account = db.scalars(select(Caseworker).where(Caseworker.username == name)).one()
            disable(db, store.settings, account, actor_id=None)
        assert db.scalars(select(WrappedKey.caseworker_id).where(
            WrappedKey.caseworker_id.is_not(None))).all() == []
    dana, dana_key = new_caseworker(store, "dana", custodian=True)

    with store.transaction() as db:
        assert recovery.check(db, private).failed == []
        done = recovery.grant(db, store.settings, private, "Dana", None, identity=True)
    assert sorted(done.granted) == sorted(case_ids)
    with store.transaction() as db:
        for n, case_id in enumerate(case_ids):
            thread = caseworker_key(db, case_id, KeyPurpose.THREAD, dana.id, dana_key)
            internal = caseworker_key(db, case_id, KeyPurpose.INTERNAL, dana.id, dana_key)
            [report] = read_messages(db, case_id, {KeyPurpose.THREAD: thread}, [MessageKind.REPORT])
            assert report.body["text"] == f"report number {n}"
            assert len(internal) == 32
            attachment = db.scalars(select(Attachment).where(Attachment.case_id == case_id)).one()
            assert b"".join(open_attachment(store.blobs, db, attachment, thread)) == FILE
            record = db.scalars(
                select(IdentityRecord).where(IdentityRecord.case_id == case_id)
            ).one()
            key = caseworker_key(db, case_id, KeyPurpose.IDENTITY, dana.id, dana_key, record.id)
            assert read_identity_record(record, key) == {"name": "Jo Bloggs"}
        actions = db.scalars(select(AuditEntry.action)).all()
        assert actions.count("recovery.access_granted") == 3
        assert verify_chain(db).ok
        admins = db.scalars(select(OutgoingNotice.event)).all()
    # Dana is no administrator: nobody to alert, so no notice row (the admins' own test
    # is below); a second grant changes nothing.
    assert "recovery_used" not in admins
    with store.transaction() as db:
        again = recovery.grant(db, store.settings, private, "dana", None, identity=True)
    assert again.granted == [] and len(again.already) == 3


def test_grant_keeps_exclusions_and_refuses_who_cannot_hold(keyed, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    from cases.accounts.enrolment import create_account

    store, text = keyed
    private = parse_recovery_key(text)
    new_caseworker(store, "root", admin=True, caseworker=False)
    erin, erin_key = new_caseworker(store, "erin")
    case_id = _case_id(store, _report(store))
    with store.transaction() as db:
        db.execute(WrappedKey.__table__.delete().where(WrappedKey.caseworker_id == erin.id))
        db.add(CaseExclusion(case_id=case_id, caseworker_id=erin.id, reason="named"))
    with store.transaction() as db:
        done = recovery.grant(db, store.settings, private, "erin", [case_id])
        assert done.excluded == [case_id] and done.granted == []
        with pytest.raises(RecoveryRefused, match="not an identity custodian"):
            recovery.grant(db, store.settings, private, "erin", [case_id], identity=True)
        with pytest.raises(RecoveryRefused, match="No case"):
            recovery.grant(db, store.settings, private, "erin", ["nosuchcase"])
        with pytest.raises(RecoveryRefused, match="No active account"):
            recovery.grant(db, store.settings, private, "nobody", [case_id])
        create_account(db, store.settings, "fred")
    with store.transaction() as db, pytest.raises(RecoveryRefused, match="first sign-in"):
        recovery.grant(db, store.settings, private, "fred", [case_id])
    with store.transaction() as db:
        with pytest.raises(NoAccess):
            caseworker_key(db, case_id, KeyPurpose.THREAD, erin.id, erin_key)
        db.execute(CaseExclusion.__table__.delete())
    with store.transaction() as db:
        assert recovery.grant(db, store.settings, private, "erin", [case_id]).granted == [case_id]
        # The administrator is told that the recovery key was used.
        assert db.scalars(select(OutgoingNotice.event)).all().count("recovery_used") == 1


def test_export_with_the_recovery_key_is_the_case_and_is_audited(keyed) -> None:  # type: ignore[no-untyped-def]
    store, text = keyed
    case_id = _case_id(store, _report(store, "the ledger was rewritten"))
    archive = b"".join(recovery.export(
        store, parse_recovery_key(text), case_id, include_internal=True, on=today()
    ))
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert "the ledger was rewritten" in zf.read("thread.txt").decode()
        [name] = [n for n in zf.namelist() if n.startswith("attachments/")]
        assert zf.read(name) == FILE and name.endswith("ledger.xlsx")
        assert json.loads(zf.read("case.json"))["exported_by"] == "organisation recovery key"
    with store.transaction() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "case.exported")).one()
        assert entry.actor_id is None and json.loads(entry.detail)["via"] == "recovery"
    with pytest.raises(RecoveryRefused, match="No case"):
        recovery.export(store, parse_recovery_key(text), "nosuchcase", include_internal=False,
                        on=today())


def test_rotation_moves_every_copy_and_adopt_takes_in_what_the_old_key_sealed(keyed) -> None:  # type: ignore[no-untyped-def]
    store, old_text = keyed
    old = parse_recovery_key(old_text)
    before = _case_id(store, _report(store, "before the rotation"))
    new_text, new_public = new_recovery_keypair()
    new = parse_recovery_key(new_text)
    with store.transaction() as db:
        rotated = recovery.rotate(db, store.settings, old, new_public)
    assert rotated == 3  # thread, internal, one identity record
    with store.transaction() as db:
        assert len(recovery_key(db, before, KeyPurpose.THREAD, new)) == 32
        with pytest.raises(Exception):  # noqa: B017 - the old key opens nothing now
            recovery_key(db, before, KeyPurpose.THREAD, old)
        assert len(recovery.check(db, old).failed) == 3
    # An app that ran on with the old public key stores a report: the new key cannot open
    # it, the rotation refuses to run again over it, and adopt brings it over.
    late = _case_id(store, _report(store, "sealed to the old key"))
    object.__setattr__(store, "settings", replace(store.settings, recovery_public_key=new_public))
    with store.transaction() as db:
        assert [f.split(":")[0] for f in recovery.check(db, new).failed] == [late] * 3
        with pytest.raises(RecoveryRefused, match="does not open"):
            recovery.rotate(db, store.settings, new, new_recovery_keypair()[1])
        after_refusal = recovery.check(db, new)  # the refusal changed nothing, even uncommitted
        assert (after_refusal.keys, len(after_refusal.failed)) == (3, 3)
    with store.transaction() as db:
        with pytest.raises(RecoveryRefused, match="current recovery key"):
            recovery.adopt(db, store.settings, new)
        assert recovery.adopt(db, store.settings, old) == 3
    with store.transaction() as db:
        found = recovery.check(db, new)
        assert found.failed == [] and found.cases == 2 and found.keys == 6
        assert {"recovery.key_rotated", "recovery.copies_adopted"} <= set(
            db.scalars(select(AuditEntry.action))
        )
