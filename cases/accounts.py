"""Caseworker accounts: creation with fresh keys, passphrase change, disabling."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.audit import record
from cases.models import Caseworker, CaseworkerSession, WrappedKey
from config import Settings
from crypto import (
    certify_key,
    hash_password,
    new_caseworker_keys,
    rewrap_private_key,
    unlock_private_key,
)

MIN_PASSPHRASE_CHARS = 12


class AccountError(ValueError):
    pass


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise AccountError(f"a passphrase needs at least {MIN_PASSPHRASE_CHARS} characters")


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
    """A new account with a new X25519 key pair wrapped under the passphrase.

    It holds no case keys: someone with access must grant existing cases to it."""
    username = username.strip().lower()
    if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise AccountError("a username uses letters, digits, '-', '_' or '.' only")
    check_passphrase(passphrase)
    if session.scalar(select(Caseworker.id).where(Caseworker.username == username)) is not None:
        raise AccountError(f"the username {username!r} is taken")
    public_key, wrapped = new_caseworker_keys(passphrase, settings.passphrase_kdf)
    account = Caseworker(
        username=username,
        display_name=display_name.strip(),
        team=team.strip(),
        password_hash=hash_password(passphrase, settings.passphrase_kdf),
        public_key=public_key,
        wrapped_private_key=wrapped,
        is_caseworker=caseworker,
        is_custodian=custodian,
        is_admin=admin,
    )
    session.add(account)
    session.flush()
    account.key_certificate = certify(settings, account.id, public_key)
    record(
        session,
        "caseworker.created",
        actor_id=actor_id,
        target_id=account.id,
        roles=[
            r
            for r, on in (("caseworker", caseworker), ("custodian", custodian), ("admin", admin))
            if on
        ],
    )
    return account


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
        session.scalars(select(Caseworker).where(Caseworker.key_certificate.is_(None)))
    )
    for account in pending:
        account.key_certificate = certify(settings, account.id, account.public_key)
        record(session, "caseworker.key_certified", target_id=account.id, on_upgrade=True)
    return len(pending)


def change_passphrase(
    session: Session, settings: Settings, account: Caseworker, old: str, new: str
) -> None:
    """Re-wrap the same private key: case access is unchanged, other sessions end."""
    check_passphrase(new)
    account.wrapped_private_key = rewrap_private_key(
        account.wrapped_private_key, old, new, settings.passphrase_kdf
    )
    account.password_hash = hash_password(new, settings.passphrase_kdf)
    session.query(CaseworkerSession).filter(CaseworkerSession.caseworker_id == account.id).delete()
    record(session, "caseworker.passphrase_changed", actor_id=account.id, target_id=account.id)


def disable_caseworker(session: Session, account: Caseworker, *, actor_id: int | None) -> int:
    """Disable an account, end its sessions and delete every case key it held."""
    account.active = False
    session.query(CaseworkerSession).filter(CaseworkerSession.caseworker_id == account.id).delete()
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
    return unlock_private_key(account.wrapped_private_key, passphrase)
