"""``verify_content`` reads the cases a batch at a time: the verdict is the same for any
batch size, and what it finds in a late batch is found (cases.records.integrity)."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from cases.models import Case, Message
from cases.records.audit import record
from cases.records.integrity import verify_content
from cases.records.retention import purge_cases
from cases.reporting.submission import Submission, new_submission
from cases.store import Store


def _reports(store: Store, n: int) -> list[str]:
    for number in range(n):
        with new_submission(store) as draft:
            upload = draft.new_attachment()
            upload.write(b"scan %d " % number * 50)
            draft.attach(upload, "scan.txt", "text/plain")
            draft.finalize(Submission(report={"text": f"report {number}"}))
    with store.transaction() as session:
        ids = list(session.scalars(select(Case.id).order_by(Case.id)))
        for case_id in ids:
            record(session, "case.viewed", actor_id=1, case_id=case_id)  # commits the content
    return ids


def _problems(store: Store, batch: int) -> list[str]:
    with store.transaction() as session:
        report = verify_content(session, store.blobs, batch=batch)
    assert report.cases == len(list_cases(store))
    return report.problems


def list_cases(store: Store) -> list[str]:
    with store.transaction() as session:
        return list(session.scalars(select(Case.id)))


def test_the_verdict_does_not_depend_on_the_batch(any_store: Store) -> None:
    ids = _reports(any_store, 5)
    for batch in (1, 2, 500):
        assert _problems(any_store, batch) == []
    with any_store.transaction() as session:
        report = verify_content(session, any_store.blobs, batch=2)
    assert (report.cases, report.items, report.commitments) == (5, 10, 5)
    with any_store.transaction() as session:  # the last case: in the third batch of two
        session.execute(update(Message).where(Message.case_id == ids[-1])
                        .values(ciphertext=b"\x00" * 80))
        session.execute(delete(Case).where(Case.id == ids[2]))  # no purge recorded
        purge_cases(session, any_store.blobs, [ids[0]])  # a purge, recorded: not a problem
    found = {batch: _problems(any_store, batch) for batch in (1, 2, 500)}
    assert found[1] == found[2] == found[500]
    assert any(ids[-1] in p and "was altered" in p for p in found[2])
    assert f"case {ids[2]} is gone, and no purge was recorded" in found[2]
    assert not any(ids[0] in p for p in found[2])
