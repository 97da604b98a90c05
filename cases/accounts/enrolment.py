"""Caseworker accounts: creation, enrolment by their owner, passphrase change with a new key
pair, credential resets, disabling.

Nobody learns another person's passphrase. An administrator creates an account with a
one-time **enrolment code**; the account's owner signs in with it once, chooses the
passphrase, and only then is the key pair made (and certified: cases.keyring.Trust). A
passphrase change makes a **new** key pair and re-wraps every case key the account holds
to it, so the old passphrase plus an old copy of the database opens nothing stored later.
A lost passphrase is reset to a fresh enrolment: the old key pair, and every case key
wrapped to it, is gone; access comes back through colleagues' grants.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases.keyring import key_context
from cases.models import Caseworker, CaseworkerSession, RecoveryCode, WrappedKey, utcnow
from cases.records.audit import record
from config import Settings
from crypto import (
    certify_key,
    hash_password,
    keyed_digest,
    new_keypair,
    open_with,
    seal_for,
    unlock_private_key,
    wrap_private_key,
)

MIN_PASSPHRASE_CHARS = 12
ENROLMENT_HOURS = 72
_ENROLMENT_BYTES = 15  # 120 bits, 24 base32 characters


class AccountError(ValueError):
    pass


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise AccountError(f"a passphrase needs at least {MIN_PASSPHRASE_CHARS} characters")


def _clean_username(session: Session, username: str) -> str:
    username = username.strip().lower()
    if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise AccountError("a username uses letters, digits, '-', '_' or '.' only")
    if session.scalar(select(Caseworker.id).where(Caseworker.username == username)) is not None:
        raise AccountError(f"the username {username!r} is taken")
    return username


def _roles(account: Caseworker) -> list[str]:
    pairs = (
        ("caseworker", account.is_caseworker),
        ("custodian", account.is_custodian),
        ("admin", account.is_admin),
    )
    return [name for name, on in pairs if on]


def create_account(
    session: Session,
    settings: Settings,
    username: str,
    *,
    display_name: str = "",
    team: str = "",
    caseworker: bool = True,
    custodian: bool = False,
    admin: bool = False,
    language: str = "en",
    actor_id: int | None = None,
) -> tuple[Caseworker, str]:
    """A new account without credentials, and its one-time enrolment code (show it once,
    to whoever hands it to the owner). It holds no case keys and receives no report until
    its owner has enrolled."""
    account = Caseworker(
        username=_clean_username(session, username),
        display_name=display_name.strip(),
        team=team.strip(),
        is_caseworker=caseworker,
        is_custodian=custodian,
        is_admin=admin,
        language=language,
    )
    session.add(account)
    session.flush()
    code = _issue_code(settings, account)
    record(
        session, "caseworker.created", actor_id=actor_id, target_id=account.id,
        roles=_roles(account),
    )
    return account, code


def create_caseworker(
    session: Session,
    settings: Settings,
    username: str,
    passphrase: str,
    *,
    display_name: str = "",
    team: str = "",
    caseworker: bool = True,
    custodian: bool = False,
    admin: bool = False,
    actor_id: int | None = None,
) -> Caseworker:
    """Create and enrol at once, when the owner is the one typing the passphrase (the
    ``sealbox create-caseworker --passphrase`` prompt)."""
    account, code = create_account(
        session, settings, username, display_name=display_name, team=team,
        caseworker=caseworker, custodian=custodian, admin=admin, actor_id=actor_id,
    )
    enrolled = enrol(session, settings, account.username, code, passphrase)
    assert enrolled is not None
    return account


def _code_hash(settings: Settings, code: str) -> bytes:
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return keyed_digest(settings.server_key, b"enrolment:" + normal.encode())


def _issue_code(settings: Settings, account: Caseworker) -> str:
    raw = base64.b32encode(secrets.token_bytes(_ENROLMENT_BYTES)).decode()
    account.enrolment_code_hash = _code_hash(settings, raw)
    account.enrolment_expires_at = utcnow() + dt.timedelta(hours=ENROLMENT_HOURS)
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def enrol(
    session: Session,
    settings: Settings,
    username: str,
    code: str,
    passphrase: str,
    now: dt.datetime | None = None,
) -> tuple[Caseworker, bytes] | None:
    """The owner's first sign-in: with the right code (once, before it expires) their
    passphrase wraps a new key pair. Returns the account and its private key; None for a
    wrong username or code alike."""
    check_passphrase(passphrase)
    now = now or utcnow()
    name = username.strip().lower()
    account = session.scalar(select(Caseworker).where(Caseworker.username == name))
    if account is None or not account.active or account.enrolment_code_hash is None:
        return None
    fresh = account.enrolment_expires_at is not None and account.enrolment_expires_at > now
    expected = account.enrolment_code_hash
    if not (fresh and hmac.compare_digest(expected, _code_hash(settings, code))):
        return None
    private_key = _new_credentials(settings, account, passphrase)
    account.enrolment_code_hash = None
    account.enrolment_expires_at = None
    record(session, "caseworker.enrolled", actor_id=account.id, target_id=account.id)
    return account, private_key


def _new_credentials(settings: Settings, account: Caseworker, passphrase: str) -> bytes:
    """A new certified key pair under ``passphrase``, and its login verifier."""
    private_key, public_key = new_keypair()
    account.public_key = public_key
    params = settings.passphrase_kdf
    account.wrapped_private_key = wrap_private_key(private_key, passphrase, params)
    account.password_hash = hash_password(passphrase, settings.passphrase_kdf)
    account.key_certificate = certify(settings, account.id, public_key)
    return private_key


def certify(settings: Settings, account_id: int, public_key: bytes) -> bytes:
    """The instance's certificate for an account's new public key (cases.keyring.Trust)."""
    if not settings.key_signing_secret:
        raise AccountError(
            "this process holds no key-signing key (caseworker-secrets.toml): "
            "keys are made by the caseworker app and the sealbox command only"
        )
    return certify_key(settings.key_signing_secret, account_id, public_key)


def certify_existing_keys(session: Session, settings: Settings) -> int:
    """Accounts made before keys were certified: certify the keys they hold now (run by
    ``Store.migrate``, where the signing key is at hand; idempotent)."""
    if not settings.key_signing_secret:
        return 0
    pending = list(
        session.scalars(
            select(Caseworker).where(
                Caseworker.key_certificate.is_(None), Caseworker.public_key.is_not(None)
            )
        )
    )
    for account in pending:
        assert account.public_key is not None
        account.key_certificate = certify(settings, account.id, account.public_key)
        record(session, "caseworker.key_certified", target_id=account.id, on_upgrade=True)
    return len(pending)


def change_passphrase(
    session: Session,
    settings: Settings,
    account: Caseworker,
    private_key: bytes,
    new: str,
) -> bytes:
    """A new key pair under the new passphrase, with every case key the account holds
    re-wrapped to it; the old pair is gone and every session ends. Returns the new private
    key (for the session the caller opens)."""
    check_passphrase(new)
    new_private = _new_credentials(settings, account, new)
    assert account.public_key is not None
    rows = session.scalars(select(WrappedKey).where(WrappedKey.caseworker_id == account.id))
    moved = 0
    for row in rows:
        context = key_context(row.case_id, row.purpose, row.record_id)
        secret = open_with(private_key, row.wrapped, context)
        row.wrapped = seal_for(account.public_key, secret, context)
        moved += 1
    end_sessions(session, account)
    record(
        session, "caseworker.passphrase_changed", actor_id=account.id, target_id=account.id,
        keys_rewrapped=moved,
    )
    return new_private


def reset_credentials(
    session: Session, settings: Settings, account: Caseworker, *, actor_id: int | None
) -> str:
    """A lost passphrase: the key pair, every case key wrapped to it, the second factor
    and every session go; the account enrols again with the code returned."""
    removed = session.execute(delete(WrappedKey).where(WrappedKey.caseworker_id == account.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.caseworker_id == account.id))
    end_sessions(session, account)
    account.public_key = account.wrapped_private_key = account.password_hash = None
    account.key_certificate = account.totp_secret_enc = None
    account.totp_last_counter = 0
    code = _issue_code(settings, account)
    record(
        session, "caseworker.credentials_reset", actor_id=actor_id, target_id=account.id,
        keys_removed=int(removed.rowcount),  # type: ignore[attr-defined]
    )
    return code


def end_sessions(session: Session, account: Caseworker) -> None:
    session.execute(
        delete(CaseworkerSession).where(CaseworkerSession.caseworker_id == account.id)
    )


def disable_caseworker(session: Session, account: Caseworker, *, actor_id: int | None) -> int:
    """Disable an account, end its sessions and delete every case key it held."""
    account.active = False
    end_sessions(session, account)
    removed = session.query(WrappedKey).filter(WrappedKey.caseworker_id == account.id).delete()
    record(
        session,
        "caseworker.disabled",
        actor_id=actor_id,
        target_id=account.id,
        keys_removed=removed,
    )
    return removed


def unlock(account: Caseworker, passphrase: str) -> bytes:
    if account.wrapped_private_key is None:
        raise AccountError("this account has not been enrolled yet")
    return unlock_private_key(account.wrapped_private_key, passphrase)

