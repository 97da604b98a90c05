"""Oral reports: minutes recorded as a new case, a receipt shown once, and the reporter
reading, correcting and agreeing the minutes (cases.reporting.minutes.agree_minutes)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cases.keyring import NoAccess, caseworker_key
from cases.models import AuditEntry, Case, IdentityRecord, KeyPurpose, MessageKind
from cases.reporting.claim import claim_receipt, new_reporter_receipt
from cases.reporting.followup import find_case, reporter_view
from cases.reporting.minutes import NoMinutes, agree_minutes, awaiting_agreement
from crypto import normalize_receipt


def record(b, today, **extra):  # type: ignore[no-untyped-def]
    data = {
        "medium": "phone",
        "held_on": today.isoformat(),
        "category": "",
        "minutes": "Caller says the mayor rigged the tender.",
        **extra,
    }
    return b.post("/cases/new-oral", data)


def receipt_of(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(
        r'<p class="receipt"><code>([\d ]+)</code></p>', response.get_data(as_text=True)
    )
    assert match
    return normalize_receipt(match.group(1))


def take_over(store, handed_receipt: str) -> str:  # type: ignore[no-untyped-def]
    """What the intake does at the handed-over receipt's first use (cases.reporting.claim): returns
    the reporter's own receipt."""
    own_receipt, own = new_reporter_receipt(store.settings)
    with store.transaction() as db:
        case, handed = find_case(db, store.settings, handed_receipt)
        assert case is not None
        claim_receipt(db, handed, own)
    return own_receipt


def test_oral_report_gets_a_receipt_and_the_reporter_reads_the_minutes(
    store, person, signed_in, today
) -> None:
    alice = person("alice")
    b = signed_in(alice)
    form = b.get("/cases/new-oral")
    assert form.status_code == 200
    response = record(b, today)
    assert response.status_code == 200
    receipt = receipt_of(response)
    case_id = re.search(r'href="/cases/([0-9a-f]{16})"', response.get_data(as_text=True)).group(1)
    with store.transaction() as db:
        case, keys = find_case(db, store.settings, receipt)
        assert case is not None and case.id == case_id and case.channel == "oral"
        view = reporter_view(db, case, keys.private_key)
        [minutes] = view.messages
        assert minutes.kind is MessageKind.MINUTES
        assert minutes.body["text"] == "Caller says the mayor rigged the tender."
        assert minutes.body["medium"] == "phone"
        assert caseworker_key(db, case_id, KeyPurpose.INTERNAL, alice.id, alice.private_key)
        assert (
            db.scalar(
                select(AuditEntry.actor_id).where(AuditEntry.action == "case.oral_report_recorded")
            )
            == alice.id
        )
        assert awaiting_agreement(db, case)
    page = b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Minutes of an oral report" in page and "Waiting for the reporter to agree" in page
    assert receipt not in page.replace(" ", "")  # the receipt was shown once only


def test_reporter_agrees_then_revised_minutes_restart_agreement(
    store, person, signed_in, today
) -> None:
    alice = person("alice")
    b = signed_in(alice)
    handed = receipt_of(record(b, today))
    with store.transaction() as db:  # the handed-over receipt agrees nothing
        case, keys = find_case(db, store.settings, handed)
        with pytest.raises(NoAccess):
            agree_minutes(db, case, keys.private_key)
    receipt = take_over(store, handed)
    with store.transaction() as db:
        assert find_case(db, store.settings, handed)[0] is None  # it works once
        case, keys = find_case(db, store.settings, receipt)
        case_id = case.id
        agreed_id = agree_minutes(db, case, keys.private_key)
        assert case.minutes_agreed_on == today and case.minutes_agreed_how == "reporter"
    page = b.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "The reporter agreed the minutes on" in page
    assert "The reporter agreed these minutes." in page
    response = b.post(
        f"/cases/{case_id}/minutes", {"text": "Corrected: the deputy mayor."}, prefix="minutes"
    )
    assert response.status_code == 302
    with store.transaction() as db:
        case, keys = find_case(db, store.settings, receipt)
        assert case.minutes_agreed_on is None and awaiting_agreement(db, case)
        texts = [m.body.get("text") for m in reporter_view(db, case, keys.private_key).messages]
        assert texts[-1] == "Corrected: the deputy mayor."
        assert agree_minutes(db, case, keys.private_key) != agreed_id


