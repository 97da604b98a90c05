"""Engine and session set-up for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    PendingRollbackError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.util import immutabledict

log = logging.getLogger("sealbox.db")
# The execution option that marks a transaction that only reads (begin_reading).
READS_ONLY = "sealbox_reads_only"
_FAULTS = (OperationalError, InterfaceError, PendingRollbackError, PoolTimeout, DisconnectionError)


class Base(DeclarativeBase):
    pass


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _harden_sqlite(engine)
        return engine
    # Two planner settings for every connection (bench/bench_inbox.py, docs/PERFORMANCE.md):
    # * plan_cache_mode: psycopg prepares a statement after 5 runs, and PostgreSQL then
    #   switches to a generic plan, blind to the values; the inbox count, whose cost depends
    #   wholly on which caseworker and which statuses, went from 17 ms to 450 ms per page.
    # * no parallel workers: Sealbox's queries touch a few thousand rows at most; starting
    #   workers for them cost more than it saved (the inbox's default page 40 -> 25 ms).
    connect_args = {
        "options": "-c plan_cache_mode=force_custom_plan -c max_parallel_workers_per_gather=0"
    }
    connect_args |= kwargs.pop("connect_args", {})
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def _harden_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is off so that BEGIN IMMEDIATE below is ours.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros, so crypto-shredded wrapped keys and
        # purged ciphertext do not linger in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the write lock up front: two writers never read the same audit
        # head and then collide when upgrading a read lock (SQLite does not wait for an
        # upgrade: it fails). A reader (begin_reading) takes none and cannot write.
        reading = bool(conn.get_execution_options().get(READS_ONLY))
        if conn.info.get(READS_ONLY, False) != reading:  # the DBAPI connection's, pooled
            conn.exec_driver_sql(f"PRAGMA query_only={int(reading)}")
            conn.info[READS_ONLY] = reading
        conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def begin_reading(session: Session) -> None:
    """Make ``session``'s transactions readers', from its next one on.

    On SQLite every other transaction takes the write lock at its first statement, so a
    page that only reads (or a download streaming for minutes) would wait for every
    writer of the instance and make them all wait for it. A reader's transaction is a
    deferred one instead: it takes no lock, waits for none and sees the last commit
    (WAL), and its connection refuses any write until it ends (``PRAGMA query_only``), so
    code wrong about only reading fails at once, in every test, not now and then under
    load. PostgreSQL's readers never wait for writers: nothing changes there. A
    transaction already under way stays what it is."""
    session.execution_options = session.execution_options.union({READS_ONLY: True})


def stop_reading(session: Session) -> None:
    """Let ``session`` write again: a reader's transaction under way ends (it wrote
    nothing), and the next one is an ordinary one."""
    if not session.execution_options.get(READS_ONLY):
        return
    if session.in_transaction() and session.connection().get_execution_options().get(
        READS_ONLY
    ):
        session.rollback()
    session.execution_options = immutabledict(
        {k: v for k, v in session.execution_options.items() if k != READS_ONLY}
    )


@contextmanager
def reading_apart(session: Session) -> Iterator[None]:
    """The block reads in a reader's transaction of its own (``begin_reading``): what the
    session did before is committed first, and what it does after is an ordinary
    transaction again. For long reading in a request that then writes a line of audit
    (a content search, a PDF of a whole case): on SQLite, reports are stored meanwhile
    instead of waiting for the lock. Objects loaded before are expired by the end."""
    session.commit()
    begin_reading(session)
    try:
        yield
    finally:
        stop_reading(session)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def is_database_fault(exc: BaseException | None) -> bool:
    """The database failed, not the request: unreachable, restarted, the connection cut
    (``pg_terminate_backend``), the pool exhausted, or SQLite's lock not granted in time.
    Both apps answer such a fault with their 503 page: nothing was stored."""
    if isinstance(exc, _FAULTS):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    # psycopg in pipeline mode reports a statement whose connection died before its
    # result arrived as a ProgrammingError on the fetch (seen under pg_terminate_backend).
    lost_result = type(exc.orig).__name__ == "ProgrammingError" and (
        str(exc.orig) == "no result available"
    )
    return exc.connection_invalidated or lost_result


def release(session: Session, *, rollback: bool) -> None:
    """End a request's session, rolling back what was not committed. Runs after the
    response was chosen, so a database that went away meanwhile cannot turn it into a
    bare 500: an uncommitted transaction dies with its connection anyway."""
    try:
        if rollback:
            session.rollback()
    except SQLAlchemyError as exc:
        log.warning("rollback failed: %s", exc.__class__.__name__)
    finally:
        try:
            session.close()
        except SQLAlchemyError as exc:
            log.warning("closing the session failed: %s", exc.__class__.__name__)
