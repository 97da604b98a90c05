"""SQLite readers (cases.db.begin_reading): no write lock taken or waited for, the last
commit seen, and no write possible until the reading transaction ends. Real SQLite files
in WAL mode, real threads holding the lock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cases.db import begin_reading, make_engine, stop_reading


def _database(path: Path, **pool: int) -> Engine:
    made = make_engine(f"sqlite:///{path / 'db.sqlite'}", **pool)
    with Session(made) as setup:
        setup.execute(text("CREATE TABLE t (x INTEGER)"))
        setup.execute(text("INSERT INTO t VALUES (1)"))
        setup.commit()
    return made


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    # One pooled connection: the reader and the writer after it share it, so the test
    # sees that query_only is switched off again on the same DBAPI connection.
    made = _database(tmp_path, pool_size=1, max_overflow=0)
    yield made
    made.dispose()


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(work()), daemon=True)
    thread.start()
    return thread, out


def _values(session: Session) -> list[int]:
    return list(session.scalars(text("SELECT x FROM t ORDER BY x")))


def test_a_reader_neither_waits_for_a_writer_nor_sees_its_uncommitted_rows(
    tmp_path: Path,
) -> None:
    engine = _database(tmp_path)
    writer = Session(engine)
    writer.execute(text("INSERT INTO t VALUES (2)"))  # holds the write lock, uncommitted

    def read() -> list[int]:
        with Session(engine) as reader:
            begin_reading(reader)
            return _values(reader)

    def read_as_a_writer() -> list[int]:
        with Session(engine) as ordinary:
            return _values(ordinary)

    reading, seen = _in_thread(read)
    reading.join(timeout=10)
    assert not reading.is_alive(), "a reader waited for the write lock"
    assert seen == [[1]]
    # The control: an ordinary transaction does wait for the lock, until the writer ends.
    waiting, seen_after = _in_thread(read_as_a_writer)
    waiting.join(timeout=1)
    assert waiting.is_alive()
    writer.commit()
    waiting.join(timeout=10)
    assert seen_after == [[1, 2]]
    writer.close()
    engine.dispose()


def test_a_reader_cannot_write_until_it_stops_reading(engine: Engine) -> None:
    with Session(engine) as session:
        begin_reading(session)
        assert _values(session) == [1]
        with pytest.raises(OperationalError, match="readonly"):
            session.execute(text("INSERT INTO t VALUES (3)"))
        session.rollback()
        assert _values(session) == [1]  # the next transaction reads too
        with pytest.raises(OperationalError, match="readonly"):
            session.execute(text("INSERT INTO t VALUES (3)"))
        session.rollback()
        _values(session)
        stop_reading(session)  # ends the reader's transaction under way
        assert not session.in_transaction()
        session.execute(text("INSERT INTO t VALUES (3)"))  # the same pooled connection
        session.commit()
        assert _values(session) == [1, 3]


def test_stop_reading_leaves_an_ordinary_transaction_alone(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(text("INSERT INTO t VALUES (4)"))
        stop_reading(session)  # never a reader: its insert stays
        assert session.in_transaction()
        session.commit()
        assert _values(session) == [1, 4]


def test_begin_reading_leaves_a_transaction_under_way_alone(engine: Engine) -> None:
    with Session(engine) as session:
        session.execute(text("INSERT INTO t VALUES (5)"))
        begin_reading(session)  # from the next transaction: this one already writes
        session.execute(text("INSERT INTO t VALUES (6)"))
        session.commit()
        assert _values(session) == [1, 5, 6]
        with pytest.raises(OperationalError, match="readonly"):
            session.execute(text("INSERT INTO t VALUES (7)"))
