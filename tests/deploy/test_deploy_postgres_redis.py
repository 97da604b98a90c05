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
from secapp import FlaskHTTP, Reporter
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from cases.health import check_services, redis_problems
from cases.models import BlobChunk, Case
from cases.records.audit import verify_chain
from cases.records.retention import purge_case
from cases.reporting.submission import Submission, new_submission
from cases.store import Store
from config import Settings

# --- PostgreSQL -----------------------------------------------------------------------------


@dataclass
class PgInstall:
    db: str
    owner_url: str
    app_url: str
    intake_url: str


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
    intake = f"sealbox_intake_{suffix}"
    owner_pw, app_pw = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    intake_pw = secrets.token_urlsafe(16)
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
        "-v",
        f"intake={intake}",
        "-v",
        f"intake_password={intake_pw}",
        "-f",
        str(deploy_dir / "postgresql/setup.sql"),
    )
    base = make_url(pg_url).set(database=db)
    install = PgInstall(
        db,
        base.set(username=owner, password=owner_pw).render_as_string(hide_password=False),
        base.set(username=app, password=app_pw).render_as_string(hide_password=False),
        base.set(username=intake, password=intake_pw).render_as_string(hide_password=False),
    )
    try:
        yield install
    finally:
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{app}"'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{intake}"'))
        admin.dispose()


def _grants(tool, install: PgInstall, deploy_dir: Path) -> None:  # type: ignore[no-untyped-def]
    _psql(
        tool,
        install.owner_url,
        "-v",
        f"app={make_url(install.app_url).username}",
        "-v",
        f"intake={make_url(install.intake_url).username}",
        "-f",
        str(deploy_dir / "postgresql/grants.sql"),
    )


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
    _grants(tool, pg_install, deploy_dir)
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


def test_intake_role_runs_the_intake_and_nothing_else(
    pg_install: PgInstall, settings: Settings, tool, deploy_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    """The reporters' app on its own least-privilege role: a whole journey works; what a
    compromised intake process would try (re-key an account, read hashes, sessions or the
    audit log, change policy or a case's workflow, delete content) is refused."""
    from cases.accounts.enrolment import create_caseworker
    from cases.models import Caseworker, IdentityRecord, Message
    from intake import create_app

    base = replace(settings, attachment_storage="database")
    owner = Store(replace(base, database_url=pg_install.owner_url))
    owner.migrate()
    owner.dispose()
    _grants(tool, pg_install, deploy_dir)
    app_store = Store(replace(base, database_url=pg_install.app_url))
    with app_store.transaction() as db:
        create_caseworker(db, app_store.settings, "alice", "correct horse battery",
                          display_name="Alice Archer")
        create_caseworker(db, app_store.settings, "bob", "correct horse battery",
                          display_name="Bob Baker", custodian=True)
    intake_settings = replace(base, database_url=pg_install.intake_url)
    intake_store = Store(intake_settings)
    check_services(intake_settings, intake_store)
    http = FlaskHTTP(create_app(intake_settings, intake_store).test_client())
    reporter = Reporter(http)
    receipt = reporter.submit(
        {"description": "Bribes at the depot.", "identity_name": "Jo"},
        files=[("ledger.csv", b"a,b\n1,2\n")],
    )
    assert reporter.login(receipt).status == 303
    assert reporter.message("More: the invoices.", files=[("inv.pdf", b"%PDF-1.4")]).status == 303
    page = reporter.http.get("/en/followup/retaliation")
    assert reporter.post_page_form(page, "/followup/retaliation",
                                   {"what": "I was moved."}).status == 303
    # An oral report's handed-over receipt is taken over on the intake's role
    # (cases.reporting.claim):
    # it re-points the case's look-up and adds a key, and deletes or changes none.
    import datetime as dt

    from cases.casework.oral import record_oral_report

    with app_store.transaction() as db:
        recorder = db.scalars(select(Caseworker).where(Caseworker.username == "alice")).one()
        db.expunge(recorder)
    with app_store.transaction() as db:
        _, handed = record_oral_report(
            db, app_store.settings, app_store.policy(db), recorder, "Minutes of the call.",
            medium="phone", held_on=dt.date(2026, 5, 1),
        )
    caller = Reporter(FlaskHTTP(create_app(intake_settings, intake_store).test_client()))
    assert caller.login(handed).status == 200  # "your own receipt"
    with app_store.transaction() as db:  # the back office's role reads what was stored
        assert db.query(Case).count() == 3 and db.query(Message).count() >= 4
        assert db.query(Case).filter(Case.receipt_claimed_on.is_not(None)).count() == 1
        assert db.query(IdentityRecord).count() == 1
        alice_id = db.scalar(select(Caseworker.id).where(Caseworker.username == "alice"))
    refused = [
        f"UPDATE caseworkers SET public_key = '\\\\x00' WHERE id = {alice_id}",  # noqa: S608
        "SELECT password_hash FROM caseworkers",
        "SELECT wrapped_private_key, totp_secret_enc FROM caseworkers",
        "SELECT username FROM caseworkers",
        "SELECT * FROM caseworker_sessions",
        "SELECT * FROM recovery_codes",
        "SELECT * FROM identity_requests",
        "SELECT * FROM audit_log",
        "INSERT INTO audit_log (id, at, action, detail, prev_hash, entry_hash)"
        " VALUES (999, now(), 'x', '{}', '\\x00', '\\x00')",
        "UPDATE audit_head SET last_id = 0",
        "INSERT INTO instance_policy (key, value) VALUES ('auto_acknowledge', 'true')",
        "UPDATE categories SET active = false",
        "UPDATE cases SET status = 'CLOSED'",
        "UPDATE cases SET legal_hold_reason = NULL",
        "DELETE FROM cases",
        "DELETE FROM messages",
        "UPDATE messages SET ciphertext = '\\x00'",
        "DELETE FROM wrapped_keys",
        "UPDATE wrapped_keys SET wrapped = '\\x00'",
        "TRUNCATE blob_chunks",
        "DELETE FROM sent_submissions",  # forgetting a sent form would allow a duplicate
        "SELECT notice_email FROM caseworkers",  # staff addresses stay with the back office
        "SELECT * FROM notice_outbox",
    ]
    for statement in refused:
        with (
            pytest.raises(ProgrammingError, match="permission denied"),
            intake_store.engine.begin() as conn,
        ):
            conn.execute(text(statement))
    intake_store.dispose()
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
