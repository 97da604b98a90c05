"""No one caseworker can make a case disappear (cases.casework.holders), tried through the app:
take colleagues' keys away alone, close the case alone and let retention purge it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from cases.keyring import holders
from cases.models import AuditEntry, Case, HolderRemoval, Status
from cases.records.retention import purge_expired

LATER = dt.date.today() + dt.timedelta(days=3650)  # long past any retention period


@pytest.fixture
def three(store, person, signed_in, h):  # type: ignore[no-untyped-def]
    """A case held by alice, bob and carol, each signed in."""
    alice = person("alice")
    case_id, _ = h.submit(store, "the tender was rigged")
    bob, carol = person("bob"), person("carol")  # joined later: given access below
    a, b, c = signed_in(alice), signed_in(bob), signed_in(carol)
    for who in (bob, carol):
        grant = a.post(f"/cases/{case_id}/grant", {"caseworker": str(who.id)}, prefix="grant")
        assert grant.status_code == 302
    return case_id, (alice, a), (bob, b), (carol, c)


def _pending(store, case_id: str) -> list[HolderRemoval]:  # type: ignore[no-untyped-def]
    with store.transaction() as db:
        rows = db.scalars(select(HolderRemoval).where(HolderRemoval.case_id == case_id)).all()
        db.expunge_all()
        return list(rows)


def _actions(store, case_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with store.transaction() as db:
        return list(db.scalars(
            select(AuditEntry.action).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id)
        ))


def test_one_caseworker_alone_removes_nobody(store, three) -> None:  # type: ignore[no-untyped-def]
    case_id, (alice, a), (bob, b), (carol, _) = three
    for target in (bob, carol):
        asked = a.post(f"/cases/{case_id}/revoke", {"caseworker": str(target.id)})
        assert asked.status_code == 302
    # Asked, not done: both still hold their keys and open the case.
    with store.transaction() as db:
        assert holders(db, case_id) == {alice.id, bob.id, carol.id}
    assert b.get(f"/cases/{case_id}").status_code == 200
    page = a.get(f"/cases/{case_id}/people").get_data(as_text=True)
    assert "Removals waiting for a second person" in page
    # Alice cannot be her own second person, nor ask twice.
    for removal in _pending(store, case_id):
        mine = a.post(f"/cases/{case_id}/removals/{removal.id}/agree")
        assert mine.status_code == 400
        assert "must agree to this" in mine.get_data(as_text=True)
    again = a.post(f"/cases/{case_id}/revoke", {"caseworker": str(bob.id)})
    assert again.status_code == 400
    with store.transaction() as db:
        assert holders(db, case_id) == {alice.id, bob.id, carol.id}


def test_a_second_holder_agrees_and_the_removed_one_is_told(store, three) -> None:  # type: ignore[no-untyped-def]
    case_id, (alice, a), (bob, b), (carol, c) = three
    a.post(f"/cases/{case_id}/revoke", {"caseworker": str(bob.id)})
    [removal] = _pending(store, case_id)
    assert "alice asks to remove bob" in c.get(f"/cases/{case_id}/people").get_data(as_text=True)
    agreed = c.post(f"/cases/{case_id}/removals/{removal.id}/agree")
    assert agreed.status_code == 302
    with store.transaction() as db:
        assert holders(db, case_id) == {alice.id, carol.id}
    assert b.get(f"/cases/{case_id}").status_code == 404
    inbox = b.get("/").get_data(as_text=True)
    assert f"you were removed from case {case_id}: alice asked, carol agreed" in inbox
    with store.transaction() as db:
        revoked = json.loads(db.scalars(select(AuditEntry.detail).where(
            AuditEntry.action == "case.access_revoked")).one())
    assert revoked["target_id"] == bob.id and revoked["requested_by"] == alice.id
    # The notice is Bob's to dismiss, not anyone else's.
    with store.transaction() as db:
        from cases.models import Notice

        notice_id = db.scalars(select(Notice.id).where(Notice.caseworker_id == bob.id)).one()
    a.post(f"/notices/{notice_id}/dismiss")
    assert "you were removed from case" in b.get("/").get_data(as_text=True)
    assert b.post(f"/notices/{notice_id}/dismiss").status_code == 302
    assert "you were removed from case" not in b.get("/").get_data(as_text=True)


def test_the_one_to_be_removed_may_agree_or_refuse(store, three) -> None:  # type: ignore[no-untyped-def]
    case_id, (alice, a), (bob, b), (carol, c) = three
    a.post(f"/cases/{case_id}/revoke", {"caseworker": str(bob.id)})
    [removal] = _pending(store, case_id)
    assert "asks to remove you from this case" in b.get(f"/cases/{case_id}/people").get_data(
        as_text=True
    )
    assert b.post(f"/cases/{case_id}/removals/{removal.id}/refuse").status_code == 302
    assert _pending(store, case_id) == []
    with store.transaction() as db:
        assert bob.id in holders(db, case_id)
    a.post(f"/cases/{case_id}/revoke", {"caseworker": str(carol.id)})
    [removal] = _pending(store, case_id)
    assert c.post(f"/cases/{case_id}/removals/{removal.id}/agree").status_code == 302
    with store.transaction() as db:
        assert holders(db, case_id) == {alice.id, bob.id}
    assert "case.removal_refused" in _actions(store, case_id)


def test_a_removal_is_decided_only_on_its_own_case(store, three, h, person, signed_in) -> None:  # type: ignore[no-untyped-def]
    case_id, (_, a), (bob, _), _ = three
    a.post(f"/cases/{case_id}/revoke", {"caseworker": str(bob.id)})
    [removal] = _pending(store, case_id)
    dave = person("dave")
    other_id, _ = h.submit(store, "another report")  # alice, bob, carol and dave hold it
    d = signed_in(dave)
    assert d.get(f"/cases/{case_id}").status_code == 404  # not a holder of the first case
    assert d.post(f"/cases/{case_id}/removals/{removal.id}/agree").status_code == 404
    forged = d.post(f"/cases/{other_id}/removals/{removal.id}/agree")
    assert forged.status_code == 400
    with store.transaction() as db:
        assert bob.id in holders(db, case_id)


def _conclude(store, case_id: str) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as db:
        db.execute(update(Case).where(Case.id == case_id).values(
            status=Status.CONCLUDED, outcome="substantiated", triaged_on=dt.date.today(),
            risk_assessed_on=dt.date.today(),
        ))


def _purge_later(store) -> list[str]:  # type: ignore[no-untyped-def]
    with store.transaction() as db:
        return purge_expired(db, store.blobs, LATER, 60)


def test_a_closure_by_one_person_is_never_purged_until_another_reviews_it(store, three) -> None:  # type: ignore[no-untyped-def]
    case_id, (alice, a), (bob, b), _ = three
    _conclude(store, case_id)
    assert a.post(f"/cases/{case_id}/close").status_code == 302
    assert _purge_later(store) == []  # ten years on, still there
    page = a.get(f"/cases/{case_id}/workflow").get_data(as_text=True)
    assert "Review of the closure" in page and "Confirm the closure" not in page
    own = a.post(f"/cases/{case_id}/review-closure")
    assert own.status_code == 400 and "must review your closure" in own.get_data(as_text=True)
    assert case_id in b.get("/").get_data(as_text=True)  # Bob's inbox reminds him
    assert b.post(f"/cases/{case_id}/review-closure").status_code == 302
    with store.transaction() as db:
        row = db.get_one(Case, case_id)
        assert (row.closed_by_id, row.closure_reviewed_by_id) == (alice.id, bob.id)
    assert _purge_later(store) == [case_id]


def test_reopening_undoes_the_review(store, three) -> None:  # type: ignore[no-untyped-def]
    case_id, (_, a), (_, b), _ = three
    _conclude(store, case_id)
    a.post(f"/cases/{case_id}/close")
    b.post(f"/cases/{case_id}/review-closure")
    reopened = a.post(f"/cases/{case_id}/reopen", {"reason": "new facts"}, prefix="reopen")
    assert reopened.status_code == 302
    _conclude(store, case_id)
    closed = b.post(f"/cases/{case_id}/close")
    assert closed.status_code == 302, closed.get_data(as_text=True)[-3000:]  # by Bob alone
    assert _purge_later(store) == []
    assert b.post(f"/cases/{case_id}/review-closure").status_code == 400


def test_the_whole_attack_leaves_the_case_in_place(store, three) -> None:  # type: ignore[no-untyped-def]
    """Revoke everyone, close, wait for retention: the case survives every step."""
    case_id, (alice, a), (bob, _), (carol, _) = three
    for target in (bob, carol):
        a.post(f"/cases/{case_id}/revoke", {"caseworker": str(target.id)})
    _conclude(store, case_id)
    a.post(f"/cases/{case_id}/close")
    assert _purge_later(store) == []
    with store.transaction() as db:
        assert holders(db, case_id) == {alice.id, bob.id, carol.id}
    actions = _actions(store, case_id)
    assert actions.count("case.removal_requested") == 2 and "case.access_revoked" not in actions
