"""A caseworker page that only reads writes nothing: the session's last-seen time moves at
most once a minute (cases.accounts.sessions.TOUCH_INTERVAL), so reading does not take
SQLite's write lock on every request; the idle timeout still holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, select

from cases.accounts.sessions import TOUCH_INTERVAL
from cases.models import CaseworkerSession


def _writes_during(store, action) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def watch(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")):
            seen.append(" ".join(statement.split()[:3]))

    event.listen(store.engine, "before_cursor_execute", watch)
    try:
        action()
    finally:
        event.remove(store.engine, "before_cursor_execute", watch)
    return seen


def test_reading_the_inbox_twice_writes_nothing_the_second_time(browser, store, person, h) -> None:  # type: ignore[no-untyped-def]
    alice = person("alice")
    h.sign_in(browser, store, alice)
    assert browser.get("/").status_code == 200
    for page in ("/account", "/"):
        assert _writes_during(store, lambda path=page: browser.get(path)) == [], page
    with store.transaction() as db:
        row = db.scalars(select(CaseworkerSession)).one()
        row.last_seen_at -= TOUCH_INTERVAL + dt.timedelta(seconds=1)
        before = row.last_seen_at
    writes = _writes_during(store, lambda: browser.get("/account"))
    assert any("caseworker_sessions" in w for w in writes), writes
    with store.transaction() as db:
        assert db.scalars(select(CaseworkerSession)).one().last_seen_at > before
