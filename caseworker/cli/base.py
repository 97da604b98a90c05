"""``sealbox``: the operator's command line.

\b
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
    sealbox notify                send the mail notices that are due (content-free)
    sealbox report-failure UNIT   tell the administrators a backup or purge failed
    sealbox recovery check|grant|export|rotate|adopt   use the paper recovery key
    sealbox serve                 start intake and caseworker apps on this machine

Settings come from ``SEALBOX_*`` variables and the instance folder (``--instance`` or
SEALBOX_INSTANCE_PATH, default ./instance). A configuration problem prints one line per
problem and exits with status 2.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from config import (
    ConfigError,
    Settings,
    ensure_signing_key,
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


def settings_of(instance: Path) -> Settings:
    if (instance / "instance.toml").exists():
        ensure_signing_key(instance)  # instances made before keys were certified
    return load_settings(instance_path=instance)


def store_of(instance: Path, *, schema: bool = True) -> Any:
    from cases.health import check_database
    from cases.store import Store

    settings = settings_of(instance)
    check_database(settings, schema=schema)  # a ConfigError: one line, exit status 2
    return Store(settings)


@click.group(help=__doc__)
@click.version_option(package_name="sealbox")
def main() -> None:
    pass