def test_agreement_needs_the_reporters_key_and_an_oral_case(
    store, person, signed_in, today, h
) -> None:
    alice = person("alice")
    receipt = take_over(store, receipt_of(record(signed_in(alice), today)))
    _web_case, web_receipt = h.submit(store)
    with store.transaction() as db:
        case, _keys = find_case(db, store.settings, receipt)
        with pytest.raises(NoAccess):
            agree_minutes(db, case, alice.private_key)
        other, other_keys = find_case(db, store.settings, normalize_receipt(web_receipt))
        with pytest.raises(NoMinutes):
            agree_minutes(db, other, other_keys.private_key)
        assert db.get_one(Case, case.id).minutes_agreed_on is None


def test_identity_given_orally_is_sealed_for_custodians(store, person, signed_in, today) -> None:
    alice = person("alice")
    carol = person("carol", caseworker=False, custodian=True)
    response = record(
        signed_in(alice), today, identity_name="Sam Doe", identity_contact="sam@example.org"
    )
    receipt = receipt_of(response)
    with store.transaction() as db:
        case, _ = find_case(db, store.settings, receipt)
        record_row = db.scalars(
            select(IdentityRecord).where(IdentityRecord.case_id == case.id)
        ).one()
        assert b"Sam Doe" not in record_row.ciphertext
        assert caseworker_key(
            db, case.id, KeyPurpose.IDENTITY, carol.id, carol.private_key, record_row.id
        )
        with pytest.raises(NoAccess):
            caseworker_key(
                db, case.id, KeyPurpose.IDENTITY, alice.id, alice.private_key, record_row.id
            )


def test_oral_report_form_validation(store, person, signed_in, today) -> None:
    alice = person("alice")
    b = signed_in(alice)
    response = record(b, today, minutes="")
    assert response.status_code == 400 and 'aria-invalid="true"' in response.get_data(as_text=True)
    with store.transaction() as db:
        assert db.scalars(select(Case)).all() == []


def test_an_agreement_in_person_needs_a_witness_and_is_never_the_reporters(
    store, person, signed_in, today
) -> None:
    alice = person("alice")
    a = signed_in(alice)
    handed = receipt_of(record(a, today))
    bob = person("bob")
    with store.transaction() as db:
        case, _ = find_case(db, store.settings, handed)
        case_id = case.id
    granted = a.post(f"/cases/{case_id}/grant", {"caseworker": str(bob.id)}, prefix="grant")
    assert granted.status_code == 302
    b = signed_in(bob)
    assert a.post(f"/cases/{case_id}/minutes/in-person").status_code == 302
    page = a.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "recorded that the reporter agreed the minutes in person" in page
    # The one who recorded it cannot also be its witness.
    alone = a.post(f"/cases/{case_id}/minutes/in-person/witness")
    assert alone.status_code == 400 and "second caseworker must witness" in alone.get_data(
        as_text=True
    )
    with store.transaction() as db:
        assert db.get_one(Case, case_id).minutes_agreed_on is None
    assert b.post(f"/cases/{case_id}/minutes/in-person/witness").status_code == 302
    with store.transaction() as db:
        row = db.get_one(Case, case_id)
        assert (row.minutes_agreed_on, row.minutes_agreed_how) == (today, "in_person")
    page = a.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Agreed in person on" in page and "recorded by alice, witnessed by bob" in page
    assert "The reporter agreed the minutes on" not in page
    # Nothing in the reporter's thread claims the reporter agreed.
    own = take_over(store, handed)
    with store.transaction() as db:
        case, keys = find_case(db, store.settings, own)
        events = [m.body.get("event") for m in reporter_view(db, case, keys.private_key).messages]
    assert "minutes_agreed" not in events
    with store.transaction() as db:
        actions = list(db.scalars(select(AuditEntry.action).where(AuditEntry.case_id == case_id)))
    assert "case.minutes_in_person_recorded" in actions
    assert "case.minutes_in_person_witnessed" in actions


def test_revised_minutes_cancel_an_agreement_waiting_for_its_witness(
    store, person, signed_in, today
) -> None:
    alice = person("alice")
    a = signed_in(alice)
    with store.transaction() as db:
        case, _ = find_case(db, store.settings, receipt_of(record(a, today)))
        case_id = case.id
    a.post(f"/cases/{case_id}/minutes/in-person")
    a.post(f"/cases/{case_id}/minutes", {"text": "Corrected minutes."}, prefix="minutes")
    with store.transaction() as db:
        assert db.get_one(Case, case_id).minutes_in_person_by_id is None
