"""The reporter's follow-up session: the derived private key, split in two (docs/CRYPTO.md,
"Session split key").

After a successful receipt look-up the reporter's X25519 private key is encrypted under a
random key. That random key lives only in the reporter's cookie; the ciphertext lives in
a ``ReporterSession`` row found by a keyed hash of a random session id. Neither the
cookie nor the database alone yields the key, the receipt is in neither, and deleting the
row (logout, expiry) ends the session for good. The row names no case: the reporter's
cases are found from the key itself (``cases.reporting.followup.reporter_cases``).

With JavaScript on (``settings.seal_in_browser``) the browser derives the key itself and
keeps it; the session then holds the case's public key instead, split the same way, and
the server cannot open a word (cases.reporting.sealed_followup): ``Reporter.private_key``
is None.

Idle and absolute expiry are enforced from timestamps in the signed cookie, so the server
stores no time of day about a reporter: the row carries only its creation date, and rows
from before yesterday are swept at each new log-in and by the daily ``sealbox purge``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from flask import g, session
from sqlalchemy import delete
from sqlalchemy.orm import Session

from cases.models import Case, ReporterSession
from cases.reporting.followup import reporter_cases, sweep_reporter_sessions
from crypto import (
    DecryptionError,
    join_session_secret,
    keyed_digest,
    public_key_of,
    split_session_secret,
)
from intake.work import settings

COOKIE_FIELD = "followup"
ABSOLUTE_HOURS = 8


@dataclass
class Reporter:
    cases: list[Case]  # the report first, then the retaliation reports made from it
    public_key: bytes
    private_key: bytes | None = None  # None in a sealed session: only the browser has it

    @property
    def case(self) -> Case:
        return self.cases[0]

    @property
    def sealed(self) -> bool:
        """The browser holds the key: the server stores what the page sealed."""
        return self.private_key is None


def _id_hash(session_id: str) -> bytes:
    key = settings().server_key
    return keyed_digest(key, b"reporter-session:" + session_id.encode())


def start(db: Session, cases: list[Case], private_key: bytes) -> None:
    """Open a follow-up session for the reporter of ``cases``; the caller commits."""
    _open(db, private_key, sealed=False)
    g.reporter = Reporter(cases, public_key_of(private_key), private_key)


def start_sealed(db: Session, cases: list[Case]) -> None:
    """Open a session for a browser that holds the reporter's key; the caller commits."""
    public_key = cases[0].reporter_public_key
    if public_key is None:
        raise ValueError("a case without a reporter key has no sealed session")
    _open(db, public_key, sealed=True)
    g.reporter = Reporter(cases, public_key)


def _open(db: Session, secret: bytes, *, sealed: bool) -> None:
    sweep_reporter_sessions(db)
    session_id = secrets.token_urlsafe(32)
    cookie_key, server_part = split_session_secret(secret, session_id)
    db.add(ReporterSession(id_hash=_id_hash(session_id), wrapped_key=server_part))
    now = int(time.time())
    session[COOKIE_FIELD] = {"id": session_id, "key": cookie_key, "seen": now, "start": now,
                             "sealed": sealed}


class Expired(Exception):
    """The session ended (idle, too old, logged out elsewhere)."""

    def __init__(self) -> None:
        super().__init__("follow-up session ended")
        g.reporter_expired = True


def current(db: Session) -> Reporter | None:
    """The reporter of this request, or None if no follow-up session. Raises Expired
    (and writes nothing: a GET only reads; the caller ends the session, ``end``)."""
    if "reporter" in g:
        return g.reporter  # type: ignore[no-any-return]
    if g.get("reporter_expired"):
        raise Expired()
    data = session.get(COOKIE_FIELD)
    if not data:
        return None
    instance = settings()
    now = int(time.time())
    try:
        session_id, cookie_key = str(data["id"]), bytes(data["key"])
        seen, started = int(data["seen"]), int(data["start"])
    except (KeyError, TypeError, ValueError):
        raise Expired() from None
    if now - seen > instance.reporter_idle_minutes * 60 or now - started > ABSOLUTE_HOURS * 3600:
        raise Expired()
    row = db.get(ReporterSession, _id_hash(session_id))
    if row is None:
        raise Expired()
    try:
        secret = join_session_secret(cookie_key, row.wrapped_key, session_id)
    except DecryptionError:
        raise Expired() from None
    private_key = None if data.get("sealed") else secret
    public_key = secret if private_key is None else public_key_of(private_key)
    cases = reporter_cases(db, public_key)
    if not cases:  # purged while signed in
        raise Expired()
    data["seen"] = now
    session[COOKIE_FIELD] = data
    g.reporter = Reporter(cases, public_key, private_key)
    return g.reporter  # type: ignore[no-any-return]


def end(db: Session) -> None:
    """Delete the server half and the whole cookie session; the caller commits."""
    data = session.get(COOKIE_FIELD) or {}
    session_id = data.get("id") if isinstance(data, dict) else None
    if isinstance(session_id, str):
        db.execute(delete(ReporterSession).where(ReporterSession.id_hash == _id_hash(session_id)))
    session.clear()
    g.pop("reporter", None)
