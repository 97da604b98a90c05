"""Granting and revoking access (re-wrapping case keys), conflicts of interest and
exclusions, with audited overrides."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cases.content import read_messages
from cases.keyring import NoAccess, caseworker_key, holders
from cases.models import AuditEntry, CaseExclusion, HolderRemoval, KeyPurpose, MessageKind


@pytest.fixture
def team(store, person, signed_in, h):  # type: ignore[no-untyped-def]
    alice = person("alice")
    case_id, _ = h.submit(store, "shared report")
    bob = person("bob")  # joined later: no key yet
    return alice, bob, case_id, signed_in(alice)


def test_grant_rewraps_the_keys_to_the_newcomer(store, team, signed_in) -> None:
    _alice, bob, case_id, a = team
    assert signed_in(bob).get(f"/cases/{case_id}").status_code == 404
    response = a.post(f"/cases/{case_id}/grant", {"caseworker": str(bob.id)}, prefix="grant")
    assert response.status_code == 302
    with store.transaction() as db:
        for purpose in (KeyPurpose.THREAD, KeyPurpose.INTERNAL):
            assert caseworker_key(db, case_id, purpose, bob.id, bob.private_key)
        detail = db.scalar(
            select(AuditEntry.detail).where(AuditEntry.action == "case.access_granted")
        )
    granted = json.loads(detail)
    assert granted.pop("content").startswith("1:")  # the one item (the report) it gave
    assert granted == {"grantee_id": bob.id}
    page = signed_in(bob).get(f"/cases/{case_id}")
    assert page.status_code == 200 and "shared report" in page.get_data(as_text=True)
    twice = a.post(f"/cases/{case_id}/grant", {"caseworker": str(bob.id)}, prefix="grant")
    assert twice.status_code == 400


def test_revoke_deletes_the_keys(store, team, signed_in) -> None:
    alice, bob, case_id, a = team
    a.post(f"/cases/{case_id}/grant", {"caseworker": str(bob.id)}, prefix="grant")
    b = signed_in(bob)
    assert b.get(f"/cases/{case_id}").status_code == 200
    assert a.post(f"/cases/{case_id}/revoke", {"caseworker": str(bob.id)}).status_code == 302
    with store.transaction() as db:
        [removal_id] = db.scalars(select(HolderRemoval.id)).all()
    # Two people: Alice asked, Bob (the one removed) agrees (tests/caseworker/test_cw_holders.py).
    assert b.post(f"/cases/{case_id}/removals/{removal_id}/agree").status_code == 302
    assert b.get(f"/cases/{case_id}").status_code == 404
    with store.transaction() as db:
        assert bob.id not in holders(db, case_id)
        with pytest.raises(NoAccess):
            caseworker_key(db, case_id, KeyPurpose.INTERNAL, bob.id, bob.private_key)
    myself = a.post(f"/cases/{case_id}/revoke", {"caseworker": str(alice.id)})
    assert myself.status_code == 400
    assert a.get(f"/cases/{case_id}").status_code == 200


def test_stepping_away_is_confirmed_on_a_page_that_says_what_happens(
    store, team, signed_in
) -> None:
    """One click used to delete one's keys for good: the case page now links to a page that
    explains, and only its button steps away."""
    alice, bob, case_id, a = team
    page = a.get(f"/cases/{case_id}/people").get_data(as_text=True)
    assert f'href="/cases/{case_id}/conflict"' in page
    assert f'action="/cases/{case_id}/conflict"' not in page  # no one-click form on the case
    confirm = a.get(f"/cases/{case_id}/conflict")
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Your keys to this case are deleted at once" in text and "cannot be undone" in text
    assert "You are the only caseworker on this case" in text  # alice holds it alone
    assert f'action="/cases/{case_id}/conflict"' in text
    with store.transaction() as db:
        assert alice.id in holders(db, case_id)  # looking changed nothing
    a.post(f"/cases/{case_id}/grant", {"caseworker": str(bob.id)}, prefix="grant")
    shared = a.get(f"/cases/{case_id}/conflict").get_data(as_text=True)
    assert "You are the only caseworker on this case" not in shared
    outsider = signed_in(bob)
    with store.transaction() as db:
        assert bob.id in holders(db, case_id)
    assert outsider.get("/cases/0123456789abcdef/conflict").status_code == 404


def test_conflict_of_interest_removes_own_keys_and_blocks_regrant(store, team, signed_in) -> None:
    alice, bob, case_id, a = team
    a.post(f"/cases/{case_id}/grant", {"caseworker": str(bob.id)}, prefix="grant")
    b = signed_in(bob)
    response = b.post(f"/cases/{case_id}/conflict")
    assert response.status_code == 302 and response.location == "/"
    assert b.get(f"/cases/{case_id}").status_code == 404
    with store.transaction() as db:
        assert bob.id not in holders(db, case_id) and bob.id not in holders(
            db, case_id, KeyPurpose.INTERNAL
        )
        assert (
            db.get(CaseExclusion, {"case_id": case_id, "caseworker_id": bob.id}).reason
            == "conflict"
        )
    refused = a.post(f"/cases/{case_id}/grant", {"caseworker": str(bob.id)}, prefix="grant")
    assert refused.status_code == 400 and "excluded" in refused.get_data(as_text=True)
    no_reason = a.post(
        f"/cases/{case_id}/grant", {"caseworker": str(bob.id), "override": "y"}, prefix="grant"
    )
    assert no_reason.status_code == 400
    override = a.post(
        f"/cases/{case_id}/grant",
        {"caseworker": str(bob.id), "override": "y", "override_reason": "only Arabic speaker"},
        prefix="grant",
    )
    assert override.status_code == 302
    with store.transaction() as db:
        detail = json.loads(
            db.scalars(
                select(AuditEntry.detail).where(AuditEntry.action == "case.access_granted")
            ).all()[-1]
        )
        assert detail["exclusion_overridden"] is True
        key = caseworker_key(db, case_id, KeyPurpose.INTERNAL, alice.id, alice.private_key)
        notes = read_messages(db, case_id, {KeyPurpose.INTERNAL: key}, [MessageKind.NOTE])
    assert notes[-1].body == {"text": "only Arabic speaker", "event": "exclusion_overridden"}
    assert "only Arabic" not in json.dumps(detail)


def test_last_holder_cannot_step_away(store, team) -> None:
    alice, _bob, case_id, a = team
    response = a.post(f"/cases/{case_id}/conflict")
    assert response.status_code == 400
    assert "only caseworker with access" in response.get_data(as_text=True)
    with store.transaction() as db:
        assert alice.id in holders(db, case_id)


def test_caseworker_excluded_by_the_reporter(store, person, signed_in, h) -> None:
    alice, mallory = person("alice"), person("mallory")
    case_id, _ = h.submit(store, excluded_caseworker_ids=[mallory.id])
    assert signed_in(mallory).get(f"/cases/{case_id}").status_code == 404
    a = signed_in(alice)
    page = a.get(f"/cases/{case_id}/people").get_data(as_text=True)
    assert "named by the reporter" in page and "excluded from this case" in page
    refused = a.post(f"/cases/{case_id}/grant", {"caseworker": str(mallory.id)}, prefix="grant")
    assert refused.status_code == 400
    with store.transaction() as db:
        assert mallory.id not in holders(db, case_id)


def test_grant_to_an_admin_only_account_is_refused(store, team, person) -> None:
    _alice, _bob, case_id, a = team
    root = person("root", caseworker=False, admin=True)
    response = a.post(f"/cases/{case_id}/grant", {"caseworker": str(root.id)}, prefix="grant")
    assert response.status_code == 400
    with store.transaction() as db:
        assert root.id not in holders(db, case_id)
