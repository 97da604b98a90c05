"""``sealbox init``, ``db upgrade``, ``db maintain`` and ``purge``: the instance, its
schema, the nightly reordering and the retention purge."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.exc import OperationalError

from caseworker.cli.base import config_errors, instance_option, main, store_of
from config import (
    InstanceExists,
    init_instance,
)

if TYPE_CHECKING:
    from cases.models import Case

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


def print_recovery_key(text: str) -> None:
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
    print_recovery_key(text)
    click.echo("Next: `sealbox db upgrade`, then `sealbox create-caseworker NAME --admin`.")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@instance_option
@config_errors
def db_upgrade(instance: Path) -> None:
    """Create or upgrade the database schema to the newest version."""
    store = store_of(instance, schema=False)
    before = store.schema_revisions()
    store.migrate()
    after = store.schema_revisions()
    refresh_statistics(store)
    store.dispose()
    newest = ", ".join(sorted(after))
    if not before:
        click.echo(f"Created the database schema (revision {newest}).")
    elif before == after:
        click.echo(f"The database was already up to date (revision {newest}); nothing changed.")
    else:
        click.echo(f"Upgraded the database schema from {', '.join(sorted(before))} to {newest}.")


@db.command("maintain")
@instance_option
@config_errors
def db_maintain(instance: Path) -> None:
    """Rewrite the tables reporters write in the order of their random keys, so the
    database's storage no longer says when each row was written (nightly, before the
    backup; on PostgreSQL as the tables' owner, like `db upgrade`)."""
    from cases.records.maintenance import reorder

    store = store_of(instance)
    reorder(store.engine)
    store.dispose()
    click.echo("The tables reporters write are stored in key order again.")


def refresh_statistics(store: Any) -> None:
    """ANALYZE, so the query planner walks the inbox's sort indexes (cases.casework.inbox). Run by
    `db upgrade` and by the daily `purge`; PostgreSQL's autovacuum also does it."""
    with store.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


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
    from cases.records.retention import kept_for_review
    from cases.reporting.claim import sweep_replaced_reporter_keys
    from cases.reporting.followup import sweep_reporter_sessions
    from cases.reporting.resend import forget_sent
    from cases.reporting.staged_files import sweep_staged

    store = store_of(instance)
    on = today()
    grace = store.settings.orphan_grace_minutes * 60
    if dry_run:
        _dry_run(store, on, grace)
        return
    purged = _purge_cases(store, on)
    with store.transaction() as session:
        unreviewed = len(kept_for_review(session))
        sealed = seal_recent_content(session, on)
        sessions = sweep_expired(session, store.settings)
        sessions += sweep_reporter_sessions(session, on)
        replaced = sweep_replaced_reporter_keys(session)
        forget_sent(session, on)  # resent-form digests past their window
        # Ciphertext a killed worker left without its row, that no living request renews.
        orphans = store.blobs.sweep_orphans(session, grace)
        abandoned_files = sweep_staged(session, store.blobs, on)  # sealed, never sent
        head_id, head_hash = current_head(session)
    scrubbed = store.scrub_freed_data()
    if is_sqlite(store.engine):  # the embedded default has no separate maintenance timer
        try:
            reorder(store.engine)
        except OperationalError:  # the apps kept it busy: the next night does it
            scrubbed = False
    refresh_statistics(store)
    store.dispose()
    click.echo(f"{purged} case(s) purged; {sessions} expired session(s) removed.")
    if unreviewed:
        click.echo(f"{unreviewed} closed case(s) kept: their closure waits for a second "
                   "caseworker's review.")
    click.echo(f"{orphans} orphaned attachment ciphertext(s) removed.")
    click.echo(f"{abandoned_files} file(s) sealed in a browser but never sent removed.")
    click.echo(f"{replaced} handed-over receipt key(s) removed (receipts taken over).")
    click.echo(f"{sealed} case(s) with reporter activity sealed into the audit log.")
    click.echo(f"audit head {head_id}:{head_hash.hex()}  (copy it off this server)")
    if not scrubbed:
        click.echo(
            "warning: the database was busy, so deleted rows may remain in its write-ahead "
            "log, and its tables in the order of writing, until the next purge.",
            err=True,
        )


def _purge_cases(store: Any, on: dt.date) -> int:
    """Closed cases past retention (a batch per transaction: cases.records.retention) and,
    under that policy, abandoned open ones."""
    from cases.records.retention import purge_abandoned, purge_expired_in_batches

    with store.transaction() as session:
        policy = store.policy(session)
    purged = purge_expired_in_batches(store.transaction, store.blobs, on,
                                      policy.retention_days_after_close, each=_list_purged)
    with store.transaction() as session:
        abandoned = purge_abandoned(session, store.blobs, on,
                                    policy.abandoned_case_retention_days)
    _list_purged(abandoned)
    return purged + len(abandoned)


def _list_purged(case_ids: Sequence[str]) -> None:
    for case_id in case_ids:
        click.echo(f"  {case_id} purged")


def _dry_run(store: Any, on: dt.date, grace: int) -> None:
    from cases.casework.ageing import abandoned_for_purge
    from cases.records.retention import due_for_purge

    with store.transaction() as session:
        policy = store.policy(session)
        days = policy.retention_days_after_close
        _list_purge(due_for_purge(session, on, days), days, store.blobs.orphans(session, grace))
        quiet_days = policy.abandoned_case_retention_days
        _list_abandoned(abandoned_for_purge(session, on, quiet_days), quiet_days)
    store.dispose()


def _list_abandoned(case_ids: list[str], days: int) -> None:
    if days:
        click.echo(f"{len(case_ids)} open case(s) would be purged as abandoned (no activity "
                   f"for {days} days, caseworkers told a month before):")
        for case_id in case_ids:
            click.echo(f"  {case_id}")


def _list_purge(due: list[Case], days: int, orphans: list[str]) -> None:
    """What ``purge --dry-run`` shows: what the purge would delete."""
    click.echo(f"{len(due)} case(s) would be purged (retention {days} days after close):")
    for case in due:
        click.echo(f"  {case.id}  closed {case.closed_on}")
    click.echo(f"{len(orphans)} orphaned attachment ciphertext(s) would be removed:")
    for name in orphans:
        click.echo(f"  {name}")


# --- sealbox serve -----------------------------------------------------------------------
