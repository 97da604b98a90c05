"""No plaintext at rest, through the domain layer (cases/) on the real database.

Every kind of content the domain writes carries its own marker: report fields, file names
and contents (several MB, markers at chunk boundaries), identity details, follow-up
messages, replies, acknowledgement text, notes, triage, a reopening reason, an identity
request's reason and oral-report minutes. The scanner then reads every byte written
(database file/WAL/SHM or pg_dump, blob store, instance folder, temporary directory,
captured logs). The app-level version of this test is test_sec_plaintext_apps.py.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace

import pytest
from secutil import Scanner, marker

from cases.casework import choices, holders, identity, oral, steps, writing
from cases.models import Case
from cases.reporting.followup import add_reporter_message, find_case
from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from crypto import CHUNK_SIZE

MIB = 1024 * 1024


def big_file(m: str, size: int) -> bytes:
    """Random bytes with the marker at the start, across a chunk boundary, and at the end."""
    data = bytearray(os.urandom(size))
    token = m.encode()
    for at in (0, CHUNK_SIZE - len(token) // 2, size // 2, size - len(token)):
        data[at : at + len(token)] = token
    return bytes(data)


@pytest.mark.parametrize("storage", ["filesystem", "database"])
def test_nothing_the_domain_writes_is_readable(
    scanner: Scanner,
    store: Store,
    new_caseworker,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
    storage: str,
) -> None:
    store = Store(replace(store.settings, attachment_storage=storage), engine=store.engine)
    alice, alice_key = new_caseworker(store, "alice", custodian=True)
    m = {name: marker(name) for name in (
        "report", "question", "filename", "filedata", "identity", "followup", "reply",
        "ack", "note", "risk", "triage", "reopen", "reason", "minutes", "medium_name",
        "outcome_told",
    )}
    files = {
        f"{m['filename']}.pdf": big_file(m["filedata"], 5 * MIB + 123),
        "small.txt": f"small {m['filedata']}".encode(),
    }
    with new_submission(store) as draft:
        for name, data in files.items():
            upload = draft.new_attachment()
            for i in range(0, len(data), 100_000):
                upload.write(data[i : i + 100_000])
            draft.attach(upload, name, "application/pdf")
        receipt = draft.finalize(
            Submission(
                report={"text": m["report"], "when": m["question"]},
                identity={"name": m["identity"], "contact": m["identity"] + "@example.org"},
            )
        )
    with store.transaction() as db:
        case, keys = find_case(db, store.settings, receipt)
        assert case is not None
        add_reporter_message(db, case, keys.private_key, m["followup"], settings=store.settings)
    with store.transaction() as db:
        case = db.get_one(Case, case.id)
        steps.acknowledge_case(db, store.policy(db).deadlines, case, alice, alice_key, m["ack"])
        writing.reply(db, case, alice, alice_key, m["reply"])
        writing.add_note(db, case, alice, alice_key, m["note"])
        steps.record_triage(
            db, case, alice, alice_key, scope=m["triage"], priority=2, completeness="complete",
            notes=m["triage"],
        )
        steps.record_risk(
            db, case, alice, alice_key, likelihood="low", impact="high", measures=m["risk"],
            review_on=None,
        )
        steps.conclude(
            db, case, alice, alice_key, outcome=choices.OUTCOMES[0],
            protection=choices.PROTECTION[0], protection_measures=m["note"], summary=m["note"],
            feedback=m["outcome_told"],
        )
        steps.reopen(db, case, alice, alice_key, m["reopen"])
    bob, _ = new_caseworker(store, "bob")
    with store.transaction() as db:
        case = db.get_one(Case, case.id)
        holders.grant(db, store.settings, case, alice, alice_key, bob.id)
    with store.transaction() as db:
        case = db.get_one(Case, case.id)
        identity.request_identity(db, store.settings, case, bob, m["reason"])
    with store.transaction() as db:
        oral.record_oral_report(
            db, store.settings, store.policy(db), alice, m["minutes"], medium="phone",
            held_on=dt.date.today(), identity={"name": m["medium_name"]},
        )
    scanner.add_text("caplog", caplog.text)
    scanner.assert_clean(m.values())
    scanner.assert_scanned("pg_dump" if store.engine.dialect.name == "postgresql" else "sealbox.db")

