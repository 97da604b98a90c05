"""``sealbox notify``: send the mail notices that are due (cases.notifications), once or,
with ``--every``, again and again. A systemd timer runs it every few minutes; ``sealbox
serve`` runs it beside the apps when mail is set up."""

from __future__ import annotations

import time
from pathlib import Path

import click

from caseworker.cli.base import config_errors, instance_option, main, store_of

MAIL_HELP = (
    "Mail notices are off: set SEALBOX_SMTP_HOST (and SEALBOX_SMTP_PORT, SEALBOX_SMTP_SECURITY, "
    "SEALBOX_SMTP_USERNAME, SEALBOX_SMTP_PASSWORD, SEALBOX_MAIL_FROM, SEALBOX_CASEWORKER_URL) "
    "to send them; docs/OPERATIONS.md, section 14."
)


@main.command()
@click.option("--every", type=int, default=0, help="Drain again every N seconds (0: once).")
@instance_option
@config_errors
def notify(every: int, instance: Path) -> None:
    """Send the mail notices that are due: one mail per person, naming no case."""
    from cases.notifications.deadlines import (
        flag_quiet_cases,
        flag_unheld_cases,
        remind_deadlines,
    )
    from cases.notifications.outbox import drain
    from caseworker.mail import Delivery
    from config.mail import mail_configured

    store = store_of(instance)
    if not mail_configured(store.settings):
        click.echo(MAIL_HELP)
        store.dispose()
        return
    try:
        while True:
            with store.transaction() as session:
                remind_deadlines(session, store.settings)
                flag_quiet_cases(session, store.settings, store.policy(session).quiet_case_days)
                flag_unheld_cases(session, store.settings)
            with Delivery(store.settings) as delivery:
                done = drain(store, delivery)
            if done.sent or done.failed or not every:
                click.echo(f"{done.sent} mail(s) sent with {done.notices} notice(s); "
                           f"{done.failed} failed (kept, tried again later).")
            if not every:
                return
            time.sleep(every)
    finally:
        store.dispose()


@main.command("report-failure")
@click.argument("unit")
@instance_option
@config_errors
def report_failure(unit: str, instance: Path) -> None:
    """Tell the administrators that a maintenance job failed (a backup, the purge): run by
    systemd's OnFailure= (deploy/systemd/sealbox-failed@.service). Audited; the mail goes
    out at once when mail is set up."""
    from cases.notifications.outbox import MAINTENANCE_FAILED, alert_admins, drain
    from cases.records.audit import record
    from caseworker.mail import Delivery
    from config.mail import mail_configured

    job = "".join(ch for ch in unit if ch.isalnum() or ch in "-_.@")[:64]
    store = store_of(instance)
    try:
        with store.transaction() as session:
            record(session, "maintenance.failed", actor_id=None, unit=job)
            alert_admins(session, MAINTENANCE_FAILED, store.settings)
        if mail_configured(store.settings):
            with Delivery(store.settings) as delivery:
                drain(store, delivery)
    finally:
        store.dispose()
    click.echo(f"Recorded that {job} failed; the administrators are told.")
