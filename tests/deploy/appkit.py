"""Both apps under real gunicorn with the shipped configurations, for the deployment tests:
an instance on PostgreSQL (the ``deployment`` fixture) or SQLite (``sqlite_deployment``),
a launcher of app processes, and a small browser that fills the apps' real forms."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pageforms

from cases.accounts.enrolment import create_caseworker
from cases.accounts.twofactor import TOTP_PERIOD, new_totp_secret, seal_totp_secret
from cases.store import Store
from config import init_instance, load_settings

FAST = {
    "SEALBOX_RECEIPT_KDF_OPSLIMIT": "1",
    "SEALBOX_RECEIPT_KDF_MEMLIMIT_MIB": "8",
    "SEALBOX_PASSPHRASE_KDF_OPSLIMIT": "1",
    "SEALBOX_PASSPHRASE_KDF_MEMLIMIT_MIB": "8",
}
PASSPHRASE = "correct horse battery staple"
RECEIPT_RE = re.compile(r'data-receipt="([0-9 ]+)"')
MDWE = """
import ctypes, os, sys
# PR_SET_MDWE(PR_MDWE_REFUSE_EXEC_GAIN): what systemd's MemoryDenyWriteExecute=yes does.
if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:
    sys.exit("PR_SET_MDWE unavailable")
os.execv(sys.argv[1], sys.argv[1:])
"""


def mdwe_available() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    result = subprocess.run(
        [sys.executable, "-c", MDWE, "/bin/true"], capture_output=True, check=False
    )
    return result.returncode == 0


# --- a small browser: forms with their hidden fields --------------------------------------------


def form_to(html: str, action_end: str, page_url: str = "") -> dict[str, Any]:
    """The form whose action ends so, with its fields as a name -> value dict (text areas
    empty: each test types its own text)."""
    for form in pageforms.forms_of(html):
        form["action"] = form["action"] or page_url  # no action: posts back to the page
        if form["action"].split("?")[0].endswith(action_end):
            fields: dict[str, str] = {}
            for c in form["controls"]:
                kind = pageforms.kind_of(c)
                if kind in ("hidden", "text", "password", "textarea"):
                    fields.setdefault(c["name"], "" if kind == "textarea" else c.get("value", ""))
            form["fields"] = fields
            return form
    raise AssertionError(f"no form posting to …{action_end}:\n{html[:3000]}")


@dataclass
class Client:
    base: str
    http: Any  # requests.Session

    def get(self, path: str) -> Any:
        return self.http.get(urljoin(self.base, path), timeout=60, allow_redirects=False)

    def submit(
        self,
        page: Any,
        action_end: str,
        values: dict[str, str],
        files: list[tuple[str, bytes]] | None = None,
        field_for: str = "",
    ) -> Any:
        form = form_to(page.text, action_end, page.url)
        data = dict(form["fields"])
        for key, value in values.items():
            # Forms may prefix their fields ("main-text"): match on the ending.
            name = next((n for n in data if n == key or n.endswith("-" + key)), key)
            data[name] = value
        upload = None
        if files:
            name = next((n for n in data if n.endswith("files")), field_for or "files")
            upload = [
                (name, (fname, content, "application/octet-stream")) for fname, content in files
            ]
        return self.http.post(
            urljoin(page.url, form["action"]),
            data=data,
            files=upload,
            timeout=120,
            allow_redirects=False,
        )


# --- the instance and the servers -----------------------------------------------------------------


@dataclass
class Deployment:
    env: dict[str, str]
    store: Store
    start: Callable[..., str]
    logs: dict[str, Any]  # base URL -> the launcher's record (process, log file)


def deployed(
    database_url: str,
    instance: Path,
    launcher: Any,
    free_port: Callable[[], int],
    deploy_dir: Path,
    venv_bin: Path,
    repo_root: Path,
    **settings: str,
) -> Iterator[Deployment]:
    """A migrated instance on ``database_url``; ``start(app)`` runs one gunicorn for it."""
    init_instance(instance)
    env = {
        **os.environ,
        **FAST,
        "SEALBOX_INSTANCE_PATH": str(instance),
        "SEALBOX_DATABASE_URL": database_url,
        "SEALBOX_LOOKUPS_PER_HOUR_PER_CLIENT": "1000",
        "SEALBOX_SUBMISSIONS_PER_HOUR_PER_CLIENT": "1000",
        "PYTHONUNBUFFERED": "1",
        **settings,
    }
    env.pop("SEALBOX_CONFIG", None)
    store = Store(load_settings(environ=env))
    store.migrate()
    mdwe = mdwe_available()
    logs: dict[str, Any] = {}

    def start(app: str, workers: int = 2, **overrides: str) -> str:
        port = free_port()
        argv = [
            str(venv_bin / "gunicorn"),
            "--config",
            str(deploy_dir / f"gunicorn.{app}.conf.py"),
            "--workers",
            str(workers),
            f"{app}:create_app()",
        ]
        if mdwe:
            argv = [sys.executable, "-c", MDWE, *argv]
        logs[f"http://127.0.0.1:{port}"] = launcher.start(
            f"{app}-{port}",
            argv,
            env={
                **env,
                f"SEALBOX_{app.upper()}_BIND": f"127.0.0.1:{port}",
                # Each intake its own onion listener (the default port would clash).
                "SEALBOX_ONION_LISTEN": f"127.0.0.1:{free_port()}",
                **overrides,
            },
            cwd=repo_root,
            port=port,
            timeout=60,
        )
        return f"http://127.0.0.1:{port}"

    try:
        yield Deployment(env, store, start, logs)
    finally:
        launcher.stop_all()
        store.dispose()


def new_caseworker(store: Store, username: str = "alice") -> tuple[str, str]:
    """A caseworker with a second factor: (username, TOTP secret)."""
    secret = new_totp_secret()
    with store.transaction() as db:
        account = create_caseworker(db, store.settings, username, PASSPHRASE, caseworker=True)
        account.totp_secret_enc = seal_totp_secret(store.settings.server_key, account.id, secret)
    return username, secret


def totp(secret: str) -> str:
    import pyotp

    return str(pyotp.TOTP(secret).generate_otp(int(time.time()) // TOTP_PERIOD))
