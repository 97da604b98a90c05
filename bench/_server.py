"""Real servers for the benchmarks: a throwaway instance, gunicorn with the shipped
deploy/ configs, the worker processes' memory from /proc, and a bare Flask baseline.

Every server here is started with the same gunicorn config file as production (only the
bind address and, where a benchmark says so, the worker count are overridden on the
command line), so the baseline and the app run on exactly the same server setup.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
INTAKE_CONF = ROOT / "deploy" / "gunicorn.intake.conf.py"
CASEWORKER_CONF = ROOT / "deploy" / "gunicorn.caseworker.conf.py"
BARE_APP = "bench._bare_app:app"
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (peak resident set) / VmPeak of a process, in bytes."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "VmPeak"):
                out[key] = int(value.split()[0]) * 1024
    return out


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
    except OSError:
        return []
    return [int(p) for p in text.split()]


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User + system CPU time of one process (from /proc/<pid>/stat); with ``reaped``,
    that of its children that have ended and been waited for instead."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    first = 13 if reaped else 11  # cutime, cstime; else utime, stime
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Instance:
    """A throwaway Sealbox instance folder and the environment that points at it."""

    path: Path
    env: dict[str, str] = field(default_factory=dict)

    def settings(self):  # type: ignore[no-untyped-def]
        from config import load_settings

        return load_settings(environ=self.env)


@contextlib.contextmanager
def instance(
    *, database: str = "sqlite", redis: bool = False, **settings: object
) -> Iterator[Instance]:
    """A new instance (``sealbox init``), migrated, on SQLite or a PostgreSQL database of
    its own (created here, dropped on exit). ``settings`` become SEALBOX_* variables."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from cases.store import Store
    from config import init_instance

    with tempfile.TemporaryDirectory(prefix="sealbox-bench-") as tmp:
        path = Path(tmp) / "instance"
        init_instance(path)
        env = {"SEALBOX_INSTANCE_PATH": str(path)}
        env |= {f"SEALBOX_{k.upper()}": str(v) for k, v in settings.items()}
        admin = None
        name = f"sealbox_bench_{os.getpid()}"
        if database == "postgres":
            admin_url = os.environ.get("SEALBOX_BENCH_POSTGRES_URL", DEFAULT_PG_ADMIN_URL)
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(admin_url).set(database=name)
            env["SEALBOX_DATABASE_URL"] = url.render_as_string(hide_password=False)
        if redis:
            env["SEALBOX_RATELIMIT_STORAGE_URI"] = os.environ.get(
                "SEALBOX_BENCH_REDIS_URL", DEFAULT_REDIS_URL
            )
        made = Instance(path, env)
        store = Store(made.settings())
        store.migrate()
        store.dispose()
        try:
            yield made
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


class Server:
    """One gunicorn master with the given config and app; ``stop()`` ends it."""

    def __init__(
        self,
        app: str,
        config: Path,
        env: Mapping[str, str],
        *,
        workers: int | None = None,
        ready_path: str = "/",
        root: Path = ROOT,
    ) -> None:
        self.port = free_port()
        command = [GUNICORN, "--config", str(config), "--bind", f"127.0.0.1:{self.port}"]
        if workers is not None:
            command += ["--workers", str(workers)]
        command += ["--access-logfile", "/dev/null", app]
        path = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
        full_env = {**os.environ, **env, "PYTHONPATH": path}
        self.workers_wanted = workers
        # The server's log goes to a file (a pipe nobody reads would block the server).
        self.log = tempfile.TemporaryFile(prefix="sealbox-bench-gunicorn-")  # noqa: SIM115
        self.process = subprocess.Popen(
            command, cwd=root, env=full_env, stdout=subprocess.DEVNULL, stderr=self.log
        )
        self._wait_ready(ready_path)

    def _wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"gunicorn exited ({code}):\n{self.log_tail()}")
            wanted = self.workers_wanted or 1
            if len(self.workers()) >= wanted:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                    conn.request("GET", path)
                    conn.getresponse().read()
                    conn.close()
                    return
                except OSError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not become ready")

    def log_tail(self, size: int = 3000) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-size:]

    def workers(self) -> list[int]:
        return children(self.process.pid)

    def memory(self) -> list[dict[str, int]]:
        """/proc status of each worker (peak and current resident memory)."""
        return [proc_status(pid) for pid in self.workers()]

    def worker_cpu_seconds(self) -> float:
        """The CPU the workers used so far, those gunicorn replaced (``max_requests``)
        included: the master waits for each, which adds its time to the master's."""
        live = 0.0
        for pid in self.workers():
            with contextlib.suppress(OSError):  # ended meanwhile: counted as reaped
                live += cpu_seconds(pid)
        return live + cpu_seconds(self.process.pid, reaped=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def close_log(self) -> None:
        self.log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, exc_type: object, *_exc: object) -> None:
        self.stop()
        if exc_type is not None:
            print(f"server log (gunicorn on port {self.port}):\n{self.log_tail()}", file=sys.stderr)
        self.close_log()
