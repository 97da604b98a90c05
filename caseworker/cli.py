"""``sealbox``: the operator's command line.

    sealbox init                  create an instance and print its recovery key once
    sealbox db upgrade            create or upgrade the database schema
    sealbox db maintain           store reporter-written tables in key order (nightly)
    sealbox create-caseworker     add an account (its owner enrols with a one-time code)
    sealbox approvals list|approve|deny   requests waiting for a second administrator
    sealbox disable-caseworker    disable an account and delete its case keys
    sealbox reset-2fa             let an account enrol a new authenticator
    sealbox unlock                lift a sign-in lock
    sealbox keys list             account key fingerprints and their certificates
    sealbox audit verify          check the audit chain and the content it commits to
    sealbox audit head            print the chain's head, to keep off the server
    sealbox purge                 delete closed cases past retention (crypto-shredding)
    sealbox serve                 start intake and caseworker apps on this machine

Settings come from ``SEALBOX_*`` variables and the instance folder (``--instance`` or
SEALBOX_INSTANCE_PATH, default ./instance). A configuration problem prints one line per
problem and exits with status 2.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import OperationalError

from config import (
    ConfigError,
    InstanceExists,
    Settings,
    ensure_signing_key,
    init_instance,
    load_settings,
)

F = TypeVar("F", bound=Callable[..., Any])

instance_option = click.option(
    "--instance",
    "instance",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SEALBOX_INSTANCE_PATH",
    default=Path("instance"),
    show_default=True,
    help="Instance folder (secrets, SQLite database, attachments).",
)


def config_errors(command: F) -> F:
    """Settings errors become their lines on stderr and exit status 2, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _settings(instance: Path) -> Settings:
    if (instance / "instance.toml").exists():
        ensure_signing_key(instance)  # instances made before keys were certified
    return load_settings(instance_path=instance)


def _store(instance: Path, *, schema: bool = True) -> Any:
    from cases.health import check_database
    from cases.store import Store

    settings = _settings(instance)
    check_database(settings, schema=schema)  # a ConfigError: one line, exit status 2
    return Store(settings)


@click.group(help=__doc__)
@click.version_option(package_name="sealbox")
def main() -> None:
    pass


RECOVERY_NOTICE = """\
==========================================================================
 ORGANISATION RECOVERY KEY: shown this one time only, never stored here
==========================================================================

    {key}

 Write it on paper (or print it) now, check every character, and keep it
 in a safe place away from this server, such as a locked cabinet. With it
 the organisation can open every case if all caseworkers lose access.
 Anyone who has it AND a copy of the database can read every case.
==========================================================================
"""


def _print_recovery_key(text: str) -> None:
    click.echo(RECOVERY_NOTICE.format(key=text))


@main.command()
@instance_option
def init(instance: Path) -> None:
    """Create a new instance and print its recovery key once."""
    try:
        text = init_instance(instance)
    except InstanceExists as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Instance created in {instance.resolve()}")
    _print_recovery_key(text)
    click.echo("Next: `sealbox db upgrade`, then `sealbox create-caseworker NAME --admin`.")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@instance_option
@config_errors
def db_upgrade(instance: Path) -> None:
    """Create or upgrade the database schema to the newest version."""
    store = _store(instance, schema=False)
    store.migrate()
    refresh_statistics(store)
    store.dispose()
    click.echo("The database is up to date.")


@db.command("maintain")
@instance_option
@config_errors
def db_maintain(instance: Path) -> None:
    """Rewrite the tables reporters write in the order of their random keys, so the
    database's storage no longer says when each row was written (nightly, before the
    backup; on PostgreSQL as the tables' owner, like `db upgrade`)."""
    from cases.records.maintenance import reorder

    store = _store(instance)
    reorder(store.engine)
    store.dispose()
    click.echo("The tables reporters write are stored in key order again.")


def refresh_statistics(store: Any) -> None:
    """ANALYZE, so the query planner walks the inbox's sort indexes (cases.casework.inbox). Run by
    `db upgrade` and by the daily `purge`; PostgreSQL's autovacuum also does it."""
    with store.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


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

    store = _store(instance)
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
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@instance_option
@config_errors
def disable_caseworker_command(username: str, yes: bool, instance: Path) -> None:
    """Disable an account: its sessions end and every case key it holds is deleted."""
    from cases.accounts.administration import AdminRefused, disable, sole_holder_cases

    store = _store(instance)
    try:
        with store.transaction() as session:
            account = _account(session, username)
            alone = sole_holder_cases(session, account.id)
            if alone:
                click.echo(
                    f"warning: {alone} case(s) can only be opened by {account.username}; "
                    "after this only the offline recovery key opens them."
                )
            if not yes and not click.confirm(f"Disable {account.username}?"):
                sys.exit(1)
            removed = disable(session, account, actor_id=None)
    except AdminRefused as exc:
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

    store = _store(instance)
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

    store = _store(instance)
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

    store = _store(instance)
    with store.transaction() as session:
        for change in ap.pending(session):
            click.echo(f"{change.id:>5}  {change.kind:<17} asked by {change.requested_by or '-'}"
                       f"  account {change.target_id or '-'}  {change.payload}")
    store.dispose()


