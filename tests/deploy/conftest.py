"""Fixtures for the deployment tests: the deploy/ folder, external tools (skipped with a
one-line reason when absent), free ports, a throw-away TLS certificate, and a launcher for
real server processes (gunicorn, nginx, tor, redis-server) that are always stopped by
their own process id when the test ends."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# The security suite's journey helpers (secapp: a reporter with JavaScript off).
sys.path.insert(0, str(ROOT / "tests" / "security"))
sys.path.insert(0, str(ROOT / "tests" / "deploy"))  # nginxkit, appkit

import appkit  # noqa: E402
from netkit import free_port as _free_port  # noqa: E402
from netkit import wait_for_port  # noqa: E402


@pytest.fixture(scope="session")
def deploy_dir() -> Path:
    return DEPLOY


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


def _tool(name: str) -> str:
    path = shutil.which(name) or next(
        (str(p) for d in ("/usr/sbin", "/sbin") if (p := Path(d) / name).exists()), None
    )
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return path


@pytest.fixture(scope="session")
def tool() -> Callable[[str], str]:
    """``tool("nginx")`` -> its path, or skip the test saying it is not installed."""
    return _tool


@pytest.fixture
def free_port() -> Callable[[], int]:
    return _free_port


@dataclass
class Started:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Launcher:
    tmp: Path
    started: list[Started] = field(default_factory=list)

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        port: int | None = None,
        timeout: float = 30,
    ) -> Started:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
            )
        started = Started(name, proc, log)
        self.started.append(started)
        if port is not None:
            try:
                wait_for_port(port, proc, timeout)
            except (RuntimeError, TimeoutError) as exc:
                raise AssertionError(f"{name}: {exc}\n{started.output()[-3000:]}") from None
        return started

    def wait(self, port: int, timeout: float = 30) -> None:
        wait_for_port(port, None, timeout)

    def stop(self, started: Started, sig: int = signal.SIGTERM) -> None:
        """Stop one process (and its children: gunicorn workers) by its own ids."""
        if started.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(started.proc.pid, sig)  # its own session, made by start()
            try:
                started.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(started.proc.pid, signal.SIGKILL)
                started.proc.wait(timeout=10)

    def stop_all(self) -> None:
        for started in reversed(self.started):
            self.stop(started)


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    runner = Launcher(tmp_path)
    try:
        yield runner
    finally:
        runner.stop_all()


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost (test only): (certificate, key) paths."""
    from nginxkit import make_certificate

    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def venv_bin() -> Path:
    """The folder of this interpreter's scripts (gunicorn, sealbox)."""
    return Path(sys.executable).parent


@pytest.fixture
def deployment(
    pg_url: str,
    redis_url: str,
    tmp_path: Path,
    launcher: Launcher,
    deploy_dir: Path,
    venv_bin: Path,
    repo_root: Path,
) -> Iterator[appkit.Deployment]:
    """Both apps' gunicorn on a PostgreSQL database of their own, Redis rate limits and
    attachments in the database (every host sees every file)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(pg_url).database + "_gunicorn"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    # A Redis database of its own (1..15), so other test runs' counters never mix in.
    redis = re.sub(r"/\d*$", f"/{1 + secrets.randbelow(15)}", redis_url)
    try:
        yield from appkit.deployed(
            database_url,
            tmp_path / "instance",
            launcher,
            _free_port,
            deploy_dir,
            venv_bin,
            repo_root,
            SEALBOX_RATELIMIT_STORAGE_URI=redis,
            SEALBOX_ATTACHMENT_STORAGE="database",
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_deployment(
    tmp_path: Path, launcher: Launcher, deploy_dir: Path, venv_bin: Path, repo_root: Path
) -> Iterator[appkit.Deployment]:
    """Both apps' gunicorn on the embedded default (SQLite, files in the instance)."""
    database_url = f"sqlite:///{tmp_path / 'sealbox.db'}"
    yield from appkit.deployed(
        database_url, tmp_path / "instance", launcher, _free_port, deploy_dir, venv_bin, repo_root
    )
