"""A copy of the database does not tell the time of day a reporter acted.

Reporter-caused dates are dates, and reporter actions write no audit entry. But audit
entries carry times to the second, and before this test existed the order of rows placed
a reporter's message between two of them: ``messages.seq`` was one counter across all
cases, SQLite's rowids and PostgreSQL's physical row order followed insertion, and a
caseworker reply's message id is named in its audit entry.

Here a caseworker replies to many cases one minute apart and grants a colleague access to
some of them, all through the back office's real routes; in the middle of that, a reporter
writes through the intake's real route. After the nightly maintenance (``sealbox db
maintain``), the attacker of docs/THREAT_MODEL.md ("Time of day") takes a copy of the
database (SQLite: the file; PostgreSQL: pg_dump, as a backup is made) and orders the rows
of each table by every order the copy shows, against the audited times:

* across cases no order follows time (Kendall's tau between the copy's order and the
  audited time is near 0, where insertion order gives 1), so no neighbour brackets the
  reporter's message;
* within its own case the message is numbered between the caseworker's writes to that
  case, which is the bound THREAT_MODEL.md documents, and nothing narrows it further.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from secapp import FlaskHTTP, Reporter, cw_csrf, signed_in_caseworker
from secutil import pg_dump
from sqlalchemy import select

import cases.records.audit
from cases.models import AuditEntry, Message
from cases.records.maintenance import reorder
from cases.reporting.followup import find_case
from cases.store import Store
from crypto import normalize_receipt

REPLIES = 40
CASES = 30
# Kendall's tau of n independent random orders has a spread of about 0.6/sqrt(n): 0.6 is
# over four spreads from 0 for the 30 and 42 rows here, and insertion order gives 1.
UNRELATED = 0.6
T0 = dt.datetime(2026, 3, 2, 9, 0, 0)


def kendall_tau(order: list[Any], times: dict[Any, dt.datetime]) -> float:
    """Rank agreement between the copy's order of ``order`` and their audited times."""
    ranked = [x for x in order if x in times]
    pairs = list(combinations(range(len(ranked)), 2))
    agree = sum(1 if times[ranked[i]] < times[ranked[j]] else -1 for i, j in pairs)
    return agree / len(pairs)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dt.datetime]]:
    """The audit log's clock, moved by the test (one minute per step)."""
    now = [T0]
    monkeypatch.setattr(cases.records.audit, "utcnow", lambda: now[0])
    yield now


