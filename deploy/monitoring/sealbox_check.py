"""Monitoring check for a Sealbox instance: services, deadlines, purge, disk.

    sealbox_check.py                 # Nagios/Icinga style: one line; exit 0, 1 or 2
                                     # (OK, WARNING, CRITICAL)
    sealbox_check.py --prometheus    # node_exporter textfile-collector format on stdout
    sealbox_check.py --audit-head    # the audit chain head, to keep off the host

Reads the same SEALBOX_* environment as the apps (run it as the sealbox user with
/etc/sealbox/sealbox.env). It reports counts only — never a case id, date of a report,
category, username or anything a reporter wrote — so its output can go to any monitoring
system without telling it who reported what, or when.

CRITICAL: the database or Redis is unreachable or the schema is not migrated.
WARNING:  a case is past a legal deadline (acknowledgement 7 days, feedback 3 months),
          closed cases past retention are still waiting (the purge timer is not running),
          or the instance's disk is fuller than --disk-warn percent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
from dataclasses import dataclass, field
from typing import Any

OK, WARNING, CRITICAL = 0, 1, 2
LABELS = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL"}


@dataclass
class Report:
    status: int = OK
    messages: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)

    def raise_to(self, level: int, message: str) -> None:
        self.status = max(self.status, level)
        self.messages.append(message)


def collect(settings: Any, disk_warn: int = 90) -> Report:
    from sqlalchemy import func, select

    from cases.casework.workflow import DUE_SOON_DAYS
    from cases.health import database_problems, redis_problems
    from cases.models import Case, Status
    from cases.records.retention import count_due_for_purge
    from cases.store import Store

    report = Report()
    db_problems = database_problems(settings.sqlalchemy_url)
    redis = redis_problems(settings.ratelimit_storage_uri)
    report.metrics["sealbox_database_up"] = 0 if db_problems else 1
    report.metrics["sealbox_ratelimit_storage_up"] = 0 if redis else 1
    for problem in db_problems + redis:
        report.raise_to(CRITICAL, problem)

    usage = shutil.disk_usage(settings.instance_path)
    used_percent = 100 * (usage.total - usage.free) / usage.total
    report.metrics["sealbox_instance_disk_used_percent"] = round(used_percent, 1)
    if used_percent >= disk_warn:
        report.raise_to(WARNING, f"instance disk {used_percent:.0f}% full")
    if db_problems:
        return report

    today = dt.datetime.now(dt.UTC).date()
    store = Store(settings)
    try:
        with store.transaction() as session:
            by_status = dict(
                session.execute(select(Case.status, func.count()).group_by(Case.status)).all()
            )
            overdue = session.scalar(select(func.count()).where(Case.next_due_on < today))
            due_soon = session.scalar(
                select(func.count()).where(
                    Case.next_due_on >= today,
                    Case.next_due_on <= today + dt.timedelta(days=DUE_SOON_DAYS),
                )
            )
            retention = store.policy(session).retention_days_after_close
            # A day of slack: the timer runs daily.
            waiting = count_due_for_purge(session, today - dt.timedelta(days=1), retention)
            orphans = len(store.blobs.orphans(session, settings.orphan_grace_minutes * 60))
    finally:
        store.dispose()
    for status in Status:
        report.metrics[f'sealbox_cases{{status="{status.value}"}}'] = by_status.get(status, 0)
    report.metrics["sealbox_cases_overdue"] = overdue or 0
    report.metrics["sealbox_cases_due_soon"] = due_soon or 0
    report.metrics["sealbox_cases_awaiting_purge"] = waiting
    # Ciphertext killed workers left behind (the purge removes it; many: workers keep dying).
    report.metrics["sealbox_orphaned_ciphertexts"] = orphans
    if overdue:
        report.raise_to(WARNING, f"{overdue} case(s) past a deadline")
    if waiting:
        report.raise_to(
            WARNING, f"{waiting} closed case(s) past retention: is the purge timer running?"
        )
    return report


def _print_audit_head(settings: Any) -> int:
    """The chain head, written down daily somewhere the server cannot reach, shows later
    whether anyone with database access rewrote or cut back the chain after that day
    (`sealbox audit verify --head ID:HASH` with the value printed here)."""
    from cases.models import AuditHead
    from cases.records.audit import current_head
    from cases.store import Store

    store = Store(settings)
    try:
        with store.transaction() as session:
            exists = session.get(AuditHead, 1) is not None
            entry_id, digest = current_head(session)
    finally:
        store.dispose()
    if not exists:
        print("no audit head: run `sealbox db upgrade`")
        return CRITICAL
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{stamp} audit head {entry_id}:{digest.hex()}")
    return OK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sealbox monitoring check (counts only).")
    parser.add_argument("--prometheus", action="store_true", help="print metrics, exit 0")
    parser.add_argument("--disk-warn", type=int, default=90, help="warn above this %% used")
    parser.add_argument(
        "--audit-head",
        action="store_true",
        help="print the audit chain's last entry number and hash (keep them off the host)",
    )
    args = parser.parse_args(argv)
    from config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"CRITICAL - {'; '.join(exc.problems)}")
        return CRITICAL
    if args.audit_head:
        return _print_audit_head(settings)
    report = collect(settings, args.disk_warn)
    if args.prometheus:
        for name, value in report.metrics.items():
            print(f"{name} {value:g}")
        return OK
    summary = "; ".join(report.messages) or "services up, no case past a deadline"
    print(f"{LABELS[report.status]} - {summary}")
    return report.status


if __name__ == "__main__":
    sys.exit(main())
