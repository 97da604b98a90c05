"""The Store: one object that both apps hold, bundling settings, the database and the
blob store, with explicit transactions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from cases.accounts.enrolment import certify_existing_keys
from cases.attachments.blobs import BlobStore, make_blob_store
from cases.casework.identity import reseal_server_key_reasons
from cases.casework.workflow import Deadlines
from cases.db import begin_reading, is_sqlite, make_engine, make_session_factory
from cases.keyring import Trust
from cases.models import InstancePolicy
from cases.records.audit import ensure_head
from cases.records.integrity import backfill_content
from config import Settings
from config.settings import (
    LEGAL_MAX_ACKNOWLEDGE_DAYS,
    LEGAL_MAX_FEEDBACK_MONTHS,
    MIN_ABANDONED_RETENTION_DAYS,
)
from crypto import set_argon2_memory_budget

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Policy:
    """Administrator-set policy: file settings, overridden by the instance_policy table."""

    acknowledge_within_days: int
    feedback_within_months: int
    retention_days_after_close: int
    quiet_case_days: int
    abandoned_case_retention_days: int
    auto_acknowledge: bool
    show_caseworker_names: bool
    require_security_keys: bool

    @property
    def deadlines(self) -> Deadlines:
        return Deadlines(self.acknowledge_within_days, self.feedback_within_months)


POLICY_MAXIMA = {
    "acknowledge_within_days": LEGAL_MAX_ACKNOWLEDGE_DAYS,
    "feedback_within_months": LEGAL_MAX_FEEDBACK_MONTHS,
}
POLICY_KEYS = (
    "acknowledge_within_days",
    "feedback_within_months",
    "retention_days_after_close",
    "quiet_case_days",
    "abandoned_case_retention_days",
    "auto_acknowledge",
    "show_caseworker_names",
    "require_security_keys",
)


class Store:
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.sqlalchemy_url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self.blobs: BlobStore = make_blob_store(settings.attachment_storage, settings.blob_path)
        set_argon2_memory_budget(settings.argon2_memory_budget_mib)

    def reader(self) -> Session:
        """A session whose transactions only read (``cases.db.begin_reading``): on SQLite
        no write lock, for as long as a download or an export streams."""
        session = self.sessions()
        begin_reading(session)
        return session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any exception."""
        with self.sessions.begin() as session:
            yield session

    def schema_revisions(self) -> set[str]:
        """The Alembic revisions the database is at (empty: no Sealbox tables yet)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision and set up the audit head."""
        run_migrations(self.engine, self.settings.sqlalchemy_url, "upgrade", "head")
        with self.transaction() as session:
            ensure_head(session)
            s = self.settings
            certify_existing_keys(session, s)
            reseal_server_key_reasons(session, s.server_key, Trust.of(s))
            backfill_content(session, self.blobs)

    def policy(self, session: Session) -> Policy:
        values: dict[str, int | bool] = {key: getattr(self.settings, key) for key in POLICY_KEYS}
        for row in session.scalars(select(InstancePolicy)):
            if row.key in values:
                is_flag = isinstance(values[row.key], bool)
                values[row.key] = row.value == "true" if is_flag else int(row.value)
        return Policy(**values)  # type: ignore[arg-type]

    def set_policy(self, session: Session, key: str, value: int | bool) -> None:
        """Store one policy value; a deadline longer than the Directive allows, or a
        negative one, is refused (ValueError) whoever asks."""
        if key not in POLICY_KEYS:
            raise KeyError(key)
        ceiling = POLICY_MAXIMA.get(key)
        if ceiling is not None and not 1 <= int(value) <= ceiling:
            raise ValueError(f"{key}: between 1 and {ceiling} (EU Directive 2019/1937)")
        if key in ("retention_days_after_close", "quiet_case_days") and int(value) < 0:
            raise ValueError(f"{key}: 0 or more")
        abandoned = key == "abandoned_case_retention_days"
        if abandoned and 0 < int(value) < MIN_ABANDONED_RETENTION_DAYS:
            raise ValueError(f"{key}: 0 (never) or at least {MIN_ABANDONED_RETENTION_DAYS}")
        text = ("true" if value else "false") if isinstance(value, bool) else str(int(value))
        session.merge(InstancePolicy(key=key, value=text))

    def scrub_freed_data(self, attempts: int = 20) -> bool:
        """Make rows deleted by committed transactions (a purge) leave the database's files.

        SQLite overwrites a deleted row's bytes (``secure_delete``) only when its page is
        written to the main file; until a checkpoint the write-ahead log still holds the
        pages as they were, wrapped keys and ciphertext included. A TRUNCATE checkpoint
        copies every page into the main file and empties the log. It needs a moment
        without readers, so it is retried briefly; False says it could not finish (the
        next purge tries again). On PostgreSQL, deleted rows stay in the table files until
        the nightly CLUSTER (cases.records.maintenance) writes new ones (docs/THREAT_MODEL.md)."""
        if not is_sqlite(self.engine):
            # The app role may not VACUUM (only the tables' owner may); the owner's nightly
            # `sealbox db maintain` rewrites the tables a purge deletes from
            # (cases.records.maintenance).
            return True
        with self.engine.connect() as connection:
            # The driver's own connection: pysqlite's transaction handling is off
            # (cases.db), so this runs outside any transaction, as a checkpoint must.
            raw: Any = connection.connection.driver_connection
            for _ in range(attempts):
                busy, _log, _copied = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    return True
                time.sleep(0.05)
        return False

    def dispose(self) -> None:
        self.engine.dispose()


def run_migrations(engine: Engine, url: str, verb: str, target: str) -> None:
    """``alembic upgrade|downgrade target`` in one transaction on ``engine``.

    On SQLite a revision that rebuilds a table (create the new one, copy, drop the old,
    rename) must run with foreign keys off: dropping a table that others reference would
    otherwise delete their rows (ON DELETE CASCADE). They are checked before the commit
    and switched on again after it; the pragma has no effect inside a transaction, so it
    goes through the driver's own connection, outside one."""
    with engine.connect() as connection:
        raw: Any = connection.connection.driver_connection if is_sqlite(engine) else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                cfg = alembic_config(url)
                cfg.attributes["connection"] = connection
                getattr(command, verb)(cfg, target)
                check = "PRAGMA foreign_key_check"
                if raw is not None and connection.exec_driver_sql(check).first():
                    raise RuntimeError("the migration left rows whose references do not resolve")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg
