"""The PostgreSQL and Redis set-up, applied to the real servers.

PostgreSQL: setup.sql and grants.sql make an owner role that migrates and an app role
that can run Sealbox (submit, attachments in the database, purge, audit) but cannot
change the schema, make temporary tables, or rewrite the audit log.

Redis: a private redis-server started from deploy/redis/sealbox.conf, and one from the
compose file's command line, each with its ACL user: the rate limiter works through it
(every strategy flask-limiter offers), other commands and keys are refused, the default
user is off, and nothing is written to disk.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from cases.audit import verify_chain
from cases.health import check_services, redis_problems
from cases.models import BlobChunk, Case
from cases.reports import Submission, new_submission
from cases.retention import purge_case
from cases.store import Store
from config import Settings

# --- PostgreSQL -----------------------------------------------------------------------------


@dataclass
class PgInstall:
    db: str
    owner_url: str
    app_url: str


def _psql(tool, url: str, *args: str) -> None:  # type: ignore[no-untyped-def]
    parsed = make_url(url)
    env = {**os.environ, "PGPASSWORD": str(parsed.password or "")}
    cmd = [
        tool("psql"),
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        str(parsed.host),
        "-p",
        str(parsed.port or 5432),
        "-U",
        str(parsed.username),
        "-d",
        str(parsed.database),
        *args,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def pg_install(pg_url: str, tool, deploy_dir: Path) -> Iterator[PgInstall]:  # type: ignore[no-untyped-def]
    """setup.sql run by the superuser, with throw-away names."""
    suffix = secrets.token_hex(4)
    db, owner, app = f"sealbox_setup_{suffix}", f"sealbox_owner_{suffix}", f"sealbox_app_{suffix}"
    owner_pw, app_pw = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    _psql(
        tool,
        pg_url,
        "-v",
        f"db={db}",
        "-v",
        f"owner={owner}",
        "-v",
        f"app={app}",
        "-v",
        f"owner_password={owner_pw}",
        "-v",
        f"app_password={app_pw}",
        "-f",
        str(deploy_dir / "postgresql/setup.sql"),
    )
    base = make_url(pg_url).set(database=db)
    install = PgInstall(
        db,
        base.set(username=owner, password=owner_pw).render_as_string(hide_password=False),
        base.set(username=app, password=app_pw).render_as_string(hide_password=False),
    )
    try:
        yield install
    finally:
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{app}"'))
        admin.dispose()


def test_setup_sql_refuses_to_run_without_passwords(pg_url: str, tool, deploy_dir: Path) -> None:  # type: ignore[no-untyped-def]
    parsed = make_url(pg_url)
    result = subprocess.run(
        [
            tool("psql"),
            "-X",
            "-q",
            "-h",
            str(parsed.host),
            "-U",
            str(parsed.username),
            "-d",
            str(parsed.database),
            "-v",
            "db=sealbox_never_made",
            "-f",
            str(deploy_dir / "postgresql/setup.sql"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "owner_password" in result.stdout + result.stderr


def test_app_role_runs_sealbox_but_cannot_change_schema_or_history(
    pg_install: PgInstall, settings: Settings, tool, deploy_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    app_settings = replace(settings, database_url=pg_install.app_url, attachment_storage="database")
    # The app role cannot create the schema: a clear refusal, not half a schema.
    app_store = Store(app_settings)
    with pytest.raises(ProgrammingError, match="permission denied"):
        app_store.migrate()
    owner = Store(replace(app_settings, database_url=pg_install.owner_url))
    owner.migrate()
    owner.dispose()
    _psql(
        tool,
        pg_install.owner_url,
        "-v",
        f"app={make_url(pg_install.app_url).username}",
        "-f",
        str(deploy_dir / "postgresql/grants.sql"),
    )
    check_services(app_settings, app_store)

    # Day-to-day work as the app role: a report with a file kept in the database, then purge.
    data = os.urandom(3 * 1024 * 1024 + 5)
    with new_submission(app_store) as draft:
        upload = draft.new_attachment()
        for i in range(0, len(data), 65536):
            upload.write(data[i : i + 65536])
        draft.attach(upload, "ledger.xlsx", "application/octet-stream")
        draft.finalize(Submission(report={"text": "the minister took a bribe"}))
    with app_store.transaction() as session:
        assert session.query(BlobChunk).count() >= 3
        case = session.query(Case).one()
        purge_case(session, app_store.blobs, case)
    with app_store.transaction() as session:
        assert session.query(Case).count() == 0 and session.query(BlobChunk).count() == 0
        report = verify_chain(session)
        assert report.problems == [] and report.checked >= 1

    # The nightly backup (sealbox-backup.service) runs as the app role too: pg_dump works.
    backup = subprocess.run(
        [
            sys.executable,
            str(deploy_dir / "backup/sealbox_backup.py"),
            "backup",
            "--out",
            str(app_settings.instance_path.parent / "backups"),
        ],
        env={
            **os.environ,
            "SEALBOX_INSTANCE_PATH": str(app_settings.instance_path),
            "SEALBOX_DATABASE_URL": pg_install.app_url,
            "SEALBOX_ATTACHMENT_STORAGE": "database",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert backup.returncode == 0, backup.stderr

    refused = [
        "UPDATE audit_log SET action = 'nothing happened'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE alembic_version SET version_num = 'x'",
        "DELETE FROM alembic_version",
        "CREATE TABLE sneaky (x int)",
        "CREATE TEMP TABLE sneaky (x int)",
        "ALTER TABLE cases ADD COLUMN sneaky int",
        "DROP TABLE blob_chunks",
        "TRUNCATE cases CASCADE",
    ]
    for statement in refused:
        with (
            pytest.raises(ProgrammingError, match=r"permission denied|must be owner"),
            app_store.engine.begin() as conn,
        ):
            conn.execute(text(statement))
    app_store.dispose()


# --- Redis ----------------------------------------------------------------------------------


@dataclass
class PrivateRedis:
    url: str
    folder: Path


Start = tuple[list[str], dict[str, str]]  # redis argv, extra environment


def _redis_conf_from_file(
    server: str, deploy_dir: Path, port: int, password: str, folder: Path
) -> Start:
    text = (deploy_dir / "redis/sealbox.conf").read_text()
    digest = hashlib.sha256(password.encode()).hexdigest()
    assert "#" + "0" * 64 in text
    text = text.replace("#" + "0" * 64, "#" + digest).replace("port 6379", f"port {port}")
    text += f'\ndir {folder}\nlogfile ""\ndaemonize no\n'
    conf = folder / "redis.conf"
    conf.write_text(text)
    return [server, str(conf)], {}


def _redis_from_compose(
    server: str, deploy_dir: Path, port: int, password: str, folder: Path
) -> Start:
    """The compose service's own start: its entrypoint script on the shipped file, the
    password only in the script's environment, then the service's command."""
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    service = yaml.safe_load((deploy_dir / "compose.yaml").read_text())["services"]["redis"]
    assert service["entrypoint"] == ["/sealbox/compose-start.sh"]
    assert service["environment"]["SEALBOX_REDIS_PASSWORD"].startswith("${SEALBOX_REDIS_PASSWORD")
    assert not any("PASSWORD" in str(arg) for arg in service["command"])
    env = {
        "SEALBOX_REDIS_CONF": str(deploy_dir / "redis/sealbox.conf"),
        "SEALBOX_REDIS_RUN_DIR": str(folder / "run"),
        "SEALBOX_REDIS_PASSWORD": password,
        "PATH": f"{Path(server).parent}:{os.environ.get('PATH', '')}",
    }
    script = str(deploy_dir / "redis/compose-start.sh")
    local = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--logfile", ""]
    return ["sh", script, *service["command"], *local], env


@pytest.fixture(params=["redis/sealbox.conf", "compose.yaml"])
def private_redis(
    request: pytest.FixtureRequest, tool, deploy_dir: Path, tmp_path: Path, free_port, launcher
) -> Iterator[PrivateRedis]:  # type: ignore[no-untyped-def]
    server = tool("redis-server")
    port, password = free_port(), secrets.token_urlsafe(24)
    folder = tmp_path / "redis"
    folder.mkdir()
    make = _redis_conf_from_file if request.param.startswith("redis/") else _redis_from_compose
    argv, env = make(server, deploy_dir, port, password, folder)
    started = launcher.start("redis", argv, env={**os.environ, **env}, port=port)
    # Nobody on the host reads the password off the server process: not in its arguments
    # (what `ps` shows every user), not in its environment.
    proc = Path(f"/proc/{started.proc.pid}")
    assert password.encode() not in (proc / "cmdline").read_bytes()
    assert password.encode() not in (proc / "environ").read_bytes()
    yield PrivateRedis(f"redis://sealbox:{password}@127.0.0.1:{port}/0", folder)
    launcher.stop(started)
    # Nothing to persist, nothing persisted: no RDB or AOF file after a clean shutdown.
    assert not [
        p for p in folder.rglob("*") if p.suffix in (".rdb", ".aof") or "appendonly" in p.name
    ]


def test_redis_acl_user_runs_the_rate_limiter_and_nothing_else(private_redis: PrivateRedis) -> None:
    import redis
    from limits import parse, storage, strategies

    assert redis_problems(private_redis.url) == []
    wrong = private_redis.url.replace("sealbox:", "sealbox:x", 1)
    assert "refused the credentials" in redis_problems(wrong)[0]
    anonymous = "redis://" + private_redis.url.split("@", 1)[1]
    assert "requires" in redis_problems(anonymous)[0]

    store = storage.storage_from_string(private_redis.url)
    limit = parse("3/minute")
    for strategy in (
        strategies.FixedWindowRateLimiter,
        strategies.MovingWindowRateLimiter,
        strategies.SlidingWindowCounterRateLimiter,
    ):
        limiter = strategy(store)
        hits = [limiter.hit(limit, "sealbox-intake", strategy.__name__) for _ in range(5)]
        assert hits == [True, True, True, False, False], strategy.__name__
        assert limiter.get_window_stats(limit, "sealbox-intake", strategy.__name__).remaining == 0

    client = redis.Redis.from_url(private_redis.url)
    for command in (
        ("SET", "not-a-limit", "1"),
        ("KEYS", "*"),
        ("FLUSHALL",),
        ("CONFIG", "GET", "dir"),
        ("SAVE",),
        ("SCRIPT", "FLUSH"),
        ("ACL", "LIST"),
        ("MONITOR",),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.execute_command(*command)
    client.close()


def test_flask_limiter_through_the_acl_user(private_redis: PrivateRedis) -> None:
    from flask import Flask
    from flask_limiter import Limiter

    app = Flask(__name__)
    app.config.update(
        RATELIMIT_STORAGE_URI=private_redis.url,
        RATELIMIT_KEY_PREFIX="sealbox-intake",
        RATELIMIT_STRATEGY="fixed-window",
    )
    limiter = Limiter(key_func=lambda: "all", app=app)

    @app.post("/send")
    @limiter.limit("2/minute")
    def send() -> str:
        return "ok"

    client = app.test_client()
    assert [client.post("/send").status_code for _ in range(3)] == [200, 200, 429]


def test_memory_storage_is_per_process() -> None:
    """What docs/OPERATIONS.md says: memory:// counts in each process separately."""
    code = (
        "from limits import parse, storage, strategies\n"
        "s = strategies.FixedWindowRateLimiter(storage.storage_from_string('memory://'))\n"
        "print(sum(s.hit(parse('3/minute'), 'k') for _ in range(5)))\n"
    )
    import sys

    counts = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert counts == ["3", "3"]  # two processes, each with its own three
