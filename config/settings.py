"""Settings: defaults, then an optional TOML file, then ``SEALBOX_*`` environment variables.

Everything is validated at start-up and every bad value is reported at once, each with
one readable line, so an operator fixes a configuration in one go and never sees a
traceback for a typo.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

# The limits the settings are checked against live with the checks (config.settings_checks).
from config.settings_checks import (
    LEGAL_MAX_ACKNOWLEDGE_DAYS,
    LEGAL_MAX_FEEDBACK_MONTHS,
    MIB,
    MIN_ABANDONED_RETENTION_DAYS,
    problems_of,
)
from crypto import KdfParams

__all__ = ["LEGAL_MAX_ACKNOWLEDGE_DAYS", "LEGAL_MAX_FEEDBACK_MONTHS", "MIB",
           "MIN_ABANDONED_RETENTION_DAYS", "ConfigError", "Settings", "load_settings"]


class ConfigError(Exception):
    """One or more settings are invalid; ``problems`` lists them, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Settings:
    instance_path: Path = Path("instance")
    database_url: str = ""  # empty: SQLite file in the instance folder
    ratelimit_storage_uri: str = "memory://"
    attachment_storage: str = "filesystem"  # or "database"
    organisation_name: str = "Example Organisation"
    onion_address: str = ""
    public_url: str = ""
    # Where the intake's "Quick exit" leads: an ordinary site that says nothing about
    # reporting (intake base.html; with JavaScript also the Esc key).
    quick_exit_url: str = "https://www.wikipedia.org/"
    # The intake's second gunicorn listener, where nginx's onion server (and only it)
    # sends Tor traffic: requests accepted there are onion requests (config/clients.py).
    onion_listen: str = "127.0.0.1:8088"
    # Proxies whose X-Sealbox-Client header (the client's address, for rate limits) is
    # believed. The shipped nginx runs on the same host.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    # Competent authorities for external reports (EU 2019/1937 Art. 9(1)(g)), shown on the
    # landing page: each "Name | URL or contact". A TOML list, or in the environment
    # entries separated by ";" (names often contain commas).
    external_authorities: tuple[str, ...] = ()
    # The same list as the reporters of another language read it, per language code
    # (a TOML table of lists; in the environment, JSON): a language not given reads the
    # list above. E.g. external_authorities_in.fr = ["Agence ... | https://..."].
    external_authorities_in: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Names of the organisation's sites, units or projects that would point at the writer
    # of a report: the review page marks them in the reporter's text
    # (cases.reporting.identifying). And the country whose national phone format to
    # recognise besides international numbers (ISO 3166 code; "" for international only).
    identifying_names: tuple[str, ...] = ()
    phone_region: str = ""
    # Argon2id cost for receipts (89-bit secrets: interactive cost is plenty) and for
    # caseworker passphrases (human-chosen: a higher memory cost).
    receipt_kdf_opslimit: int = 2
    receipt_kdf_memlimit_mib: int = 64
    passphrase_kdf_opslimit: int = 3
    passphrase_kdf_memlimit_mib: int = 128
    argon2_memory_budget_mib: int = 512
    acknowledge_within_days: int = 7
    feedback_within_months: int = 3
    retention_days_after_close: int = 60
    # Open cases with no activity this long are flagged to their holders and the
    # administrators (0: never); with the second set, `sealbox purge` deletes an open case
    # quiet that long, once it was flagged at least ABANDONED_NOTICE_DAYS before (0: never;
    # else at least a year). Legal holds are kept (cases.casework.ageing).
    quiet_case_days: int = 90
    abandoned_case_retention_days: int = 0
    max_report_chars: int = 50_000
    max_files_per_submission: int = 10
    max_file_bytes: int = 500 * MIB
    max_request_bytes: int = 1024 * MIB
    # A body slower than this on average, once the grace period has passed, is answered
    # 408 (config/requestbody.py): a trickling client cannot hold a worker thread for
    # hours. A gap with no byte at all is ended sooner by the servers' read timeout
    # (SEALBOX_*_READ_TIMEOUT in deploy/gunicorn.*.conf.py).
    min_body_bytes_per_second: int = 1024
    body_rate_grace_seconds: int = 60
    # Attachment ciphertext with no database row and untouched this long is removed by the
    # purge: every living request renews its files every minute (cases/attachments/blobs.py).
    orphan_grace_minutes: int = 15
    # Where the Noto fonts of a case's PDF are (cases.casework.case_pdf; Debian's
    # fonts-noto-core and fonts-noto-cjk put them here).
    pdf_fonts_dir: str = "/usr/share/fonts"
    # Mail notices to staff (config/mail.py, cases/notifications): off while smtp_host is
    # empty. smtp_security: "starttls" (port 587), "tls" (465) or "none" (a local relay).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    mail_from: str = "sealbox@localhost"
    # The back office's address, for the link in each notice (e.g. https://cases.example.org).
    caseworker_url: str = ""
    # Notices about what a reporter did are sent in batches, at most this often, so the
    # mail's time does not tell the mail provider when the reporter acted.
    reporter_notice_batch_minutes: int = 60
    # A daily digest goes out at the first drain after this hour (UTC).
    notice_digest_hour: int = 8
    # Holders are told this many days before an acknowledgement or feedback deadline,
    # and again once it has passed.
    acknowledge_reminder_days: int = 2
    feedback_reminder_days: int = 14
    reporter_idle_minutes: int = 30
    caseworker_idle_minutes: int = 30
    caseworker_absolute_hours: int = 12
    submissions_per_hour_per_client: int = 10
    lookups_per_hour_per_client: int = 20
    submissions_per_minute_global: int = 60
    lookups_per_minute_global: int = 120
    login_attempts_before_lockout: int = 5
    lockout_minutes: int = 15
    languages: tuple[str, ...] = ("en", "ar", "es", "fr", "ru", "zh")
    caseworker_languages: tuple[str, ...] = ("en", "ar", "es", "fr", "ru", "zh")
    default_language: str = "en"
    auto_acknowledge: bool = False
    # With JavaScript (and WebAssembly) on, the report, its files and all of follow-up are
    # sealed and opened in the reporter's browser, so the server never sees a word, a file
    # or the receipt (intake/static/sealing/). Without JavaScript the server seals, as ever.
    seal_in_browser: bool = True
    # The report form's "who must not see this" question lists caseworkers by display
    # name; off, it lists teams instead (an administrator's choice: names can be sensitive).
    show_caseworker_names: bool = True
    # Custodians and administrators sign in with a security key (WebAuthn), not a TOTP
    # code, once they have one (cases.accounts.security_keys; an admin's policy).
    require_security_keys: bool = False
    require_https_cookies: bool = False
    # Filled from the instance file written by ``sealbox init``; never from defaults.
    secret_key: bytes = field(default=b"", repr=False)
    instance_salt: bytes = field(default=b"", repr=False)
    server_key: bytes = field(default=b"", repr=False)
    recovery_public_key: bytes = b""
    # The instance's key-signing key (crypto.certify_key): the public half in the instance
    # file both apps read; the secret in CASEWORKER_SECRETS_FILE, which the intake does
    # not need and the shipped intake unit cannot read (deploy/systemd).
    key_signing_public: bytes = b""
    key_signing_secret: bytes = field(default=b"", repr=False)

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.instance_path / 'sealbox.db').resolve()}"

    @property
    def receipt_kdf(self) -> KdfParams:
        return KdfParams(self.receipt_kdf_opslimit, self.receipt_kdf_memlimit_mib * MIB)

    @property
    def passphrase_kdf(self) -> KdfParams:
        return KdfParams(self.passphrase_kdf_opslimit, self.passphrase_kdf_memlimit_mib * MIB)

    @property
    def blob_path(self) -> Path:
        return self.instance_path / "blobs"

    @property
    def instance_file(self) -> Path:
        return self.instance_path / INSTANCE_FILE


