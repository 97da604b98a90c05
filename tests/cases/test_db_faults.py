"""cases.db.is_database_fault: which errors are the database's fault (a 503 page), and
which are not (a 500: a bug)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError, PendingRollbackError, ProgrammingError

from cases.db import is_database_fault

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")


def test_a_lost_connection_is_a_fault() -> None:
    assert is_database_fault(OperationalError("SELECT 1", {}, psycopg.OperationalError("gone")))
    assert is_database_fault(PendingRollbackError("roll back first"))
    # Pipeline mode: the statement's result never came, the connection died meanwhile.
    lost = psycopg.ProgrammingError("no result available")
    assert is_database_fault(ProgrammingError("SELECT 1", {}, lost))


def test_a_bug_or_a_constraint_is_not_a_fault() -> None:
    syntax = psycopg.ProgrammingError("syntax error at or near SELEC")
    assert not is_database_fault(ProgrammingError("SELEC 1", {}, syntax))
    duplicate = psycopg.IntegrityError("duplicate key")
    assert not is_database_fault(IntegrityError("INSERT", {}, duplicate))
    assert not is_database_fault(ValueError("nothing to do with the database"))
    assert not is_database_fault(None)
