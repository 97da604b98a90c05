"""``sealbox serve``: both apps on this machine, on the embedded default (SQLite)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, inspect, select

from caseworker.cli.base import config_errors, instance_option, main, settings_of
from caseworker.cli.instance import print_recovery_key
from config import (
    init_instance,
)


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
    from caseworker.cli.notify import MAIL_HELP
    from config.mail import mail_configured

    instance = instance.resolve()
    if not (instance / "instance.toml").exists():
        print_recovery_key(init_instance(instance))
        click.echo(f"A new instance was created in {instance}.\n")
    settings = settings_of(instance)
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
    if mail_configured(settings):  # the embedded default's notice drainer
        commands["notices"] = [sys.executable, "-c", "from caseworker.cli import main; main()",
                               "notify", "--every", "60", "--instance", str(instance)]
    else:
        click.echo(MAIL_HELP + "\n")
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
