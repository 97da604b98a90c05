"""Account commands: create, disable, reset two-factor, unlock, the approvals a second
administrator gives, and the list of key fingerprints."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from caseworker.cli.base import config_errors, instance_option, main, store_of


@main.command("create-caseworker")
@click.argument("username")
@click.option("--display-name", default="", help="Name shown to colleagues and reporters.")
@click.option("--admin", is_flag=True, help="Administrator role (reads no case content).")
@click.option("--custodian", is_flag=True, help="Identity custodian role.")
@click.option("--no-caseworker", is_flag=True, help="Without the caseworker role.")
@click.option(
    "--passphrase", "ask_passphrase", is_flag=True,
    help="Ask for the passphrase now: only when the account's owner is the one typing.",
)
@instance_option
@config_errors
def create_caseworker_command(
    username: str,
    display_name: str,
    admin: bool,
    custodian: bool,
    no_caseworker: bool,
    ask_passphrase: bool,
    instance: Path,
) -> None:
    """Add an account. By default it prints a one-time enrolment code for its owner, who
    chooses their passphrase at the first sign-in; nobody else ever knows it. The account
    holds no existing case until someone with access grants one."""
    from cases.accounts.enrolment import AccountError, create_account, create_caseworker

    store = store_of(instance)
    passphrase = (
        click.prompt("Passphrase (at least 12 characters)", hide_input=True,
                     confirmation_prompt=True)
        if ask_passphrase else None
    )
    roles = {"caseworker": not no_caseworker, "custodian": custodian, "admin": admin}
    code = None
    try:
        with store.transaction() as session:
            if passphrase is not None:
                account = create_caseworker(
                    session, store.settings, username, passphrase, display_name=display_name,
                    caseworker=roles["caseworker"], custodian=custodian, admin=admin,
                )
            else:
                account, code = create_account(
                    session, store.settings, username, display_name=display_name,
                    caseworker=roles["caseworker"], custodian=custodian, admin=admin,
                )
    except AccountError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        store.dispose()
    click.echo(f"Account {account.username!r} created.")
    if code is not None:
        click.echo(f"Enrolment code (shown once, valid 72 hours): {code}")
        click.echo("Give it to its owner yourself, never by e-mail. At the caseworker app's")
        click.echo("“First sign-in with an enrolment code” they choose their passphrase.")
    click.echo("At first sign-in it enrols an authenticator app (TOTP).")


def _account(session: Any, username: str) -> Any:
    from cases.models import Caseworker

    account = session.scalar(
        select(Caseworker).where(Caseworker.username == username.strip().lower())
    )
    if account is None:
        click.echo(f"error: no account {username!r}", err=True)
        sys.exit(1)
    return account


@main.command("disable-caseworker")
@click.argument("username")
@click.option("--hand-to", "successor", default="",
              help="First give the cases only USERNAME holds to this account, with the "
              "recovery key (read from the terminal or stdin).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@instance_option
@config_errors
def disable_caseworker_command(username: str, successor: str, yes: bool, instance: Path) -> None:
    """Disable an account: its sessions end and every case key it holds is deleted. Cases
    it alone holds are then opened by the recovery key only (the administrators are told):
    have the person hand them over under My account first, or give --hand-to."""
    from cases.accounts.administration import AdminRefused, disable
    from cases.casework.handover import held_only_by
    from cases.casework.recovery import RecoveryRefused, grant, unlock
    from caseworker.cli.recovery import read_recovery_key

    store = store_of(instance)
    try:
        with store.transaction() as session:
            account = _account(session, username)
            alone = held_only_by(session, account.id)
            if alone and successor:
                private_key = unlock(store.settings, read_recovery_key())
                given = grant(session, store.settings, private_key, successor, alone)
                click.echo(f"{len(given.granted)} case(s) only {account.username} held are "
                           f"given to {successor}.")
                alone = given.excluded
            if alone:
                click.echo(
                    f"warning: {len(alone)} case(s) can only be opened by {account.username}; "
                    "after this only the offline recovery key opens them."
                )
            if not yes and not click.confirm(f"Disable {account.username}?"):
                sys.exit(1)
            removed = disable(session, store.settings, account, actor_id=None)
    except (AdminRefused, RecoveryRefused) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        store.dispose()
    click.echo(f"{username} is disabled; {removed} case keys deleted.")


@main.command("reset-2fa")
@click.argument("username")
@instance_option
@config_errors
def reset_2fa_command(username: str, instance: Path) -> None:
    """Forget an account's authenticator and recovery codes (it enrols again)."""
    from cases.accounts.administration import reset_two_factor

    store = store_of(instance)
    with store.transaction() as session:
        reset_two_factor(session, _account(session, username), actor_id=None)
    store.dispose()
    click.echo(f"{username} will set up a new authenticator at the next sign-in.")