def _decide(instance: Path, change_id: int, approve: bool) -> None:
    from cases.accounts import approvals as ap
    from cases.accounts.administration import AdminRefused
    from cases.models import AdminChange

    store = _store(instance)
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

    store = _store(instance)
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


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


def _parse_head(value: str | None) -> tuple[int, bytes] | None:
    if not value:
        return None
    entry_id, _, digest = value.partition(":")
    try:
        return int(entry_id), bytes.fromhex(digest)
    except ValueError:
        raise click.BadParameter("give it as ID:HASH, as `sealbox audit head` prints") from None


@audit.command("verify")
@click.option("--head", "head", help="A head exported earlier (ID:HASH): also check that "
              "the log still holds it, so a log cut back or rewritten before it is found.")
@instance_option
@config_errors
def audit_verify(head: str | None, instance: Path) -> None:
    """Check every link of the audit chain, and that every message and attachment is still
    what the audit log committed to; exit 1 and list the problems if not."""
    from cases.records.audit import verify_chain
    from cases.records.integrity import verify_content

    exported = _parse_head(head)
    store = _store(instance)
    with store.transaction() as session:
        chain = verify_chain(session, exported)
        content = verify_content(session, store.blobs)
    store.dispose()
    if chain.ok and content.ok:
        click.echo(f"The audit chain is intact ({chain.checked} entries"
                   + (f", including exported entry {exported[0]}" if exported else "") + ").")
        click.echo(f"The content matches it: {content.items} items of {content.cases} cases, "
                   f"{content.commitments} commitments.")
        return
    click.echo("The audit log or the content it commits to is BROKEN:", err=True)
    for problem in chain.problems + content.problems:
        click.echo(f"  - {problem}", err=True)
    sys.exit(1)


@audit.command("head")
@instance_option
@config_errors
def audit_head(instance: Path) -> None:
    """Print the last entry's id and hash (ID:HASH). Keep copies off this server: with one,
    `audit verify --head` finds a log cut back to before it."""
    from cases.records.audit import current_head

    store = _store(instance)
    with store.transaction() as session:
        entry_id, digest = current_head(session)
    store.dispose()
    click.echo(f"{entry_id}:{digest.hex()}")


@main.command()
@click.option("--dry-run", is_flag=True, help="List what would be deleted, delete nothing.")
@instance_option
@config_errors
def purge(dry_run: bool, instance: Path) -> None:
    """Delete closed cases past the retention period (their keys first: crypto-shredding),
    expired sign-in sessions and orphaned attachment ciphertext. Meant to run daily from a
    timer."""
    from cases.accounts.sessions import sweep_expired
    from cases.db import is_sqlite
    from cases.models import today
    from cases.records.audit import current_head
    from cases.records.integrity import seal_recent_content
    from cases.records.maintenance import reorder
    from cases.records.retention import due_for_purge, kept_for_review, purge_expired
    from cases.reporting.claim import sweep_replaced_reporter_keys
    from cases.reporting.followup import sweep_reporter_sessions

    store = _store(instance)
    on = today()
    with store.transaction() as session:
        days = store.policy(session).retention_days_after_close
        due = due_for_purge(session, on, days)
        if dry_run:
            click.echo(f"{len(due)} case(s) would be purged (retention {days} days after close):")
            for case in due:
                click.echo(f"  {case.id}  closed {case.closed_on}")
            store.dispose()
            return
        purged = purge_expired(session, store.blobs, on, days, actor_id=None)
        unreviewed = len(kept_for_review(session))
        sealed = seal_recent_content(session, on)
        sessions = sweep_expired(session, store.settings)
        sessions += sweep_reporter_sessions(session, on)
        replaced = sweep_replaced_reporter_keys(session)
        # Ciphertext a crash left without its row (past the blob store's grace period).
        orphans = store.blobs.sweep_orphans(session)
        head_id, head_hash = current_head(session)
    scrubbed = store.scrub_freed_data()
    if is_sqlite(store.engine):  # the embedded default has no separate maintenance timer
        try:
            reorder(store.engine)
        except OperationalError:  # the apps kept it busy: the next night does it
            scrubbed = False
    refresh_statistics(store)
    store.dispose()
    click.echo(f"{len(purged)} case(s) purged; {sessions} expired session(s) removed.")
    if unreviewed:
        click.echo(f"{unreviewed} closed case(s) kept: their closure waits for a second "
                   "caseworker's review.")
    click.echo(f"{orphans} orphaned attachment ciphertext(s) removed.")
    click.echo(f"{replaced} handed-over receipt key(s) removed (receipts taken over).")
    click.echo(f"{sealed} case(s) with reporter activity sealed into the audit log.")
    click.echo(f"audit head {head_id}:{head_hash.hex()}  (copy it off this server)")
    if not scrubbed:
        click.echo(
            "warning: the database was busy, so deleted rows may remain in its write-ahead "
            "log, and its tables in the order of writing, until the next purge.",
            err=True,
        )
    for case_id in purged:
        click.echo(f"  {case_id}")


