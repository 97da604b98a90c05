"""The caseworker's second factor: TOTP (RFC 6238) with replay protection, and one-time
recovery codes.

The TOTP secret must be readable by the server to check codes, so it is stored encrypted
under the instance server key (a database leak alone does not yield it). Each accepted code
moves ``totp_last_counter`` forward, so a code (or any older one) is never accepted twice,
even inside its 30-second window. Recovery codes carry 80 random bits, so a keyed BLAKE2b
hash is enough to store them: nothing short of the code itself matches the hash.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import secrets

import pyotp
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from cases.models import Caseworker, RecoveryCode, SecurityKey
from crypto import Context, contexts, decrypt_record, encrypt_record, keyed_digest

TOTP_DIGITS = 6
TOTP_PERIOD = 30
# One step either side of now: phones whose clocks drift by up to 30 s still work.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_BYTES = 10  # 80 bits
_RECOVERY_HASH_PREFIX = "b2k1$"


def new_totp_secret() -> str:
    """160 random bits in base32, what authenticator apps expect."""
    return pyotp.random_base32(length=32)


def _secret_context(account_id: int) -> Context:
    return contexts.totp_secret(account_id)


def _pending_context(session_id: str) -> Context:
    return contexts.totp_pending(session_id)


def seal_totp_secret(server_key: bytes, account_id: int, secret: str) -> bytes:
    return encrypt_record(server_key, secret.encode(), _secret_context(account_id))


def open_totp_secret(server_key: bytes, account: Caseworker) -> str:
    if account.totp_secret_enc is None:
        raise ValueError("this account has no second factor yet")
    return decrypt_record(server_key, account.totp_secret_enc, _secret_context(account.id)).decode()


def seal_pending_secret(server_key: bytes, session_id: str, secret: str) -> bytes:
    return encrypt_record(server_key, secret.encode(), _pending_context(session_id))


def open_pending_secret(server_key: bytes, session_id: str, sealed: bytes) -> str:
    return decrypt_record(server_key, sealed, _pending_context(session_id)).decode()


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    uri: str = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD).provisioning_uri(
        name=username, issuer_name=issuer
    )
    return uri


def display_secret(secret: str) -> str:
    """The secret in groups of four, for typing into an authenticator by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace() and ch != "-")


def match_totp(
    secret: str, code: str, last_counter: int, now: dt.datetime | None = None
) -> int | None:
    """Return the time-step counter the code belongs to, if it is valid now and newer than
    ``last_counter``; otherwise None. Constant-time comparison for every candidate."""
    code = normalize_code(code)
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        return None
    moment = now or dt.datetime.now(dt.UTC)
    current = int(moment.timestamp()) // TOTP_PERIOD
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD)
    found = None
    for counter in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        expected = str(totp.generate_otp(counter))
        if hmac.compare_digest(expected.encode(), code.encode()) and counter > last_counter:
            found = counter
    return found


def check_totp(
    session: Session,
    server_key: bytes,
    account: Caseworker,
    code: str,
    now: dt.datetime | None = None,
) -> bool:
    """Check a code against the account's secret and, if good, consume it (no replay)."""
    if account.totp_secret_enc is None:
        return False
    counter = match_totp(
        open_totp_secret(server_key, account), code, account.totp_last_counter, now
    )
    return counter is not None and _consume_counter(session, account, counter)


def _consume_counter(session: Session, account: Caseworker, counter: int) -> bool:
    """Move the account's last counter to ``counter`` if nobody moved it there first.

    A compare-and-set in one statement: two requests that both read the old counter and
    both matched the same code cannot both succeed. On PostgreSQL the second UPDATE waits
    for the first to commit, then finds the condition false; SQLite serialises writers."""
    result = session.execute(
        update(Caseworker)
        .where(Caseworker.id == account.id, Caseworker.totp_last_counter < counter)
        .values(totp_last_counter=counter)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def enable_totp(
    server_key: bytes, account: Caseworker, secret: str, code: str, now: dt.datetime | None = None
) -> bool:
    """Finish enrolment: the code proves the authenticator holds ``secret``."""
    counter = match_totp(secret, code, 0, now)
    if counter is None:
        return False
    account.totp_secret_enc = seal_totp_secret(server_key, account.id, secret)
    account.totp_last_counter = counter
    return True


def reset_second_factor(session: Session, account: Caseworker) -> None:
    """Forget the TOTP secret, the recovery codes and the security keys (the lost device
    may be one): the next login enrols again."""
    account.totp_secret_enc = None
    account.totp_last_counter = 0
    session.execute(delete(RecoveryCode).where(RecoveryCode.caseworker_id == account.id))
    session.execute(delete(SecurityKey).where(SecurityKey.caseworker_id == account.id))


def _hash_recovery_code(server_key: bytes, code: str) -> str:
    return _RECOVERY_HASH_PREFIX + keyed_digest(server_key, b"recovery:" + code.encode()).hex()


def _normalize_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_recovery_codes(session: Session, server_key: bytes, account: Caseworker) -> list[str]:
    """Replace the account's recovery codes; return the new ones (show them once)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.caseworker_id == account.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = base64.b32encode(secrets.token_bytes(_RECOVERY_BYTES)).decode()  # 16 characters
        session.add(
            RecoveryCode(caseworker_id=account.id, code_hash=_hash_recovery_code(server_key, raw))
        )
        codes.append("-".join(raw[i : i + 4] for i in range(0, len(raw), 4)))
    session.flush()
    return codes


def use_recovery_code(session: Session, server_key: bytes, account: Caseworker, code: str) -> bool:
    """Accept an unused recovery code once."""
    normalized = _normalize_recovery_code(code)
    if len(normalized) != 16:
        return False
    wanted = _hash_recovery_code(server_key, normalized)
    # Compare-and-set, as for TOTP codes: one code, one sign-in, even at the same moment.
    result = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.caseworker_id == account.id,
            RecoveryCode.code_hash == wanted,
            RecoveryCode.used.is_(False),
        )
        .values(used=True)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def remaining_recovery_codes(session: Session, account_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.caseworker_id == account_id, RecoveryCode.used.is_(False))
        )
        or 0
    )
