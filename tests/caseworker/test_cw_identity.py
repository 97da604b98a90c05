"""Identity access: a caseworker asks with a reason, a custodian approves (re-wrapping the
identity record key to the requester) or denies; every step audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cases.keyring import NoAccess, caseworker_key
from cases.models import AuditEntry, IdentityRecord, IdentityRequest, KeyPurpose, WrappedKey


@pytest.fixture
def setup(store, person, signed_in, h):  # type: ignore[no-untyped-def]
    alice = person("alice")
    carol = person("carol", caseworker=False, custodian=True)
    case_id, _ = h.submit(store, "report", identity={"name": "Jo Bloggs", "phone": "+1 555 0100"})
    return alice, carol, case_id, signed_in(alice), signed_in(carol)


def actions(store) -> list[str]:
    with store.transaction() as db:
        return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_identity_is_sealed_until_a_custodian_approves(store, setup) -> None:
    alice, _carol, case_id, a, c = setup
    page = a.get(f"/cases/{case_id}/people").get_data(as_text=True)
    assert "Jo Bloggs" not in page and "sealed for the identity custodians" in page
    assert a.get(f"/cases/{case_id}/identity").status_code == 404
    response = a.post(
        f"/cases/{case_id}/identity/request",
        {"reason": "Need to interview the reporter; legal basis art. 16(2)"},
        prefix="identity",
    )
    assert response.status_code == 302
    assert "waiting for a custodian" in a.get(f"/cases/{case_id}/people").get_data(as_text=True)
    twice = a.post(f"/cases/{case_id}/identity/request", {"reason": "again"}, prefix="identity")
    assert twice.status_code == 400
    queue = c.get("/identity-requests").get_data(as_text=True)
    assert "Need to interview the reporter" in queue and case_id in queue
    assert "Jo Bloggs" not in queue  # the custodian decides on the reason, sees no details
    with store.transaction() as db:
        request = db.scalars(select(IdentityRequest)).one()
        assert b"interview" not in request.reason_enc
    response = c.post(f"/identity-requests/{request.id}", {"approve": "Approve"})
    assert response.status_code == 302
    shown = a.get(f"/cases/{case_id}/identity")
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert "Jo Bloggs" in text and "+1 555 0100" in text
    with store.transaction() as db:
        record = db.scalars(select(IdentityRecord)).one()
        assert caseworker_key(
            db, case_id, KeyPurpose.IDENTITY, alice.id, alice.private_key, record.id
        )
        approved = json.loads(
            db.scalar(select(AuditEntry.detail).where(AuditEntry.action == "identity.approved"))
        )
        details = " ".join(db.scalars(select(AuditEntry.detail)))
    assert approved["requester_id"] == alice.id and approved["records_shared"] == 1
    assert "Jo Bloggs" not in details and "interview" not in details
    assert {"identity.requested", "identity.approved", "identity.viewed"} <= set(actions(store))


def test_denied_request_shares_nothing(store, setup) -> None:
    alice, _carol, case_id, a, c = setup
    a.post(f"/cases/{case_id}/identity/request", {"reason": "curiosity"}, prefix="identity")
    with store.transaction() as db:
        request_id = db.scalars(select(IdentityRequest.id)).one()
    assert c.post(f"/identity-requests/{request_id}", {"deny": "Deny"}).status_code == 302
    assert a.get(f"/cases/{case_id}/identity").status_code == 404
    with store.transaction() as db:
        assert db.get_one(IdentityRequest, request_id).state == "denied"
        record_id = db.scalars(select(IdentityRecord.id)).one()
        with pytest.raises(NoAccess):
            caseworker_key(db, case_id, KeyPurpose.IDENTITY, alice.id, alice.private_key, record_id)
    assert "identity.denied" in actions(store)
    again = c.post(f"/identity-requests/{request_id}", {"approve": "Approve"})
    assert again.status_code == 302
    with store.transaction() as db:
        assert db.get_one(IdentityRequest, request_id).state == "denied"


def test_a_custodian_cannot_approve_their_own_request(store, person, signed_in, h) -> None:
    dual = person("dana", custodian=True)  # caseworker and custodian
    case_id, _ = h.submit(store, identity={"name": "Jo"})
    d = signed_in(dual)
    # Dana already holds the identity key as a custodian: she may read it directly.
    assert d.get(f"/cases/{case_id}/identity").status_code == 200
    other = person("erin")
    alice_case, _ = h.submit(store, identity={"name": "Kim"})
    e = signed_in(other)
    e.post(f"/cases/{alice_case}/identity/request", {"reason": "needed"}, prefix="identity")
    with store.transaction() as db:
        request_id = db.scalars(select(IdentityRequest.id)).one()
        db.get_one(IdentityRequest, request_id).requester_id = dual.id
    d.post(f"/identity-requests/{request_id}", {"approve": "Approve"})
    with store.transaction() as db:
        assert db.get_one(IdentityRequest, request_id).state == "pending"


def test_only_custodians_see_identity_requests(store, setup) -> None:
    _alice, _carol, case_id, a, c = setup
    assert a.get("/identity-requests").status_code == 403
    assert c.get("/identity-requests").status_code == 200
    # A custodian-only account cannot read the report itself.
    assert c.get(f"/cases/{case_id}").status_code == 403


def test_no_identity_given(store, person, signed_in, h) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store)
    a = signed_in(alice)
    people = a.get(f"/cases/{case_id}/people").get_data(as_text=True)
    assert "has not given any identity details" in people
    response = a.post(f"/cases/{case_id}/identity/request", {"reason": "x"}, prefix="identity")
    assert response.status_code == 400


def test_an_excluded_custodian_neither_sees_nor_decides_the_cases_requests(
    store, person, signed_in, h
) -> None:
    """Exclusion covers identity requests: the custodian the reporter named does not learn
    that someone asked, cannot read why, and cannot deny (or approve) it."""
    alice = person("alice")
    mallory = person("mallory", custodian=True)  # caseworker and custodian, excluded below
    dave = person("dave", caseworker=False, custodian=True)
    case_id, _ = h.submit(
        store, identity={"name": "Jo Bloggs"}, excluded_caseworker_ids=[mallory.id]
    )
    a, m, d = signed_in(alice), signed_in(mallory), signed_in(dave)
    a.post(f"/cases/{case_id}/identity/request", {"reason": "REASON-MARKER-417"},
           prefix="identity")
    with store.transaction() as db:
        request = db.scalars(select(IdentityRequest)).one()
        readers = set(db.scalars(select(WrappedKey.caseworker_id).where(
            WrappedKey.purpose == KeyPurpose.REQUEST, WrappedKey.record_id == str(request.id))))
    assert readers == {alice.id, dave.id, None}  # requester, eligible custodian, recovery
    seen_by_mallory = m.get("/identity-requests").get_data(as_text=True)
    assert case_id not in seen_by_mallory and "REASON-MARKER-417" not in seen_by_mallory
    assert "REASON-MARKER-417" in d.get("/identity-requests").get_data(as_text=True)
    assert m.post(f"/identity-requests/{request.id}", {"deny": "Deny"}).status_code == 403
    with store.transaction() as db:
        assert db.get_one(IdentityRequest, request.id).state == "pending"
    assert d.post(f"/identity-requests/{request.id}", {"approve": "Approve"}).status_code == 302
    assert a.get(f"/cases/{case_id}/identity").status_code == 200


def test_the_reason_is_not_readable_with_the_server_key(store, setup) -> None:
    """The server key (in the instance file) and the database together no longer open it."""
    from cases.casework.identity import _reason_context
    from crypto import DecryptionError, decrypt_record

    _alice, _carol, case_id, a, _c = setup
    a.post(f"/cases/{case_id}/identity/request", {"reason": "why I ask"}, prefix="identity")
    with store.transaction() as db:
        request = db.scalars(select(IdentityRequest)).one()
        with pytest.raises(DecryptionError):
            decrypt_record(store.settings.server_key, request.reason_enc, _reason_context(request))


def test_requests_sealed_under_the_server_key_are_resealed_by_the_upgrade(store, setup) -> None:
    """Requests made before this version: `sealbox db upgrade` (Store.migrate) seals each
    reason to its readers and the server key no longer opens it."""
    from cases.casework.identity import _reason_context
    from crypto import DecryptionError, decrypt_record, encrypt_record

    _alice, _carol, case_id, a, c = setup
    a.post(f"/cases/{case_id}/identity/request", {"reason": "old reason"}, prefix="identity")
    with store.transaction() as db:  # as the previous version stored it
        request = db.scalars(select(IdentityRequest)).one()
        request.reason_enc = encrypt_record(
            store.settings.server_key, b"an older reason", _reason_context(request)
        )
        db.query(WrappedKey).filter(WrappedKey.purpose == KeyPurpose.REQUEST).delete()
    store.migrate()
    assert "an older reason" in c.get("/identity-requests").get_data(as_text=True)
    with store.transaction() as db:
        request = db.scalars(select(IdentityRequest)).one()
        with pytest.raises(DecryptionError):
            decrypt_record(store.settings.server_key, request.reason_enc, _reason_context(request))
    store.migrate()  # idempotent
    assert "an older reason" in c.get("/identity-requests").get_data(as_text=True)


def test_the_custodians_are_told_by_mail_that_a_request_waits(store, setup) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from mailkit import smtp_server, smtp_settings
    from sqlalchemy import update

    from cases.models import Caseworker
    from cases.notifications.outbox import drain
    from caseworker.mail import Delivery

    _alice, carol, case_id, a, _c = setup
    with smtp_server() as inbox:
        store.settings = replace(store.settings, **smtp_settings(inbox.port))
        with store.transaction() as db:
            db.execute(update(Caseworker).where(Caseworker.id == carol.id)
                       .values(notice_email="carol@example.org"))
        reason = "Need to interview the reporter about the tender"
        response = a.post(f"/cases/{case_id}/identity/request", {"reason": reason},
                          prefix="identity")
        assert response.status_code == 302
        with Delivery(store.settings) as delivery:
            assert drain(store, delivery).sent == 1
        (mail,) = inbox.to("carol@example.org")
        assert "1 identity request waiting for a custodian" in mail.get_content()
        for secret in (case_id, "tender", "Jo Bloggs", "alice"):
            assert secret not in mail.as_string()