# --- sealbox serve -----------------------------------------------------------------------


def _ensure_first_account(store: Any) -> tuple[str, str] | None:
    """The first account, made like every other: with an enrolment code for its owner."""
    from cases.accounts.enrolment import create_account
    from cases.models import Caseworker

    with store.transaction() as session:
        if session.scalar(select(func.count()).select_from(Caseworker)):
            return None
        _account, code = create_account(
            session,
            store.settings,
            "admin",
            display_name="Administrator",
            caseworker=True,
            custodian=True,
            admin=True,
        )
    return "admin", code


def _schema_exists(store: Any) -> bool:
    return bool(inspect(store.engine).has_table("caseworkers"))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--intake-port", default=8080, show_default=True, type=int)
@click.option("--caseworker-port", default=8081, show_default=True, type=int)
@instance_option
@config_errors
def serve(host: str, intake_port: int, caseworker_port: int, instance: Path) -> None:
    """One-command local start: instance, schema and first account if missing, then the
    intake and caseworker apps as two processes. Ctrl-C stops both."""
    from cases.health import check_services
    from cases.store import Store

    instance = instance.resolve()
    if not (instance / "instance.toml").exists():
        _print_recovery_key(init_instance(instance))
        click.echo(f"A new instance was created in {instance}.\n")
    settings = _settings(instance)
    check_services(settings, schema=False)  # migrate() below brings the schema up to date
    store = Store(settings)
    store.migrate()
    first = _ensure_first_account(store)
    store.dispose()
    if first:
        click.echo("First account (administrator, caseworker and identity custodian):")
        click.echo(f"  username:        {first[0]}")
        click.echo(f"  enrolment code:  {first[1]}   (shown once, valid 72 hours)")
        click.echo(f"  first sign-in: http://{host}:{caseworker_port}/enrol")
        click.echo("  (you choose the passphrase there; nobody else ever knows it)\n")
    env = {**os.environ, "SEALBOX_INSTANCE_PATH": str(instance)}
    commands = {
        "intake": [sys.executable, "-m", "intake", "--host", host, "--port", str(intake_port)],
        "caseworker": [
            sys.executable,
            "-m",
            "caseworker",
            "--host",
            host,
            "--port",
            str(caseworker_port),
        ],
    }
    sys.exit(
        run_apps(
            commands,
            env,
            {
                "intake": f"http://{host}:{intake_port}",
                "caseworker": f"http://{host}:{caseworker_port}",
            },
        )
    )


class _Stop(Exception):
    pass


def run_apps(commands: dict[str, list[str]], env: dict[str, str], urls: dict[str, str]) -> int:
    """Start each command, stop all on Ctrl-C/SIGTERM, and fail if any of them dies."""
    processes: dict[str, subprocess.Popen[bytes]] = {}

    def on_signal(signum: int, _frame: Any) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGTERM, on_signal)
    status = 0
    try:
        for name, command in commands.items():
            processes[name] = subprocess.Popen(command, env=env)  # noqa: S603 - fixed argv
        for name, url in urls.items():
            click.echo(f"{name:>11}: {url}")
        click.echo("Press Ctrl-C to stop.")
        while True:
            for name, process in processes.items():
                code = process.poll()
                if code is not None:
                    click.echo(f"error: the {name} app stopped (exit status {code})", err=True)
                    return code or 1
            time.sleep(0.5)
    except (KeyboardInterrupt, _Stop):
        click.echo("\nStopping…")
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        signal.signal(signal.SIGTERM, previous)
    return status


if __name__ == "__main__":
    main()
