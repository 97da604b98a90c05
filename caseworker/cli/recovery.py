"""``sealbox recovery``: the paper recovery key at work (cases.casework.recovery).

The key is read from the terminal without echo, or as the first line of standard input
when that is not a terminal; never from an argument (which other users and the shell's
history would see) and never logged. Every use is audited and mailed to the
administrators.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn, Protocol

import click

from caseworker.cli.base import config_errors, instance_option, main, store_of
from caseworker.cli.instance import print_recovery_key


def _interactive() -> bool:
    return sys.stdin.isatty()


def read_recovery_key(prompt: str = "Recovery key") -> str:
    """The paper key: typed without echo on a terminal, else standard input's first line."""
    if _interactive():
        return str(click.prompt(prompt, hide_input=True))
    return sys.stdin.readline().strip()


def _refused(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _open_store(instance: Path, prompt: str = "Recovery key") -> tuple[Any, bytes]:
    from cases.casework.recovery import RecoveryRefused, unlock

    store = store_of(instance)
    try:
        return store, unlock(store.settings, read_recovery_key(prompt))
    except RecoveryRefused as exc:
        store.dispose()
        _refused(str(exc))


@main.group()
def recovery() -> None:
    """Use the organisation recovery key: check it, give cases back, export, rotate."""


@recovery.command("check")
@instance_option
@config_errors
def check_command(instance: Path) -> None:
    """Open every case's recovery copy in memory and say whether all of them open (the
    recovery drill's first step; nothing is written). Exit 1 if one does not."""
    from cases.casework.recovery import check

    store, private_key = _open_store(instance)
    with store.transaction() as session:
        found = check(session, private_key)
    store.dispose()
    click.echo(f"{found.keys} recovery cop(ies) of {found.cases} case(s) open with this key.")
    for line in found.failed:
        click.echo(f"  does not open: {line}")
    for case_id in found.without_copy:
        click.echo(f"  no recovery copy: {case_id}")
    if found.failed or found.without_copy:
        click.echo("Some cases would be lost with every caseworker's key: see "
                   "docs/OPERATIONS.md, \u201cThe recovery drill\u201d.", err=True)
        sys.exit(1)


@recovery.command("grant")
@click.argument("username")
@click.option("--case", "case_ids", multiple=True, help="A case id (repeat it); or --all.")
@click.option("--all", "all_cases", is_flag=True, help="Every case of the instance.")
@click.option("--identity", is_flag=True,
              help="Also the cases' identity records (the account must be a custodian).")
@instance_option
@config_errors
def grant_command(
    username: str, case_ids: tuple[str, ...], all_cases: bool, identity: bool, instance: Path
) -> None:
    """Give cases to an account by wrapping their keys to it from the recovery copies: for
    a caseworker who lost their passphrase (after re-enrolling) or when nobody holds a
    case any more. Exclusions (named by the reporter, conflicts) still hold."""
    from cases.casework.recovery import RecoveryRefused, grant

    if bool(case_ids) == all_cases:
        _refused("name the cases with --case ID (one or more), or give --all.")
    store, private_key = _open_store(instance)
    try:
        with store.transaction() as session:
            done = grant(session, store.settings, private_key, username,
                         None if all_cases else case_ids, identity=identity)
    except RecoveryRefused as exc:
        _refused(str(exc))
    finally:
        store.dispose()
    click.echo(f"{len(done.granted)} case(s) given to {username}; "
               f"{len(done.already)} already held.")
    for case_id in done.excluded:
        click.echo(f"  not given (the account is excluded from it): {case_id}")


@recovery.command("export")
@click.argument("case_id")
@click.option("--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="The ZIP file to write (not an existing one), or - for "
              "standard output.")
@click.option("--internal", is_flag=True, help="Include notes, triage, risk and conclusion.")
@instance_option
@config_errors
def export_command(case_id: str, output: Path, internal: bool, instance: Path) -> None:
    """Export one case decrypted, as the caseworker app's export does (audited). The
    archive is plaintext: write it to an encrypted volume or pipe it on."""
    from cases.casework.recovery import RecoveryRefused, export
    from cases.models import today

    sink = _output(output)  # an existing file is refused before anything is opened
    store, private_key = _open_store(instance)
    written = 0
    try:
        for chunk in export(store, private_key, case_id, include_internal=internal, on=today()):
            sink.write(chunk)
            written += len(chunk)
    except RecoveryRefused as exc:
        sink.close()
        if str(output) != "-":
            output.unlink()
        _refused(str(exc))
    finally:
        store.dispose()
    sink.close()
    if str(output) != "-":
        click.echo(f"Case {case_id} exported to {output} ({written} bytes).", err=True)


class _Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...
    def close(self) -> None: ...


class _Pipe:
    """Standard output, left open for the shell."""

    def write(self, data: bytes, /) -> object:
        return sys.stdout.buffer.write(data)

    def close(self) -> None:
        sys.stdout.buffer.flush()


def _output(output: Path) -> _Sink:
    if str(output) == "-":
        return _Pipe()
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _refused(f"{output} exists: choose a new file name.")
    return os.fdopen(fd, "wb")


@recovery.command("rotate")
@instance_option
@config_errors
def rotate_command(instance: Path) -> None:
    """Replace the recovery key: every case's recovery copy is wrapped again to a new key
    pair, whose private key is printed once. Stop both apps first and start them after
    (until then they would wrap new reports to the old key)."""
    from cases.casework.recovery import RecoveryRefused, rotate
    from config.instance import replace_recovery_public_key, restore_instance_file
    from crypto import new_recovery_keypair, parse_recovery_key

    store, old_private = _open_store(instance, "Current recovery key")
    new_text, new_public = new_recovery_keypair()
    print_recovery_key(new_text)
    if _interactive() and not _typed_back(new_text, parse_recovery_key):
        store.dispose()
        _refused("the new key was not typed back correctly: nothing was changed.")
    before = None
    try:
        with store.transaction() as session:
            rotated = rotate(session, store.settings, old_private, new_public)
            before = replace_recovery_public_key(store.settings.instance_path, new_public)
    except RecoveryRefused as exc:
        _refused(str(exc))
    except BaseException:
        if before is not None:  # the database kept the old copies: so does the file
            restore_instance_file(store.settings.instance_path, before)
        raise
    finally:
        store.dispose()
    click.echo(f"{rotated} recovery cop(ies) now open with the new key only.")
    click.echo("Next: start both apps again, copy instance.toml to every host that runs "
               "them, run `sealbox recovery check` with the new key, then destroy the old "
               "paper.")


def _typed_back(text: str, parse: Any) -> bool:
    """On a terminal the new key must be typed back from the paper before anything
    changes: a key that was misread is worth nothing."""
    for _ in range(3):
        typed = click.prompt("Type the new key back from your paper", hide_input=True)
        try:
            if parse(typed) == parse(text):
                return True
        except ValueError as exc:
            click.echo(f"  {exc}", err=True)
            continue
        click.echo("  That is a different key: check the paper.", err=True)
    return False


@recovery.command("adopt")
@instance_option
@config_errors
def adopt_command(instance: Path) -> None:
    """Wrap to this instance's current recovery key every copy that a retired key still
    opens (reports stored by an app that ran on during a rotation). Reads the retired
    key."""
    from cases.casework.recovery import adopt
    from crypto import parse_recovery_key

    store = store_of(instance)
    retired = read_recovery_key("Retired recovery key")
    try:
        private_key = parse_recovery_key(retired)
    except ValueError as exc:
        store.dispose()
        _refused(f"{exc}.")
    with store.transaction() as session:
        moved = adopt(session, store.settings, private_key)
    store.dispose()
    click.echo(f"{moved} recovery cop(ies) moved to the current key.")

