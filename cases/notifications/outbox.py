"""The outbox of mail notices to staff.

**Written with the event.** ``enqueue`` adds one row per person the event concerns, in the
transaction of the event itself (the case's commit, the reporter's message): a notice
exists if and only if its event does, and no request ever waits for a mail server. The
intake adds rows without knowing anyone's address or wishes (it cannot read them); the
drainer, in the back office, reads both.

**Sent once, by whoever drains.** ``drain`` claims due rows (a short lease, taken row by
row with a conditional update, so two drainers never claim the same row), sends one mail
per person with the counts of each event, deletes what was sent, and gives what failed
back with a later ``not_before`` (1, 2, 4 … minutes, at most an hour; never dropped). A
drainer that dies after sending and before deleting sends those rows again once its lease
has run out: at least once, and exactly once unless a drainer crashes mid-batch.

**Timing.** A notice about what a reporter did waits for the next batch boundary
(``reporter_notice_batch_minutes``, an hour by default, counted from midnight UTC): the
mail provider sees mail at the same minutes whatever the reporter did, and the row holds
no time but that boundary. People who chose a daily digest get one mail after
``notice_digest_hour`` with everything since the last one.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cases.models import Caseworker, OutgoingNotice, utcnow
from config import Settings

if TYPE_CHECKING:  # cases.store imports the domains that enqueue notices
    from cases.store import Store

log = logging.getLogger("sealbox.notices")

NEW_REPORT = "new_report"
REPORTER_MESSAGE = "reporter_message"
DEADLINE_SOON = "deadline_soon"
DEADLINE_PASSED = "deadline_passed"
CASE_HANDED = "case_handed"  # a case granted or handed over to this person
CASE_REMOVED = "case_removed"  # this person's keys to a case were removed
CASE_IDLE = "case_idle"  # a case this person holds has been quiet too long
IDENTITY_REQUEST = "identity_request"  # to identity custodians
ACCOUNT_LOCKED = "account_locked"  # to administrators
AUDIT_BROKEN = "audit_broken"  # to administrators
RECOVERY_USED = "recovery_used"  # to administrators: `sealbox recovery` opened something
MAINTENANCE_FAILED = "maintenance_failed"  # to administrators: a backup or purge failed
CASES_UNHELD = "cases_unheld"  # to administrators: cases only the recovery key opens
EVENTS = (NEW_REPORT, REPORTER_MESSAGE, DEADLINE_SOON, DEADLINE_PASSED, CASE_HANDED,
          CASE_REMOVED, CASE_IDLE, IDENTITY_REQUEST, ACCOUNT_LOCKED, AUDIT_BROKEN,
          RECOVERY_USED, MAINTENANCE_FAILED, CASES_UNHELD)
ADMIN_EVENTS = frozenset({ACCOUNT_LOCKED, AUDIT_BROKEN, RECOVERY_USED, MAINTENANCE_FAILED,
                          CASES_UNHELD})
CUSTODIAN_EVENTS = frozenset({IDENTITY_REQUEST})
REPORTER_EVENTS = frozenset({NEW_REPORT, REPORTER_MESSAGE})
LEASE = dt.timedelta(minutes=5)
MAX_BACKOFF = dt.timedelta(hours=1)

Deliver = Callable[[Caseworker, Counter[str]], None]


def next_boundary(now: dt.datetime, minutes: int) -> dt.datetime:
    """The first batch boundary after ``now`` (boundaries every ``minutes`` from midnight)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = int((now - midnight).total_seconds() // 60)
    return midnight + dt.timedelta(minutes=(elapsed // minutes + 1) * minutes)


def enqueue(
    session: Session,
    caseworker_ids: Iterable[int],
    event: str,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
) -> None:
    """A notice of ``event`` for each of these people, in the session's transaction. With
    mail off (no ``smtp_host``) nothing is written: a notice nobody will send would only
    keep, on disk, the hour something happened."""
    if event not in EVENTS:
        raise ValueError(event)
    if not settings.smtp_host:
        return
    now = now or utcnow()
    due = next_boundary(now, settings.reporter_notice_batch_minutes)
    if event not in REPORTER_EVENTS:
        due = now
    for caseworker_id in sorted(set(caseworker_ids)):
        session.add(OutgoingNotice(caseworker_id=caseworker_id, event=event, not_before=due))
    session.flush()


def admin_ids(session: Session) -> list[int]:
    return list(session.scalars(
        select(Caseworker.id).where(Caseworker.active, Caseworker.is_admin)
    ))


def alert_admins(session: Session, event: str, settings: Settings) -> None:
    """A notice of ``event`` for every active administrator."""
    if event not in ADMIN_EVENTS:
        raise ValueError(event)
    enqueue(session, admin_ids(session), event, settings)


def wanted_events(account: Caseworker) -> set[str]:
    return {e for e in account.notice_events.split(",") if e}


def _claim(session: Session, drainer: str, now: dt.datetime) -> list[OutgoingNotice]:
    free = (OutgoingNotice.claimed_until.is_(None)) | (OutgoingNotice.claimed_until < now)
    candidates = session.scalars(
        select(OutgoingNotice.id).where(OutgoingNotice.not_before <= now, free).limit(500)
    ).all()
    claimed = []
    for notice_id in candidates:
        taken = session.execute(
            update(OutgoingNotice)
            .where(OutgoingNotice.id == notice_id, free)
            .values(claimed_by=drainer, claimed_until=now + LEASE)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(notice_id)
    if not claimed:
        return []
    return list(session.scalars(select(OutgoingNotice).where(OutgoingNotice.id.in_(claimed))))


def _digest_due(account: Caseworker, settings: Settings, now: dt.datetime) -> bool:
    today = now.date()
    return now.hour >= settings.notice_digest_hour and account.notice_digest_on != today


@dataclass
class Drained:
    sent: int = 0  # mails
    notices: int = 0  # notices they carried
    failed: int = 0  # mails that failed (their notices are tried again later)
    dropped: int = 0  # notices for people who want none (no address, event not chosen)


def drain(store: Store, deliver: Deliver, *, now: dt.datetime | None = None) -> Drained:
    """Send every due notice (see the module docstring); what happened, in counts."""
    now = now or utcnow()
    drainer = secrets.token_hex(8)
    result = Drained()
    with store.transaction() as session:
        claimed = _claim(session, drainer, now)
        people = {n.caseworker_id for n in claimed}
        accounts = {a.id: a for a in session.scalars(
            select(Caseworker).where(Caseworker.id.in_(people)))}
        plan, unwanted, later = _plan(claimed, accounts, store.settings, now)
        session.expunge_all()
    result.dropped = len(unwanted)
    outcome = _Outcome(done=list(unwanted), later=later)
    for account, notices in plan:
        try:
            deliver(account, Counter(n.event for n in notices))
        except Exception as exc:  # the mail server's fault: try again later, lose nothing
            log.warning("notice mail failed: %s", exc.__class__.__name__)
            outcome.failed += notices
            result.failed += 1
            continue
        outcome.done += [n.id for n in notices]
        if account.notice_daily:
            outcome.digested.append(account.id)
        result.sent += 1
        result.notices += len(notices)
    _settle(store, drainer, outcome, now)
    return result


@dataclass
class _Outcome:
    done: list[str] = field(default_factory=list)  # sent, or wanted by nobody: delete
    failed: list[OutgoingNotice] = field(default_factory=list)  # try again later
    later: list[str] = field(default_factory=list)  # waiting for a daily digest
    digested: list[int] = field(default_factory=list)  # people who just got theirs


def _plan(
    claimed: list[OutgoingNotice],
    accounts: dict[int, Caseworker],
    settings: Settings,
    now: dt.datetime,
) -> tuple[list[tuple[Caseworker, list[OutgoingNotice]]], list[str], list[str]]:
    """Who gets a mail now and with which notices; which notices nobody wants; which wait
    for their owner's daily digest."""
    by_person: dict[int, list[OutgoingNotice]] = {}
    unwanted: list[str] = []
    later: list[str] = []
    for notice in claimed:
        account = accounts.get(notice.caseworker_id)
        if account is None or not account.active or not account.notice_email or (
            notice.event not in wanted_events(account)
        ):
            unwanted.append(notice.id)
        elif account.notice_daily and not _digest_due(account, settings, now):
            later.append(notice.id)
        else:
            by_person.setdefault(account.id, []).append(notice)
    return [(accounts[i], ns) for i, ns in sorted(by_person.items())], unwanted, later


def _settle(store: Store, drainer: str, outcome: _Outcome, now: dt.datetime) -> None:
    mine = OutgoingNotice.claimed_by == drainer
    with store.transaction() as session:
        if outcome.done:
            session.execute(
                delete(OutgoingNotice).where(OutgoingNotice.id.in_(outcome.done), mine)
            )
        if outcome.later:
            session.execute(
                update(OutgoingNotice).where(OutgoingNotice.id.in_(outcome.later), mine)
                .values(claimed_by=None, claimed_until=None)
            )
        for notice in outcome.failed:
            wait = min(MAX_BACKOFF, dt.timedelta(minutes=2 ** min(notice.attempts, 6)))
            session.execute(
                update(OutgoingNotice).where(OutgoingNotice.id == notice.id, mine).values(
                    attempts=notice.attempts + 1, not_before=now + wait,
                    claimed_by=None, claimed_until=None,
                )
            )
        if outcome.digested:
            session.execute(
                update(Caseworker).where(Caseworker.id.in_(outcome.digested))
                .values(notice_digest_on=now.date())
            )
