"""Driving the real apps for the security suite: the same reporter journey over Flask's
test client or over real HTTP to a server process, and starting/stopping those processes.

Not a test module; ``conftest.py`` puts this folder on ``sys.path``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Protocol

import netkit
import pageforms
from netkit import free_port
from pageforms import csrf_of

ROOT = Path(__file__).resolve().parents[2]
RECEIPT_RE = re.compile(r'data-receipt="([0-9 ]+)"')
FAST_KDF_ENV = {
    "SEALBOX_RECEIPT_KDF_OPSLIMIT": "1",
    "SEALBOX_RECEIPT_KDF_MEMLIMIT_MIB": "8",
    "SEALBOX_PASSPHRASE_KDF_OPSLIMIT": "1",
    "SEALBOX_PASSPHRASE_KDF_MEMLIMIT_MIB": "8",
}


@dataclass
class Resp:
    status: int
    text: str
    headers: Mapping[str, str]
    body: bytes = b""

    @property
    def receipt(self) -> str | None:
        m = RECEIPT_RE.search(self.text)
        return m.group(1) if m else None


Files = list[tuple[str, bytes]]
Data = list[tuple[str, str]]


class HTTP(Protocol):
    def get(self, path: str) -> Resp: ...
    def post(self, path: str, data: Data, files: Files | None = None,
             multipart: bool = False) -> Resp: ...


class FlaskHTTP:
    """Flask's test client, with fixed extra headers on every request."""

    def __init__(self, client: Any, headers: Mapping[str, str] | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.client = client
        self.headers = dict(headers or {})
        self.environ = dict(environ or {})

    def _resp(self, r: Any) -> Resp:
        data = r.get_data()
        return Resp(r.status_code, data.decode("utf-8", "replace"), dict(r.headers), data)

    def get(self, path: str) -> Resp:
        return self._resp(self.client.get(path, headers=self.headers,
                                          environ_base=self.environ))

    def post(self, path: str, data: Data, files: Files | None = None,
             multipart: bool = False) -> Resp:
        from werkzeug.datastructures import MultiDict

        md: MultiDict[str, Any] = MultiDict(data)
        for name, content in files or []:
            md.add("files", (BytesIO(content), name))
        kwargs: dict[str, Any] = {}
        if files or multipart:
            kwargs["content_type"] = "multipart/form-data"
        return self._resp(self.client.post(path, data=md, headers=self.headers,
                                           environ_base=self.environ, **kwargs))


class RealHTTP:
    """A requests session against a server process (cookies kept like a browser)."""

    def __init__(self, base: str, headers: Mapping[str, str] | None = None) -> None:
        import requests

        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(headers or {})

    def _resp(self, r: Any) -> Resp:
        return Resp(r.status_code, r.text, dict(r.headers), r.content)

    def get(self, path: str) -> Resp:
        return self._resp(self.session.get(self.base + path, allow_redirects=False, timeout=120))

    def post(self, path: str, data: Data, files: Files | None = None,
             multipart: bool = False) -> Resp:
        upload = [("files", (name, content, "application/octet-stream"))
                  for name, content in files or []]
        if multipart and not upload:
            upload = [("files", ("", b"", "application/octet-stream"))]
        r = self.session.post(self.base + path, data=data, files=upload or None,
                              allow_redirects=False, timeout=300)
        return self._resp(r)


def forms_of(html: str) -> list[dict[str, Any]]:
    """Each form with its hidden fields (what a browser sends untouched) and the names of
    all its controls."""
    return [_hidden(form) for form in pageforms.forms_of(html)]


def form_to(html: str, action_part: str) -> dict[str, Any]:
    return _hidden(pageforms.form_to(html, action_part))


def _hidden(form: dict[str, Any]) -> dict[str, Any]:
    form["fields"] = pageforms.values(form, "hidden")
    form["names"] = pageforms.names(form)
    return form


@dataclass
class Reporter:
    """A reporter with JavaScript off: real pages, real forms, real CSRF tokens."""

    http: HTTP
    lang: str = "en"
    last: Resp | None = field(default=None, repr=False)

    def url(self, path: str) -> str:
        return f"/{self.lang}/{path.lstrip('/')}"

    def review(self, fields: Mapping[str, str]) -> Resp:
        page = self.http.get(self.url("report/"))
        assert page.status == 200, page.text[:2000]
        data = [("csrf_token", csrf_of(page.text)), ("website", "")]
        data += [(k, v) for k, v in fields.items()]
        self.last = self.http.post(self.url("report/review"), data)
        return self.last

    def send(self, review: Resp, files: Files | None = None,
             override: Mapping[str, str] | None = None) -> Resp:
        assert review.status == 200, review.text[:3000]
        form = form_to(review.text, "/report/send")
        data = [(k, v) for k, v in form["fields"] if k not in (override or {})]
        data += list((override or {}).items())
        self.last = self.http.post(form["action"], data, files, multipart=True)
        return self.last

    def submit(self, fields: Mapping[str, str], files: Files | None = None) -> str:
        r = self.send(self.review(fields), files)
        assert r.status == 200 and r.receipt, f"{r.status}: {r.text[:3000]}"
        return r.receipt

    def login(self, receipt: str) -> Resp:
        page = self.http.get(self.url("followup/"))
        self.last = self.http.post(self.url("followup/"),
                                   [("csrf_token", csrf_of(page.text)), ("receipt", receipt)])
        return self.last

    def case_page(self) -> Resp:
        return self.http.get(self.url("followup/case"))

    def message(self, text: str, files: Files | None = None, ref: str = "main") -> Resp:
        page = self.case_page()
        assert page.status == 200, page.text[:2000]
        form = form_to(page.text, f"/case/{ref}/message")
        data = [(k, v) for k, v in form["fields"]] + [(f"{ref}-text", text)]
        self.last = self.http.post(form["action"], data, files, multipart=True)
        return self.last

    def post_page_form(self, page: Resp, action_part: str, values: Mapping[str, str],
                       files: Files | None = None) -> Resp:
        form = form_to(page.text, action_part)
        data = [(k, v) for k, v in form["fields"] if k not in values] + list(values.items())
        multipart = form["enctype"] == "multipart/form-data"
        self.last = self.http.post(form["action"], data, files, multipart=multipart)
        return self.last


# -- server processes ---------------------------------------------------------------------


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """netkit.wait_for_port, failing the test (not erroring it) when the server never listens."""
    try:
        netkit.wait_for_port(port, proc, timeout)
    except (RuntimeError, TimeoutError) as exc:
        raise AssertionError(f"server on {port}: {exc}") from None


@dataclass
class Server:
    """A server process (python -m intake, or gunicorn); output goes to files to scan."""

    argv: list[str]
    env: dict[str, str]
    log_dir: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Server:
        self.starts += 1
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = (self.log_dir / f"stdout-{self.starts}.log").open("wb")
        err = (self.log_dir / f"stderr-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=err,
                                     start_new_session=True)
        out.close()
        err.close()
        wait_for_port(self.port, self.proc, timeout)
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up code runs."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))


def server_env(settings: Any, tmpdir: Path, **extra: str) -> dict[str, str]:
    """The environment for a server on the test's instance and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALBOX_")}
    env.update(FAST_KDF_ENV)
    env.update(
        SEALBOX_INSTANCE_PATH=str(settings.instance_path),
        SEALBOX_DATABASE_URL=settings.sqlalchemy_url,
        SEALBOX_ATTACHMENT_STORAGE=settings.attachment_storage,
        SEALBOX_RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        TMPDIR=str(tmpdir), TEMP=str(tmpdir), TMP=str(tmpdir), SQLITE_TMPDIR=str(tmpdir),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def intake_server(settings: Any, tmpdir: Path, log_dir: Path, **extra: str) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "intake", "--host", "127.0.0.1", "--port", str(port)]
    return Server(argv, server_env(settings, tmpdir, **extra), log_dir, port)


# -- caseworker sign-in -------------------------------------------------------------------

CW_PASSPHRASE = "correct horse battery staple"


def cw_csrf(client: Any, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="(?:[a-z_]+-)?csrf_token"[^>]*value="([^"]+)"', html)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def signed_in_caseworker(store: Any, app: Any, username: str = "alice",
                         **roles: bool) -> tuple[Any, int]:
    """A new enrolled account signed in with passphrase and a real TOTP code."""
    import pyotp

    from cases.accounts.enrolment import create_caseworker
    from cases.accounts.twofactor import TOTP_PERIOD, new_totp_secret, seal_totp_secret

    secret = new_totp_secret()
    with store.transaction() as db:
        account = create_caseworker(db, store.settings, username, CW_PASSPHRASE, **roles)
        account.totp_secret_enc = seal_totp_secret(store.settings.server_key, account.id, secret)
        account_id = int(account.id)
    client = app.test_client()
    r = client.post("/login", data={"username": username, "passphrase": CW_PASSPHRASE,
                                    "csrf_token": cw_csrf(client, "/login")})
    assert r.status_code == 302, r.get_data(as_text=True)[:1000]
    code = pyotp.TOTP(secret).generate_otp(int(time.time()) // TOTP_PERIOD)
    token = cw_csrf(client, "/login/code")
    r = client.post("/login/code", data={"code": code, "csrf_token": token})
    assert r.status_code == 302 and r.location == "/", r.get_data(as_text=True)[:1000]
    return client, account_id


def gunicorn_server(settings: Any, tmpdir: Path, log_dir: Path, workers: int = 2,
                    **extra: str) -> Server:
    """The intake under gunicorn with the shipped configuration (deploy/)."""
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    argv = [str(gunicorn), "--config", str(ROOT / "deploy" / "gunicorn.intake.conf.py"),
            "--workers", str(workers), "intake:create_app()"]
    listeners = {"SEALBOX_INTAKE_BIND": f"127.0.0.1:{port}",
                 "SEALBOX_ONION_LISTEN": f"127.0.0.1:{free_port()}"}  # its own, never 8088
    env = server_env(settings, tmpdir, SEALBOX_WORKER_TMP_DIR=str(tmpdir),
                     **{**listeners, **extra})
    return Server(argv, env, log_dir, port)


def raw_request(port: int, request: bytes, timeout: float = 30) -> bytes:
    """Send bytes as they are; return whatever comes back until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        chunks = []
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
        except (ConnectionResetError, TimeoutError):
            pass
    return b"".join(chunks)