INSTANCE_FILE = "instance.toml"
CASEWORKER_SECRETS_FILE = "caseworker-secrets.toml"
_SECRET_FIELDS = ("secret_key", "instance_salt", "server_key", "recovery_public_key")
_OPTIONAL_SECRETS = ("key_signing_public", "key_signing_secret")
_ENV_PREFIX = "SEALBOX_"


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build validated settings. Raises ConfigError listing every problem found."""
    environ = os.environ if environ is None else environ
    problems: list[str] = []
    values: dict[str, Any] = {}
    if config_file is None and environ.get("SEALBOX_CONFIG"):
        config_file = Path(environ["SEALBOX_CONFIG"])
    if config_file is not None:
        values.update(_read_toml(config_file, problems))
    for f in fields(Settings):
        if f.name in _SECRET_FIELDS or f.name in _OPTIONAL_SECRETS:
            continue
        raw = environ.get(_ENV_PREFIX + f.name.upper())
        if raw is not None:
            values[f.name] = raw
    values.update(overrides)
    settings = _coerce(values, problems)
    settings = _with_instance_secrets(settings, problems)
    problems += problems_of(settings)
    if problems:
        raise ConfigError(problems)
    return settings


def _read_toml(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        problems.append(f"config file {path} does not exist")
        return {}
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"config file {path} is not valid TOML: {exc}")
        return {}
    known = {f.name for f in fields(Settings)} - set(_SECRET_FIELDS) - set(_OPTIONAL_SECRETS)
    for key in sorted(set(data) - known):
        problems.append(f"{path}: unknown setting {key!r}")
    return {k: v for k, v in data.items() if k in known}


def _coerce(values: dict[str, Any], problems: list[str]) -> Settings:
    types = {f.name: f.type for f in fields(Settings)}
    clean: dict[str, Any] = {}
    for name, raw in values.items():
        kind = types.get(name)
        if name == "external_authorities" and isinstance(raw, str):
            raw = raw.split(";")
        try:
            clean[name] = _coerce_one(str(kind), raw)
        except (TypeError, ValueError):
            problems.append(f"{name}: {raw!r} is not a valid {_describe(str(kind))}")
    return replace(Settings(), **clean)


def _coerce_one(kind: str, raw: Any) -> Any:
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        lowered = str(raw).strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(raw)
    if kind == "int":
        if isinstance(raw, bool):
            raise TypeError(raw)
        return int(raw)
    if kind == "Path":
        return Path(str(raw))
    if kind.startswith("dict[str, tuple"):
        table = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(table, dict):
            raise TypeError(raw)
        return {str(lang): _coerce_one("tuple", items) for lang, items in table.items()}
    if kind.startswith("tuple"):
        items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
        return tuple(str(i).strip() for i in items if str(i).strip())
    if kind == "bytes":
        return bytes(raw) if isinstance(raw, bytes) else bytes.fromhex(str(raw))
    if not isinstance(raw, str):
        raise TypeError(raw)
    return raw


def _describe(kind: str) -> str:
    return {"int": "whole number", "bool": "true/false value", "Path": "path"}.get(kind, "value")


def _with_instance_secrets(settings: Settings, problems: list[str]) -> Settings:
    if settings.secret_key:  # given directly (tests)
        return settings
    path = settings.instance_file
    if not path.exists():
        problems.append(
            f"no instance at {settings.instance_path}: run `sealbox init` to create one"
        )
        return settings
    try:
        data = _read_secrets(path)
        # Written only where keys are made (the caseworker app, the CLI): optional.
        data |= _read_secrets(settings.instance_path / CASEWORKER_SECRETS_FILE, missing_ok=True)
        secrets: dict[str, Any] = {name: bytes.fromhex(data[name]) for name in _SECRET_FIELDS}
        secrets |= {n: bytes.fromhex(data[n]) for n in _OPTIONAL_SECRETS if n in data}
        return replace(settings, **secrets)
    except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError) as exc:
        problems.append(
            f"instance file {path} is damaged ({exc.__class__.__name__}): restore it from backup"
        )
        return settings


def _read_secrets(path: Path, *, missing_ok: bool = False) -> dict[str, Any]:
    if missing_ok and not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)