def _reply(client: Any, case_id: str, text: str) -> None:
    token = cw_csrf(client, f"/cases/{case_id}")
    r = client.post(f"/cases/{case_id}/reply", data={"reply-text": text, "reply-csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]


def _grant(client: Any, case_id: str, grantee: int) -> None:
    token = cw_csrf(client, f"/cases/{case_id}")
    r = client.post(f"/cases/{case_id}/grant",
                    data={"grant-caseworker": str(grantee), "grant-csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]


def _audit_count(store: Store) -> int:
    with store.transaction() as db:
        return len(db.scalars(select(AuditEntry.id)).all())


def _copy_order(store: Store, tmp_path: Path, table: str, key: str) -> list[tuple[str, str]]:
    """(``key``, holder) of each row of ``table`` in the order the copy holds them (holder:
    the row's caseworker_id where the table has one, as text)."""
    holder = "caseworker_id" if table == "wrapped_keys" else "''"
    if store.engine.dialect.name == "sqlite":
        src = store.settings.instance_path / "sealbox.db"
        copy = tmp_path / "copy.db"
        for suffix in ("", "-wal"):
            if Path(f"{src}{suffix}").exists():
                shutil.copyfile(f"{src}{suffix}", f"{copy}{suffix}")
        conn = sqlite3.connect(copy)
        try:
            # No ORDER BY: the order of storage. (A table with a rowid would also offer it.)
            query = f"SELECT {key}, {holder} FROM {table}"  # noqa: S608
            rows = [(str(k), str(h)) for k, h in conn.execute(query)]
        finally:
            conn.close()
        return rows
    dump = pg_dump(store.settings.sqlalchemy_url).decode()
    block = re.search(rf"^COPY public\.{table} \(([^)]*)\) FROM stdin;\n(.*?)^\\\.$", dump,
                      re.M | re.S)
    assert block, f"no data for {table} in the dump"
    columns = [c.strip() for c in block.group(1).split(",")]
    at, by = columns.index(key), columns.index(holder) if holder in columns else None
    rows = [line.split("\t") for line in block.group(2).splitlines()]
    return [(r[at], r[by] if by is not None else "") for r in rows]


def test_a_database_copy_cannot_place_a_reporters_message_between_audited_writes(
    store: Store, clock: list[dt.datetime], tmp_path: Path
) -> None:
    from caseworker import create_app as caseworker_app
    from intake import create_app as intake_app

    store = Store(
        replace(store.settings, submissions_per_hour_per_client=1000,
                submissions_per_minute_global=1000),
        engine=store.engine,
    )
    back_office = caseworker_app(store.settings, store)
    alice, _alice_id = signed_in_caseworker(store, back_office, "alice")
    intake = intake_app(store.settings, store)
    reporter = Reporter(FlaskHTTP(intake.test_client()))
    receipt = reporter.submit({"description": "The reporter whose time matters."})
    others = [Reporter(FlaskHTTP(intake.test_client())).submit({"description": f"case {i}"})
              for i in range(CASES)]
    with store.transaction() as db:
        own = find_case(db, store.settings, normalize_receipt(receipt))[0]
        ids = [find_case(db, store.settings, normalize_receipt(r))[0].id for r in others]
        assert own is not None
        own_id = own.id
    # Bob joins after the reports: the grants below are timed writes to wrapped_keys.
    _bob_client, bob_id = signed_in_caseworker(store, back_office, "bob")
    _reply(alice, own_id, "Before: the first reply to the reporter.")
    assert reporter.login(receipt).status == 303
    for step in range(1, REPLIES + 1):
        clock[0] = T0 + dt.timedelta(minutes=step)
        _reply(alice, ids[step % CASES], f"reply {step}")
        if step <= CASES:
            _grant(alice, ids[step - 1], bob_id)
        if step == REPLIES // 2:  # the moment to hide, just after a reply
            entries = _audit_count(store)
            assert reporter.message("The reporter writes now.").status == 303
            assert _audit_count(store) == entries  # no audit entry: it would carry the time
    clock[0] = T0 + dt.timedelta(minutes=REPLIES + 1)
    _reply(alice, own_id, "After: the next reply to the reporter.")

    reorder(store.engine)  # sealbox db maintain, the nightly step before the backup

    with store.transaction() as db:
        audited = list(db.scalars(select(AuditEntry)))
    replied = {
        re.search(r'"message_id":"(\w+)"', e.detail).group(1): e.at  # type: ignore[union-attr]
        for e in audited if e.action == "case.replied"
    }
    granted = {e.case_id: e.at for e in audited if e.action == "case.access_granted"}
    assert len(replied) == REPLIES + 2 and len(granted) == CASES

    # Across cases: the copy's order of messages and of keys says nothing of time.
    message_order = [m for m, _ in _copy_order(store, tmp_path, "messages", "id")]
    tau = kendall_tau(message_order, replied)
    assert abs(tau) < UNRELATED, f"message rows are stored in time order (tau {tau:.2f})"
    bobs = [case for case, holder in _copy_order(store, tmp_path, "wrapped_keys", "case_id")
            if holder == str(bob_id)]
    tau = kendall_tau(list(dict.fromkeys(bobs)), granted)
    assert abs(tau) < UNRELATED, f"wrapped keys are stored in time order (tau {tau:.2f})"

    # Within the case: between the caseworker's writes before and after, and no closer.
    with store.transaction() as db:
        thread = list(db.scalars(
            select(Message).where(Message.case_id == own_id).order_by(Message.position)))
    timed = [(m.position, replied.get(m.id)) for m in thread]
    reporter_position = next(m.position for m in thread if m.kind.value == "reporter_message")
    before = max(t for p, t in timed if t is not None and p < reporter_position)
    after = min(t for p, t in timed if t is not None and p > reporter_position)
    assert (before, after) == (T0, T0 + dt.timedelta(minutes=REPLIES + 1))