@main.command("unlock")
@click.argument("username")
@instance_option
@config_errors
def unlock_command(username: str, instance: Path) -> None:
    """Lift the sign-in lock of an account."""
    from cases.accounts.administration import unlock

    store = store_of(instance)
    with store.transaction() as session:
        unlock(session, _account(session, username), actor_id=None)
    store.dispose()
    click.echo(f"{username} can sign in again.")


@main.group()
def approvals() -> None:
    """Requests waiting for a second administrator. The server's operator may decide
    them here (an instance with one administrator has nobody else); audited."""


@approvals.command("list")
@instance_option
@config_errors
def approvals_list(instance: Path) -> None:
    """Every waiting request: id, kind, who asked, what."""
    from cases.accounts import approvals as ap

    store = store_of(instance)
    with store.transaction() as session:
        for change in ap.pending(session):
            click.echo(f"{change.id:>5}  {change.kind:<17} asked by {change.requested_by or '-'}"
                       f"  account {change.target_id or '-'}  {change.payload}")
    store.dispose()


def _decide(instance: Path, change_id: int, approve: bool) -> None:
    from cases.accounts import approvals as ap
    from cases.accounts.administration import AdminRefused
    from cases.models import AdminChange

    store = store_of(instance)
    try:
        with store.transaction() as session:
            change = session.get(AdminChange, change_id)
            if change is None:
                click.echo(f"error: no request {change_id}", err=True)
                sys.exit(1)
            if not approve:
                ap.deny(session, change, actor_id=None)
                click.echo(f"Request {change_id} refused.")
                return
            decision = ap.approve(session, store.settings, change, approver_id=None)
            click.echo(f"Request {change_id} approved: it applies now.")
            if decision.enrolment_code is not None and decision.account is not None:
                click.echo(f"Enrolment code for {decision.account.username} (shown once, "
                           f"valid 72 hours): {decision.enrolment_code}")
    except AdminRefused as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        store.dispose()


@approvals.command("approve")
@click.argument("change_id", type=int)
@instance_option
@config_errors
def approvals_approve(change_id: int, instance: Path) -> None:
    """Approve one request (it applies at once)."""
    _decide(instance, change_id, approve=True)


@approvals.command("deny")
@click.argument("change_id", type=int)
@instance_option
@config_errors
def approvals_deny(change_id: int, instance: Path) -> None:
    """Refuse one request (nothing changes)."""
    _decide(instance, change_id, approve=False)


@main.group()
def keys() -> None:
    """Caseworkers' public keys and their certificates."""


@keys.command("list")
@instance_option
@config_errors
def keys_list(instance: Path) -> None:
    """Each account's key fingerprint (as its owner sees it on the account page) and
    whether the instance's certificate for it verifies; exit 1 if one does not."""
    from cases.keyring import Trust, UncertifiedKey
    from cases.models import Caseworker
    from crypto import key_fingerprint

    store = store_of(instance)
    trust = Trust.of(store.settings)
    bad = 0
    with store.transaction() as session:
        for account in session.scalars(select(Caseworker).order_by(Caseworker.username)):
            try:
                trust.public_key(account)
                state = "certified"
            except UncertifiedKey:
                state, bad = "NOT CERTIFIED: nothing is encrypted to it", bad + 1
            active = "" if account.active else " (disabled)"
            click.echo(f"{account.username:<24} {key_fingerprint(account.public_key)}  "
                       f"{state}{active}")
    store.dispose()
    if bad:
        sys.exit(1)
