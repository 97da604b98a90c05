"""Caseworker sessions with the split key (docs/CRYPTO.md), and sign-in throttling.

At sign-in the caseworker's private key is unwrapped with their passphrase and at once
re-wrapped under a random *cookie key* (``crypto.split_session_secret``). The cookie holds
a random session token and that cookie key; the database row (found by a keyed hash of the
token) holds only the re-wrapped private key. Neither half alone yields the key; deleting
the row (logout, expiry, logout everywhere, passphrase change, account disabled) destroys
the session for good, so a copied cookie replayed later opens nothing.

No Flask here: the caseworker app maps these to cookies and redirects.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from cases.models import Caseworker, CaseworkerSession, utcnow
from cases.notifications.outbox import ACCOUNT_LOCKED, alert_admins
from cases.records.audit import record
from config import Settings
from crypto import (
    DecryptionError,
    WrongPassphrase,
    burn_password_check,
    join_session_secret,
    keyed_digest,
    new_key,
    split_session_secret,
    unlock_private_key,
    verify_password,
)

TOKEN_BYTES = 32
COOKIE_KEY_BYTES = 32
# Between the passphrase and the second factor: a short window.
PENDING_MINUTES = 10
# A session's last-seen time is moved at most this often: a page that only reads writes
# nothing (on SQLite a write takes the instance's write lock). The idle timeout is then
# exact to within this much.
TOUCH_INTERVAL = dt.timedelta(seconds=60)
UNKNOWN_FAILURES_TTL_SECONDS = 24 * 3600


class Stage(StrEnum):
    TOTP = "totp"  # passphrase accepted, waiting for a TOTP or recovery code
    ENROL = "enrol"  # passphrase accepted, no second factor yet: enrol one
    FULL = "full"  # signed in


@dataclass(frozen=True)
class ActiveSession:
    row: CaseworkerSession
    account: Caseworker
    cookie_key: bytes

    @property
    def session_id(self) -> str:
        return self.row.id_hash.hex()

    @property
    def stage(self) -> Stage:
        return Stage(self.row.stage)

    def private_key(self) -> bytes:
        """Join the two halves. Call per request; never keep the result beyond it."""
        if self.row.wrapped_key is None:
            raise LookupError("this session holds no key")
        return join_session_secret(self.cookie_key, self.row.wrapped_key, self.session_id)


def _id_hash(settings: Settings, token: bytes) -> bytes:
    return keyed_digest(settings.secret_key[:64], b"caseworker-session:" + token)


def encode_cookie(token: bytes, cookie_key: bytes) -> str:
    return base64.urlsafe_b64encode(token + cookie_key).decode().rstrip("=")


def decode_cookie(value: str) -> tuple[bytes, bytes] | None:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != TOKEN_BYTES + COOKIE_KEY_BYTES:
        return None
    return raw[:TOKEN_BYTES], raw[TOKEN_BYTES:]


def open_session(
    db: Session,
    settings: Settings,
    account: Caseworker,
    private_key: bytes,
    stage: Stage,
    *,
    created_at: dt.datetime | None = None,
) -> tuple[CaseworkerSession, str]:
    """Create a session row; return it and the cookie value for the browser."""
    token = new_key()
    id_hash = _id_hash(settings, token)
    cookie_key, server_part = split_session_secret(private_key, id_hash.hex())
    now = utcnow()
    row = CaseworkerSession(
        id_hash=id_hash,
        caseworker_id=account.id,
        wrapped_key=server_part,
        stage=stage.value,
        created_at=created_at or now,
        last_seen_at=now,
    )
    db.add(row)
    db.flush()
    return row, encode_cookie(token, cookie_key)


def expired(row: CaseworkerSession, settings: Settings, now: dt.datetime) -> bool:
    if row.stage != Stage.FULL:
        return now - row.created_at > dt.timedelta(minutes=PENDING_MINUTES)
    idle = dt.timedelta(minutes=settings.caseworker_idle_minutes)
    absolute = dt.timedelta(hours=settings.caseworker_absolute_hours)
    return now - row.last_seen_at > idle or now - row.created_at > absolute


def load_session(
    db: Session, settings: Settings, cookie: str | None, *, touch: bool = True
) -> ActiveSession | None:
    """The live session this cookie belongs to, or None. Expired rows are deleted."""
    if not cookie:
        return None
    parts = decode_cookie(cookie)
    if parts is None:
        return None
    token, cookie_key = parts
    row = db.get(CaseworkerSession, _id_hash(settings, token))
    if row is None:
        return None
    now = utcnow()
    account = db.get(Caseworker, row.caseworker_id)
    if account is None or not account.active or expired(row, settings, now):
        db.delete(row)
        db.flush()
        return None
    if touch and now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    return ActiveSession(row, account, cookie_key)


def promote(
    db: Session, settings: Settings, active: ActiveSession
) -> tuple[CaseworkerSession, str]:
    """Second factor passed: replace the pending session by a full one with a new token
    and a new cookie key (no session fixation across the privilege change)."""
    private_key = active.private_key()
    created_at = active.row.created_at
    db.delete(active.row)
    db.flush()
    return open_session(
        db, settings, active.account, private_key, Stage.FULL, created_at=created_at
    )


def end_session(db: Session, row: CaseworkerSession) -> None:
    db.delete(row)
    db.flush()


def end_all_sessions(db: Session, caseworker_id: int) -> int:
    result = db.execute(
        delete(CaseworkerSession).where(CaseworkerSession.caseworker_id == caseworker_id)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def sweep_expired(db: Session, settings: Settings, now: dt.datetime | None = None) -> int:
    """Delete expired session rows (run by ``sealbox purge``)."""
    now = now or utcnow()
    idle_cut = now - dt.timedelta(minutes=settings.caseworker_idle_minutes)
    abs_cut = now - dt.timedelta(hours=settings.caseworker_absolute_hours)
    pending_cut = now - dt.timedelta(minutes=PENDING_MINUTES)
    result = db.execute(
        delete(CaseworkerSession).where(
            or_(
                CaseworkerSession.last_seen_at < idle_cut,
                CaseworkerSession.created_at < abs_cut,
                (CaseworkerSession.stage != Stage.FULL.value)
                & (CaseworkerSession.created_at < pending_cut),
            )
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def session_count(db: Session, caseworker_id: int) -> int:
    return len(
        db.scalars(
            select(CaseworkerSession.id_hash).where(
                CaseworkerSession.caseworker_id == caseworker_id,
                CaseworkerSession.stage == Stage.FULL.value,
            )
        ).all()
    )


# --- Sign-in throttling ------------------------------------------------------------------


class CounterStorage(Protocol):
    """The part of a ``limits`` storage (memory:// or redis://) used for unknown names."""

    def incr(self, key: str, expiry: float, amount: int = 1) -> int: ...
    def get(self, key: str) -> int: ...
    def clear(self, key: str) -> None: ...


class LoginThrottle:
    """Lock an account after N consecutive failures (passphrase or second factor) for
    ``lockout_minutes``.

    Real accounts keep their count in the database (``failed_logins``, ``locked_until``: an
    administrator sees and lifts it). Usernames that do not exist get the very same
    behaviour from a counter in the rate-limit storage, keyed by a keyed hash of the name,
    so the lockout notice never tells an attacker which usernames are real."""

    def __init__(self, settings: Settings, storage: CounterStorage) -> None:
        self.attempts = settings.login_attempts_before_lockout
        self.lockout = dt.timedelta(minutes=settings.lockout_minutes)
        self._storage = storage
        self._key = settings.secret_key[:64]

    def _keys(self, username: str) -> tuple[str, str]:
        digest = keyed_digest(self._key, b"login:" + username.strip().lower().encode()).hex()
        return f"sealbox:cwlogin:n:{digest}", f"sealbox:cwlogin:lock:{digest}"

    def is_locked(self, account: Caseworker | None, username: str, now: dt.datetime) -> bool:
        if account is not None:
            return account.locked_until is not None and account.locked_until > now
        return self._storage.get(self._keys(username)[1]) > 0

    def record_failure(self, account: Caseworker | None, username: str, now: dt.datetime) -> bool:
        """Count one failure; return True if this failure locks the account."""
        if account is not None:
            account.failed_logins += 1
            if account.failed_logins % self.attempts == 0:
                account.locked_until = now + self.lockout
                return True
            return False
        count_key, lock_key = self._keys(username)
        count = self._storage.incr(count_key, UNKNOWN_FAILURES_TTL_SECONDS)
        if count % self.attempts == 0:
            self._storage.incr(lock_key, self.lockout.total_seconds())
            return True
        return False

    @staticmethod
    def record_success(account: Caseworker) -> int:
        """Reset the count; return how many failures there were since the last sign-in."""
        failures = account.failed_logins
        account.failed_logins = 0
        account.locked_until = None
        return failures

    @staticmethod
    def unlock(account: Caseworker) -> None:
        account.failed_logins = 0
        account.locked_until = None


# --- the passphrase step -----------------------------------------------------------------


@dataclass(frozen=True)
class PassphraseCheck:
    account: Caseworker | None  # set only when the passphrase is right
    private_key: bytes | None
    locked: bool  # refused because the account is (now) locked


def check_passphrase(
    db: Session,
    settings: Settings,
    throttle: LoginThrottle,
    username: str,
    passphrase: str,
    now: dt.datetime | None = None,
) -> PassphraseCheck:
    """Verify a username and passphrase and unwrap the caseworker's private key.

    Unknown and disabled usernames cost the same Argon2 work as real ones
    (``burn_password_check``) and are throttled the same way, so neither the answer, its
    timing nor the lockout notice reveals which accounts exist. A locked account is
    refused before any passphrase check."""
    now = now or utcnow()
    name = username.strip().lower()
    found = db.scalar(select(Caseworker).where(Caseworker.username == name)) if name else None
    # An account its owner has not enrolled yet has no passphrase: it is like no account.
    account = found if found is not None and found.active and found.enrolled else None
    actor = account.id if account is not None else None
    if throttle.is_locked(account, name, now):
        record(db, "login.refused_locked", actor_id=actor)
        return PassphraseCheck(None, None, True)
    if account is None:
        burn_password_check(passphrase, settings.passphrase_kdf)
        locked = throttle.record_failure(None, name, now)
        record(db, "login.failed", actor_id=None, locked=locked)
        return PassphraseCheck(None, None, locked)
    # Both checks run whatever the first one says: a wrong passphrase that stopped after
    # the hash check cost one Argon2 run where a right one (and an unknown name, above)
    # costs two, so the time told which usernames exist (tests/security/test_sec_login_timing).
    verified = verify_password(account.password_hash or "", passphrase)
    key = _unwrap_or_none(account, passphrase)
    if not verified:
        locked = throttle.record_failure(account, name, now)
        record(db, "login.failed", actor_id=actor, locked=locked)
        if locked:
            alert_admins(db, ACCOUNT_LOCKED, settings)
        return PassphraseCheck(None, None, locked)
    if key is None:
        # The login hash and the key wrapping disagree: refuse rather than half sign in.
        record(db, "login.key_unwrap_failed", actor_id=actor)
        return PassphraseCheck(None, None, False)
    return PassphraseCheck(account, key, False)


def _unwrap_or_none(account: Caseworker, passphrase: str) -> bytes | None:
    try:
        return unlock_private_key(account.wrapped_private_key or b"", passphrase)
    except (WrongPassphrase, DecryptionError):
        return None
