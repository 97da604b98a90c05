"""A database writer cannot make reports readable by a key of their own.

Case keys used to be wrapped to whatever ``caseworkers.public_key`` held: one UPDATE made
every later report readable by the attacker's key, long after the intrusion. Now a key is
wrapped only to a public key the instance's key-signing key certified for that account
(cases.keyring.Trust); the signing secret is not in the database, and the intake process
does not even hold it. Here the attacker swaps keys in the database, then a reporter
submits through the intake's real route and a caseworker grants through the back office.
"""

from __future__ import annotations

import pytest
from secapp import FlaskHTTP, Reporter, cw_csrf, signed_in_caseworker
from sqlalchemy import select, update

from cases.keyring import key_context
from cases.models import Case, Caseworker, HolderKind, WrappedKey
from cases.store import Store
from crypto import DecryptionError, new_keypair, open_with


def _wrapped_to(store: Store, case_id: str, caseworker_id: int) -> list[bytes]:
    with store.transaction() as db:
        return list(db.scalars(select(WrappedKey.wrapped).where(
            WrappedKey.case_id == case_id, WrappedKey.caseworker_id == caseworker_id)))


@pytest.fixture
def apps(store: Store):  # type: ignore[no-untyped-def]
    from caseworker import create_app as caseworker_app
    from intake import create_app as intake_app

    back_office = caseworker_app(store.settings, store)
    alice, alice_id = signed_in_caseworker(store, back_office, "alice")
    _bob, bob_id = signed_in_caseworker(store, back_office, "bob")
    reporter = Reporter(FlaskHTTP(intake_app(store.settings, store).test_client()))
    return alice, alice_id, bob_id, reporter


def test_a_swapped_public_key_gets_no_case_key(store: Store, apps) -> None:  # type: ignore[no-untyped-def]
    _alice, alice_id, bob_id, reporter = apps
    attacker_private, attacker_public = new_keypair()
    with store.transaction() as db:
        db.execute(update(Caseworker).where(Caseworker.id == bob_id)
                   .values(public_key=attacker_public))
    with store.transaction() as db:
        before = set(db.scalars(select(Case.id)))
    reporter.submit({"description": "Reported after the intrusion."})
    with store.transaction() as db:
        (case_id,) = set(db.scalars(select(Case.id))) - before
        rows = db.scalars(select(WrappedKey).where(WrappedKey.case_id == case_id)).all()
    # Alice (untouched) and the recovery key hold it; nothing went to the swapped row...
    assert {r.caseworker_id for r in rows if r.holder_kind is HolderKind.CASEWORKER} == {alice_id}
    # ...and no row of the case opens with the attacker's key.
    for row in rows:
        context = key_context(case_id, row.purpose, row.record_id)
        with pytest.raises(DecryptionError):
            open_with(attacker_private, row.wrapped, context)


def test_a_certificate_moved_from_another_account_does_not_verify(store: Store, apps) -> None:  # type: ignore[no-untyped-def]
    """The certificate binds the account id: bob's key and certificate copied into alice's
    row (to read what is routed to her) are refused."""
    _alice, alice_id, bob_id, reporter = apps
    with store.transaction() as db:
        bob = db.get_one(Caseworker, bob_id)
        db.execute(update(Caseworker).where(Caseworker.id == alice_id).values(
            public_key=bob.public_key, key_certificate=bob.key_certificate))
    with store.transaction() as db:
        before = set(db.scalars(select(Case.id)))
    reporter.submit({"description": "Another report."})
    with store.transaction() as db:
        (case_id,) = set(db.scalars(select(Case.id))) - before
    assert _wrapped_to(store, case_id, alice_id) == []
    assert len(_wrapped_to(store, case_id, bob_id)) == 2  # thread and internal


def test_a_grant_to_a_tampered_account_is_refused(store: Store, apps) -> None:  # type: ignore[no-untyped-def]
    alice, _alice_id, bob_id, reporter = apps
    with store.transaction() as db:
        db.execute(update(Caseworker).where(Caseworker.id == bob_id).values(
            public_key=new_keypair()[1]))
    with store.transaction() as db:
        before = set(db.scalars(select(Case.id)))
    reporter.submit({"description": "A third report."})
    with store.transaction() as db:
        (case_id,) = set(db.scalars(select(Case.id))) - before
    token = cw_csrf(alice, f"/cases/{case_id}")
    refused = alice.post(f"/cases/{case_id}/grant",
                         data={"grant-caseworker": str(bob_id), "grant-csrf_token": token})
    assert refused.status_code == 400
    assert "key cannot be verified" in refused.get_data(as_text=True)
    assert _wrapped_to(store, case_id, bob_id) == []  # neither key was wrapped
