"""``sealbox audit verify`` and ``audit head``: check the hash chain and the content it
commits to, and print the head to keep off the server."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from caseworker.cli.base import config_errors, instance_option, main, store_of


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
    store = store_of(instance)
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
    _alert(instance)
    sys.exit(1)


def _alert(instance: Path) -> None:
    """Tell the administrators by mail (cases.notifications; sent by `sealbox notify`)."""
    from cases.notifications.outbox import AUDIT_BROKEN, alert_admins

    store = store_of(instance)
    with store.transaction() as session:
        alert_admins(session, AUDIT_BROKEN, store.settings)
    store.dispose()


@audit.command("head")
@instance_option
@config_errors
def audit_head(instance: Path) -> None:
    """Print the last entry's id and hash (ID:HASH). Keep copies off this server: with one,
    `audit verify --head` finds a log cut back to before it."""
    from cases.records.audit import current_head

    store = store_of(instance)
    with store.transaction() as session:
        entry_id, digest = current_head(session)
    store.dispose()
    click.echo(f"{entry_id}:{digest.hex()}")
