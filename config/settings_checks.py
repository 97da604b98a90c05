"""The checks ``load_settings`` runs on every setting (out of range, malformed, against
the law), and the limits they hold to. No Flask: plain rules over a ``Settings``."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.settings import Settings

MIB = 1024 * 1024
# An open case is deleted for being abandoned only after a year of silence at the least.
MIN_ABANDONED_RETENTION_DAYS = 365
# EU Directive 2019/1937 Art. 9(1)(b) and (f): the longest an organisation may take to
# acknowledge a report, and to give feedback. Settings, the stored policy and the admin
# form all refuse longer periods.
LEGAL_MAX_ACKNOWLEDGE_DAYS = 7
LEGAL_MAX_FEEDBACK_MONTHS = 3


def _authority_problems(name: str, entries: tuple[str, ...]) -> list[str]:
    problems = []
    for number, entry in enumerate(entries, 1):
        authority, bar, _contact = entry.partition("|")
        if not bar:
            problems.append(
                f"{name}: entry {number} {entry!r} needs the form 'Name | URL or contact'")
        elif not authority.strip():
            problems.append(f"{name}: entry {number} {entry!r} has no name")
    return problems


def _mail_problems(s: Settings) -> list[str]:
    problems = []
    if s.reporter_notice_batch_minutes < 1:
        problems.append("reporter_notice_batch_minutes: must be at least 1, "
                        f"got {s.reporter_notice_batch_minutes}")
    if s.smtp_security not in ("starttls", "tls", "none"):
        problems.append(f"smtp_security: starttls, tls or none, got {s.smtp_security!r}")
    if s.acknowledge_reminder_days < 0 or s.feedback_reminder_days < 0:
        problems.append("acknowledge_reminder_days, feedback_reminder_days: 0 or more")
    if not 0 <= s.notice_digest_hour <= 23:
        problems.append(f"notice_digest_hour: 0 to 23, got {s.notice_digest_hour}")
    return problems


def _ageing_problems(s: Settings) -> list[str]:
    """Quiet and abandoned cases (cases.casework.ageing)."""
    problems = []
    if s.quiet_case_days < 0:
        problems.append(f"quiet_case_days: 0 or more, got {s.quiet_case_days}")
    if 0 < s.abandoned_case_retention_days < MIN_ABANDONED_RETENTION_DAYS or (
        s.abandoned_case_retention_days < 0
    ):
        problems.append(f"abandoned_case_retention_days: 0 (never) or at least "
                        f"{MIN_ABANDONED_RETENTION_DAYS}")
    return problems


def _quick_exit_problems(s: Settings) -> list[str]:
    if s.quick_exit_url.startswith(("https://", "http://")):
        return []
    return [f"quick_exit_url: an http(s) address, got {s.quick_exit_url!r}"]


def problems_of(s: Settings) -> list[str]:
    """Every setting that is out of range or malformed, in words (empty: all good)."""
    problems: list[str] = []

    def at_least(name: str, minimum: int) -> None:
        if getattr(s, name) < minimum:
            problems.append(f"{name}: must be at least {minimum}, got {getattr(s, name)}")

    at_least("receipt_kdf_opslimit", 1)
    at_least("passphrase_kdf_opslimit", 1)
    at_least("receipt_kdf_memlimit_mib", 1)
    at_least("passphrase_kdf_memlimit_mib", 1)
    at_least("argon2_memory_budget_mib", 1)
    at_least("acknowledge_within_days", 1)
    at_least("feedback_within_months", 1)
    at_least("retention_days_after_close", 0)
    problems += _ageing_problems(s) + _quick_exit_problems(s)
    at_least("max_report_chars", 1)
    at_least("max_files_per_submission", 0)
    at_least("max_file_bytes", 1)
    at_least("max_request_bytes", 1024)
    at_least("min_body_bytes_per_second", 0)
    at_least("body_rate_grace_seconds", 1)
    at_least("orphan_grace_minutes", 5)
    problems += _mail_problems(s)
    for name in ("reporter_idle_minutes", "caseworker_idle_minutes", "caseworker_absolute_hours"):
        at_least(name, 1)
    if s.acknowledge_within_days > LEGAL_MAX_ACKNOWLEDGE_DAYS:
        problems.append(
            "acknowledge_within_days: EU Directive 2019/1937 allows at most "
            f"{LEGAL_MAX_ACKNOWLEDGE_DAYS}"
        )
    if s.feedback_within_months > LEGAL_MAX_FEEDBACK_MONTHS:
        problems.append(
            "feedback_within_months: EU Directive 2019/1937 allows at most "
            f"{LEGAL_MAX_FEEDBACK_MONTHS}"
        )
    if s.attachment_storage not in ("filesystem", "database"):
        problems.append("attachment_storage: must be 'filesystem' or 'database'")
    if s.database_url and not s.database_url.startswith(("sqlite", "postgresql")):
        problems.append("database_url: only sqlite:// and postgresql+psycopg:// URLs are supported")
    if not s.ratelimit_storage_uri.startswith(("memory://", "redis://", "rediss://")):
        problems.append("ratelimit_storage_uri: use memory:// or a redis:// URL")
    problems += _listener_problems(s)
    if s.default_language not in s.languages:
        problems.append(f"default_language: {s.default_language!r} is not in languages")
    problems += _authority_problems("external_authorities", s.external_authorities)
    for lang, entries in s.external_authorities_in.items():
        if lang not in s.languages:
            problems.append(f"external_authorities_in: {lang!r} is not in languages")
        problems += _authority_problems(f"external_authorities_in.{lang}", entries)
    if s.secret_key and len(s.secret_key) < 32:
        problems.append("secret_key: must be at least 32 bytes")
    if s.instance_salt and len(s.instance_salt) != 16:
        problems.append("instance_salt: must be 16 bytes")
    return problems


def _listener_problems(s: Settings) -> list[str]:
    problems = []
    for proxy in s.trusted_proxies:
        try:
            ipaddress.ip_address(proxy)
        except ValueError:
            problems.append(f"trusted_proxies: {proxy!r} is not an IP address")
    host, colon, port = s.onion_listen.rpartition(":")
    if s.onion_listen and not s.onion_listen.startswith("unix:") and not (
        colon and host and port.isdigit() and 0 < int(port) < 65536
    ):
        problems.append(
            f"onion_listen: {s.onion_listen!r} needs the form host:port (or unix:/path, "
            "or empty for no onion listener)"
        )
    return problems
