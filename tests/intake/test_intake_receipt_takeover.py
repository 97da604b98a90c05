"""The receipt of an oral report, handed over by the caseworker who recorded it, works
once: at its first use the intake gives the reporter a receipt of their own, so the
recorder's copy can no longer act as the reporter (agree the minutes, read replies)."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from sqlalchemy import func, select

from cases.casework.oral import record_oral_report
from cases.keyring import NoAccess, key_context, reporter_thread_key
from cases.models import Case, HolderKind, WrappedKey
from cases.reporting.claim import (
    AlreadyClaimed,
    claim_receipt,
    new_reporter_receipt,
    sweep_replaced_reporter_keys,
)
from cases.reporting.followup import find_case
from cases.store import Store
from crypto import DecryptionError, derive_reporter_keys, open_with

MINUTES = "The caller says the hospital director sells the new scanners on."
NO_MATCH = "No report matches this receipt."


def _oral_case(store: Store, new_caseworker) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    alice, _ = new_caseworker(store, "alice")
    with store.transaction() as db:
        return record_oral_report(
            db, store.settings, store.policy(db), alice, MINUTES, medium="meeting",
            held_on=dt.date(2026, 5, 6),
        )


def _reporter_rows(store: Store, case_id: str) -> int:
    with store.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(WrappedKey).where(
            WrappedKey.case_id == case_id, WrappedKey.holder_kind == HolderKind.REPORTER)))


def test_the_handed_over_receipt_works_once_then_the_reporters_own(  # type: ignore[no-untyped-def]
    browser, new_browser, store: Store, new_caseworker
) -> None:
    case_id, handed = _oral_case(store, new_caseworker)
    first = browser.login(handed)
    assert first.status_code == 200
    text = html.unescape(first.get_data(as_text=True))
    assert "Your own receipt" in text and "it no longer works now" in text
    own = browser.receipt_of(first).replace(" ", "")
    assert own != handed
    # Signed in already: the minutes are there to agree.
    assert MINUTES in html.unescape(browser.case_page().get_data(as_text=True))
    # The recorder (or anyone told the code) now finds nothing with it.
    recorder = new_browser()
    again = recorder.login(handed)
    assert again.status_code == 400 and NO_MATCH in again.get_data(as_text=True)
    # The reporter's own receipt opens the case as any receipt does.
    later = new_browser()
    assert later.login(own).status_code == 303
    assert MINUTES in html.unescape(later.case_page().get_data(as_text=True))
    with store.transaction() as session:
        case = session.get_one(Case, case_id)
        assert case.receipt_claimed_on == dt.date.today() and case.reporter_key_id


def test_the_handed_over_key_is_swept_by_the_purge(browser, store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    case_id, handed = _oral_case(store, new_caseworker)
    browser.login(handed)
    assert _reporter_rows(store, case_id) == 2  # the intake role cannot delete keys
    settings = store.settings
    handed_keys = derive_reporter_keys(handed, settings.instance_salt, settings.receipt_kdf)
    with store.transaction() as session:
        assert sweep_replaced_reporter_keys(session) == 1
    assert _reporter_rows(store, case_id) == 1
    # A copy of the database and the handed-over code now open nothing.
    with store.transaction() as session:
        for row in session.scalars(select(WrappedKey).where(WrappedKey.case_id == case_id)):
            with pytest.raises(DecryptionError):
                open_with(handed_keys.private_key, row.wrapped,
                          key_context(case_id, row.purpose, row.record_id))
        with pytest.raises((NoAccess, DecryptionError)):
            reporter_thread_key(session, case_id, handed_keys.private_key)
        assert sweep_replaced_reporter_keys(session) == 0


def test_of_two_first_uses_only_one_wins(store: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    _case_id, handed = _oral_case(store, new_caseworker)
    with store.transaction() as session:
        _, handed_keys = find_case(session, store.settings, handed)
    first_receipt, first = new_reporter_receipt(store.settings)
    _, second = new_reporter_receipt(store.settings)
    with store.transaction() as session:
        claim_receipt(session, handed_keys, first)
    with pytest.raises(AlreadyClaimed), store.transaction() as session:
        claim_receipt(session, handed_keys, second)
    with store.transaction() as session:
        assert find_case(session, store.settings, first_receipt)[0] is not None


def test_web_reports_keep_their_receipt(browser, store: Store) -> None:  # type: ignore[no-untyped-def]
    receipt = browser.submit()
    assert browser.login(receipt).status_code == 303  # no take-over page
    with store.transaction() as session:
        assert session.scalar(select(func.count()).where(Case.receipt_claimed_on.is_not(None))) == 0


def test_a_retaliation_report_from_an_oral_reporter_is_a_web_case(  # type: ignore[no-untyped-def]
    browser, new_browser, store: Store, new_caseworker
) -> None:
    """The reporter writes it in the web follow-up: it has no minutes to agree and no
    receipt to take over, even once the oral report it is linked to is purged."""
    from cases.records.retention import purge_case

    case_id, handed = _oral_case(store, new_caseworker)
    own = browser.receipt_of(browser.login(handed)).replace(" ", "")
    page = browser.client.get("/en/followup/retaliation")
    assert browser.post_form(
        page, "/followup/retaliation", what="I lost my shifts after the meeting."
    ).status_code == 303
    with store.transaction() as session:
        linked = session.scalars(select(Case).where(Case.linked_case_id == case_id)).one()
        assert linked.channel == "web"
        purge_case(session, store.blobs, session.get_one(Case, case_id))
    later = new_browser()
    assert later.login(own).status_code == 303  # straight in: no second take-over
    assert "I lost my shifts" in html.unescape(later.case_page().get_data(as_text=True))
