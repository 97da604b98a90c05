"""Caseworker accounts: creation with fresh keys, passphrase change, disabling."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.audit import record
from cases.models import Caseworker, CaseworkerSession, WrappedKey
from config import Settings
from crypto import hash_password, new_caseworker_keys, rewrap_private_key, unlock_private_key

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
