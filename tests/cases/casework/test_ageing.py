"""Quiet and abandoned cases (cases.casework.ageing, the flags of
cases.notifications.deadlines, the purge of cases.records.retention), on SQLite and
PostgreSQL: flagged once to holders and administrators, again after new activity and a new
silence, deleted only under an explicit policy, after notice, never on legal hold."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from sqlalchemy import select, update

from cases.casework.ageing import abandoned_for_purge, quiet_cases
from cases.models import AuditEntry, Case, Message, OutgoingNotice, today
from cases.notifications.deadlines import flag_quiet_cases, flag_unheld_cases
from cases.records.retention import purge_abandoned
from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from config import ConfigError, load_settings

TODAY = today()


def _days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def mailed(any_store: Store) -> Store:
    any_store.settings = replace(any_store.settings, smtp_host="127.0.0.1")  # type: ignore[misc]
    return any_store


def _case(store: Store, text: str = "a report") -> str:
    with new_submission(store) as draft:
        draft.finalize(Submission(report={"text": text}))
        return draft.case_id


def _notices(store: Store) -> list[tuple[int, str]]:
    with store.transaction() as db:
        rows = db.execute(select(OutgoingNotice.caseworker_id, OutgoingNotice.event)).all()
        db.execute(OutgoingNotice.__table__.delete())
    return sorted((int(r[0]), str(r[1])) for r in rows)


def test_the_last_activity_is_the_newest_step_message_or_file(any_store: Store) -> None:
    case_id = _case(any_store)
    with any_store.transaction() as db:
        db.execute(update(Case).values(received_on=_days(-500), reporter_activity_on=None))
        db.execute(update(Message).values(created_on=_days(-200)))
    with any_store.transaction() as db:
        [quiet] = quiet_cases(db, TODAY, 90)
        assert (quiet.case_id, quiet.last_active_on) == (case_id, _days(-200))
        assert quiet_cases(db, TODAY, 201) == []
        assert quiet_cases(db, TODAY, 0) == []  # 0: never
        db.execute(update(Case).values(triaged_on=_days(-10)))
    with any_store.transaction() as db:
        assert quiet_cases(db, TODAY, 90) == []


def test_a_quiet_case_is_flagged_once_to_holders_and_admins_and_again_after_new_life(  # type: ignore[no-untyped-def]
    mailed: Store, new_caseworker
) -> None:
    store = mailed
    alice, _ = new_caseworker(store, "alice")
    root, _ = new_caseworker(store, "root", admin=True, caseworker=False)
    case_id = _case(store)
    _notices(store)  # the new-report notice
    with store.transaction() as db:
        assert flag_quiet_cases(db, store.settings, 90, on=_days(89)) == 0
        assert flag_quiet_cases(db, store.settings, 90, on=_days(90)) == 1
    assert _notices(store) == sorted([(alice.id, "case_idle"), (root.id, "case_idle")])
    with store.transaction() as db:
        assert flag_quiet_cases(db, store.settings, 90, on=_days(120)) == 0  # told already
        # The reporter writes again on day 130, then nothing for 90 days more.
        db.execute(update(Case).where(Case.id == case_id).values(reporter_activity_on=_days(130)))
    with store.transaction() as db:
        assert flag_quiet_cases(db, store.settings, 90, on=_days(219)) == 0
        assert flag_quiet_cases(db, store.settings, 90, on=_days(220)) == 1


def test_a_case_nobody_holds_is_told_to_the_admins_once(mailed: Store, new_caseworker) -> None:  # type: ignore[no-untyped-def]
    store = mailed
    root, _ = new_caseworker(store, "root", admin=True, caseworker=False)
    _case(store)  # no caseworker yet: routed to nobody, only the recovery key opens it
    with store.transaction() as db:
        assert flag_unheld_cases(db, store.settings) == 1
        assert flag_unheld_cases(db, store.settings) == 0
    assert _notices(store) == [(root.id, "cases_unheld")]


def test_abandoned_cases_are_deleted_only_after_notice_and_never_on_hold(  # type: ignore[no-untyped-def]
    any_store: Store,
) -> None:
    store = any_store
    told, late, held, untold = (_case(store, n) for n in ("told", "late", "held", "untold"))
    with store.transaction() as db:
        db.execute(update(Case).where(Case.id == held).values(legal_hold_reason="court order"))
    with store.transaction() as db:  # the holders of three of them were told on day 369
        db.execute(update(Case).where(Case.id == untold).values(reporter_activity_on=_days(369)))
        flag_quiet_cases(db, store.settings, 90, on=_days(369))
    with store.transaction() as db:
        db.execute(update(Case).where(Case.id == late).values(reporter_activity_on=_days(370)))
    with store.transaction() as db:
        assert abandoned_for_purge(db, _days(400), 0) == []  # the policy is off
        assert abandoned_for_purge(db, _days(380), 365) == []  # told only 11 days before
        # `late` came back to life after the notice; `untold` was active when flagged.
        assert abandoned_for_purge(db, _days(400), 365) == [told]
        assert purge_abandoned(db, store.blobs, _days(400), 365) == [told]
    with store.transaction() as db:
        assert db.get(Case, told) is None and db.get(Case, held) is not None
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "case.purged")).one()
        assert json.loads(entry.detail)["reason"] == "abandoned"


def test_an_abandoned_case_policy_below_a_year_is_refused(any_store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with any_store.transaction() as db, pytest.raises(ValueError, match="at least 365"):
        any_store.set_policy(db, "abandoned_case_retention_days", 100)
    with any_store.transaction() as db:
        any_store.set_policy(db, "abandoned_case_retention_days", 730)
        any_store.set_policy(db, "quiet_case_days", 60)
    with any_store.transaction() as db:
        policy = any_store.policy(db)
    assert (policy.abandoned_case_retention_days, policy.quiet_case_days) == (730, 60)
    with pytest.raises(ConfigError, match="abandoned_case_retention_days"):
        load_settings(environ={"SEALBOX_ABANDONED_CASE_RETENTION_DAYS": "30"},
                      instance_path=any_store.settings.instance_path)
