"""Alembic: empty -> head -> base on both databases, and the models match the migrations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from cases.db import Base, make_engine
from cases.models import ALL_NOTICE_EVENTS
from cases.store import run_migrations


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[str, Engine]]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
        engine = make_engine(url)
        yield url, engine
        engine.dispose()
        return
    base_url: str = request.getfixturevalue("pg_url")
    name = make_url(base_url).database + "_mig"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _run(engine: Engine, url: str, verb: str, target: str) -> None:
    run_migrations(engine, url, verb, target)


def test_upgrade_matches_models_and_downgrades_clean(empty_db: tuple[str, Engine]) -> None:
    url, engine = empty_db
    _run(engine, url, "upgrade", "head")
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == [], f"models and migrations differ: {diff}"
    _run(engine, url, "downgrade", "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}


def _caseworker_row(conn, username: str, display_name: str) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        text(
            "INSERT INTO caseworkers (username, display_name, password_hash, public_key,"
            " wrapped_private_key, totp_last_counter, is_caseworker, is_custodian, is_admin,"
            " active, failed_logins, created_at, language) VALUES (:u, :d, 'h', :k, :w, 0,"
            " true, false, false, true, 0, '2026-01-01 00:00:00', 'en')"
        ),
        {"u": username, "d": display_name, "k": bytes(32), "w": bytes(97)},
    )


def test_0002_clears_display_names_copied_from_usernames_and_back(
    empty_db: tuple[str, Engine],
) -> None:
    url, engine = empty_db
    _run(engine, url, "upgrade", "0001")
    with engine.begin() as conn:
        _caseworker_row(conn, "alice", "alice")  # copied by the old create_caseworker
        _caseworker_row(conn, "bob", "Bob Martin")
    _run(engine, url, "upgrade", "0002")
    with engine.connect() as conn:
        query = "SELECT username, display_name || '|' || team FROM caseworkers"
        rows = dict(conn.execute(text(query)).all())
    assert rows == {"alice": "|", "bob": "Bob Martin|"}
    _run(engine, url, "downgrade", "0001")
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT username, display_name FROM caseworkers")).all())
    assert rows == {"alice": "alice", "bob": "Bob Martin"}


TABLES_SQL = "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
UNORDERED_TABLES = {
    "cases", "messages", "wrapped_keys", "attachments", "identity_records", "blob_chunks",
    "case_links", "case_labels", "case_exclusions", "reporter_sessions", "sent_submissions",
    "notice_outbox", "staged_files",
}


def _case_row(conn, case_id: str, lookup: bytes | None, linked: str | None = None) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        text(
            "INSERT INTO cases (id, lookup_hash, reporter_public_key, channel, status, priority,"
            " received_on, acknowledge_due_on, feedback_due_on, linked_case_id,"
            " unread_by_caseworkers) VALUES (:id, :l, :k, 'web', 'RECEIVED', 0, '2026-01-01',"
            " '2026-01-08', '2026-04-08', :linked, true)"
        ),
        {"id": case_id, "l": lookup, "k": b"k" * 32, "linked": linked},
    )


def test_0003_numbers_messages_per_case_and_back(empty_db: tuple[str, Engine]) -> None:
    url, engine = empty_db
    _run(engine, url, "upgrade", "0002")
    with engine.begin() as conn:
        _case_row(conn, "aaaaaaaaaaaaaaaa", b"L" * 32)
        _case_row(conn, "bbbbbbbbbbbbbbbb", b"M" * 32)
        _case_row(conn, "cccccccccccccccc", None, linked="aaaaaaaaaaaaaaaa")  # retaliation
        # Messages of two cases, interleaved under the old global counter.
        order = ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"] * 2 + ["aaaaaaaaaaaaaaaa"]
        for n, case_id in enumerate(order):
            conn.execute(
                text("INSERT INTO messages (id, case_id, kind, ciphertext, created_on) VALUES"
                     " (:id, :c, 'REPORT', :x, '2026-01-01')"),
                {"id": f"m{n:015d}", "c": case_id, "x": bytes([n])},
            )
        for n in range(3):
            conn.execute(
                text("INSERT INTO wrapped_keys (case_id, purpose, record_id, holder_kind,"
                     " wrapped) VALUES ('aaaaaaaaaaaaaaaa', 'THREAD', :r, 'RECOVERY', :w)"),
                {"r": str(n), "w": bytes([n])},
            )
        conn.execute(
            text("INSERT INTO reporter_sessions (id_hash, case_id, wrapped_key, created_on)"
                 " VALUES (:h, 'aaaaaaaaaaaaaaaa', :w, '2026-01-01')"),
            {"h": b"h" * 32, "w": b"w"},
        )
    _run(engine, url, "upgrade", "0003")
    with engine.connect() as conn:
        positions = conn.execute(
            text("SELECT case_id, position, id FROM messages ORDER BY case_id, position")
        ).all()
        key_ids = [r[0] for r in conn.execute(text("SELECT id FROM wrapped_keys"))]
        lookups = dict(conn.execute(text("SELECT id, lookup_hash FROM cases")).all())
        last = dict(conn.execute(text("SELECT id, last_position FROM cases")).all())
        sessions = conn.execute(text("SELECT id_hash, wrapped_key FROM reporter_sessions")).all()
    assert [(c[0], p, i) for c, p, i in positions] == [
        ("a", 1, "m000000000000000"), ("a", 2, "m000000000000002"), ("a", 3, "m000000000000004"),
        ("b", 1, "m000000000000001"), ("b", 2, "m000000000000003"),
    ]
    assert len(set(key_ids)) == 3 and all(len(k) == 16 and int(k, 16) >= 0 for k in key_ids)
    assert lookups["cccccccccccccccc"] == lookups["aaaaaaaaaaaaaaaa"] == b"L" * 32
    assert last == {"aaaaaaaaaaaaaaaa": 3, "bbbbbbbbbbbbbbbb": 2, "cccccccccccccccc": 0}
    assert sessions == [(b"h" * 32, b"w")]
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            ddl = dict(conn.execute(text(TABLES_SQL)).all())
        made_later = {"sent_submissions", "notice_outbox", "staged_files"}  # by 0009, 0010, 0017
        assert all("WITHOUT ROWID" in ddl[t] for t in UNORDERED_TABLES - made_later), ddl
        assert "WITHOUT ROWID" not in ddl["audit_log"]
    _run(engine, url, "downgrade", "0002")
    with engine.connect() as conn:
        seqs = conn.execute(text("SELECT id, seq FROM messages ORDER BY seq")).all()
        lookups = dict(conn.execute(text("SELECT id, lookup_hash FROM cases")).all())
        keys = conn.execute(text("SELECT count(*) FROM wrapped_keys")).scalar()
    assert [i for i, _ in seqs][:3] == ["m000000000000000", "m000000000000002", "m000000000000004"]
    assert lookups["cccccccccccccccc"] is None and lookups["aaaaaaaaaaaaaaaa"] == b"L" * 32
    assert keys == 3


def test_head_tables_a_reporter_writes_have_no_rowid_on_sqlite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'h.db'}"
    engine = make_engine(url)
    _run(engine, url, "upgrade", "head")
    with engine.connect() as conn:
        ddl = dict(conn.execute(text(TABLES_SQL)).all())
    engine.dispose()
    assert {t for t, sql in ddl.items() if "WITHOUT ROWID" in sql} == UNORDERED_TABLES


def test_0004_down_keeps_the_tables_without_rowid(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'd.db'}"
    engine = make_engine(url)
    _run(engine, url, "upgrade", "head")
    _run(engine, url, "downgrade", "0003")
    with engine.connect() as conn:
        ddl = dict(conn.execute(text(TABLES_SQL)).all())
    engine.dispose()
    made_later = {"sent_submissions", "notice_outbox", "staged_files"}  # by 0009, 0010, 0017
    assert {t for t, sql in ddl.items() if "WITHOUT ROWID" in sql} == UNORDERED_TABLES - made_later


def test_0007_takes_each_closer_from_the_audit_log_and_back(empty_db: tuple[str, Engine]) -> None:
    url, engine = empty_db
    _run(engine, url, "upgrade", "0006")
    with engine.begin() as conn:
        _caseworker_row(conn, "alice", "")
        _caseworker_row(conn, "bob", "")
        ids = dict(conn.execute(text("SELECT username, id FROM caseworkers")).all())
        _case_row(conn, "closedcase000001", b"a" * 32)
        _case_row(conn, "opencase00000001", b"b" * 32)
        conn.execute(text("UPDATE cases SET status = 'CLOSED' WHERE id = 'closedcase000001'"))
        entries = [  # bob closed it, alice reopened, bob closed it again: bob is the closer
            (ids["bob"], "closedcase000001", '{"from": "concluded", "to": "closed"}'),
            (ids["alice"], "closedcase000001", '{"from": "closed", "to": "investigating"}'),
            (ids["alice"], "closedcase000001", '{"from": "investigating", "to": "concluded"}'),
            (ids["bob"], "closedcase000001", '{"from": "concluded", "to": "closed"}'),
            (ids["alice"], "opencase00000001", '{"from": "received", "to": "acknowledged"}'),
        ]
        for actor, case_id, detail in entries:
            conn.execute(
                text(
                    "INSERT INTO audit_log (at, actor_id, action, case_id, detail, prev_hash,"
                    " entry_hash) VALUES ('2026-01-01 00:00:00', :a, 'case.status_changed', :c,"
                    " :d, :h, :h)"
                ),
                {"a": actor, "c": case_id, "d": detail, "h": bytes(32)},
            )
    _run(engine, url, "upgrade", "0007")
    with engine.connect() as conn:
        rows = dict(conn.execute(text(
            "SELECT id, coalesce(closed_by_id, 0) || '|' || coalesce(closure_reviewed_by_id, 0)"
            " FROM cases"
        )).all())
    # Bob closed it; nobody has reviewed that closure, so retention keeps the case.
    assert rows == {"closedcase000001": f"{ids['bob']}|0", "opencase00000001": "0|0"}
    _run(engine, url, "downgrade", "0006")
    columns = {c["name"] for c in inspect(engine).get_columns("cases")}
    assert not columns & {"closed_by_id", "closure_reviewed_by_id"}
    assert not set(inspect(engine).get_table_names()) & {"holder_removals", "notices"}


def test_0009_makes_the_sent_submissions_table_and_back(empty_db: tuple[str, Engine]) -> None:
    url, engine = empty_db
    _run(engine, url, "upgrade", "0009")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sent_submissions (digest, sent_on) VALUES (:d, :on)"),
                     {"d": b"d" * 32, "on": dt.date(2026, 12, 1)})
        assert conn.execute(text("SELECT count(*) FROM sent_submissions")).scalar() == 1
    _run(engine, url, "downgrade", "0008")
    with engine.connect() as conn:
        assert "sent_submissions" not in inspect(conn).get_table_names()


def test_0008_marks_minutes_agreed_with_a_handed_receipt_and_back(
    empty_db: tuple[str, Engine],
) -> None:
    url, engine = empty_db
    _run(engine, url, "upgrade", "0007")
    with engine.begin() as conn:
        _case_row(conn, "oralagreed000001", b"a" * 32)
        _case_row(conn, "oralopen00000001", b"b" * 32)
        conn.execute(text("UPDATE cases SET channel = 'oral'"))
        conn.execute(text(
            "UPDATE cases SET minutes_agreed_on = '2026-02-01' WHERE id = 'oralagreed000001'"
        ))
    _run(engine, url, "upgrade", "0008")
    with engine.begin() as conn:
        how = dict(conn.execute(text("SELECT id, minutes_agreed_how FROM cases")).all())
        assert how == {"oralagreed000001": "handed_receipt", "oralopen00000001": None}
        # A receipt taken over under 0008: two reporter keys until the purge sweeps one.
        for key_id in ("handedkey0000001", "ownkey0000000001"):
            conn.execute(text(
                "INSERT INTO wrapped_keys (id, case_id, purpose, record_id, holder_kind,"
                " wrapped) VALUES (:k, 'oralopen00000001', 'THREAD', '', 'REPORTER', :w)"
            ), {"k": key_id, "w": b"w" * 80})
        conn.execute(text(
            "UPDATE cases SET reporter_key_id = 'ownkey0000000001' WHERE id = 'oralopen00000001'"
        ))
    _run(engine, url, "downgrade", "0007")
    with engine.connect() as conn:
        keys = conn.execute(text("SELECT id FROM wrapped_keys")).scalars().all()
    assert keys == ["ownkey0000000001"]  # earlier versions expect one reporter key
    columns = {c["name"] for c in inspect(engine).get_columns("cases")}
    assert not columns & {"minutes_agreed_how", "reporter_key_id", "receipt_claimed_on"}


def test_0011_switches_the_new_notice_events_on_and_back(empty_db: tuple[str, Engine]) -> None:
    url, engine = empty_db
    _run(engine, url, "upgrade", "0010")
    with engine.begin() as conn:
        _caseworker_row(conn, "alice", "")
        _caseworker_row(conn, "bob", "")
        conn.execute(text("UPDATE caseworkers SET notice_events = 'new_report'"
                          " WHERE username = 'bob'"))
    _run(engine, url, "upgrade", "0011")
    query = text("SELECT username, notice_events FROM caseworkers")
    with engine.connect() as conn:
        rows = dict(conn.execute(query).all())
    new = "case_handed,case_removed,case_idle,recovery_used,maintenance_failed,cases_unheld"
    assert rows["bob"] == f"new_report,{new}"
    assert set(rows["alice"].split(",")) == set(ALL_NOTICE_EVENTS.split(","))
    _run(engine, url, "downgrade", "0010")
    with engine.connect() as conn:
        rows = dict(conn.execute(query).all())
    assert rows["bob"] == "new_report"
    assert not set(rows["alice"].split(",")) & set(new.split(","))


def test_0013_counts_earlier_forms_saved_and_keeps_the_table_without_rowid(
    empty_db: tuple[str, Engine],
) -> None:
    url, engine = empty_db
    _run(engine, url, "upgrade", "0012")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sent_submissions (digest, sent_on) VALUES (:d, :on)"),
                     {"d": b"o" * 32, "on": dt.date(2026, 12, 1)})
    _run(engine, url, "upgrade", "0013")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sent_submissions (digest, sent_on) VALUES (:d, :on)"),
                     {"d": b"n" * 32, "on": dt.date(2026, 12, 1)})
        rows = dict(conn.execute(text("SELECT digest, receipt_saved FROM sent_submissions")).all())
        if engine.dialect.name == "sqlite":
            ddl = conn.execute(text(
                "SELECT sql FROM sqlite_master WHERE name = 'sent_submissions'")).scalar()
            assert "WITHOUT ROWID" in ddl
    assert {bytes(k): bool(v) for k, v in rows.items()} == {b"o" * 32: True, b"n" * 32: False}
    _run(engine, url, "downgrade", "0012")
    columns = {c["name"] for c in inspect(engine).get_columns("sent_submissions")}
    assert "receipt_saved" not in columns


def test_0017_makes_the_staged_files_table_and_back(empty_db: tuple[str, Engine]) -> None:
    url, engine = empty_db
    _run(engine, url, "upgrade", "0017")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO staged_files (id, token_hash, pieces, size, created_on)"
                          " VALUES ('aaaaaaaaaaaaaaaa', :t, 2, :size, :on)"),
                     {"t": b"t" * 32, "size": 600 * 2**20, "on": dt.date(2026, 12, 2)})
        assert conn.execute(text("SELECT size FROM staged_files")).scalar() == 600 * 2**20
    _run(engine, url, "downgrade", "0016")
    with engine.connect() as conn:
        assert "staged_files" not in inspect(conn).get_table_names()


def test_0018_marks_files_of_internal_notes_and_back(empty_db: tuple[str, Engine]) -> None:
    url, engine = empty_db
    _run(engine, url, "upgrade", "0018")
    with engine.begin() as conn:
        _case_row(conn, "c000000000000001", b"L" * 32)
        for attachment_id, internal in (("a000000000000001", False), ("a000000000000002", True)):
            conn.execute(text(
                "INSERT INTO attachments (id, case_id, meta_ciphertext, file_key_ciphertext,"
                " ciphertext_size, from_reporter, internal, created_on) VALUES (:id,"
                " 'c000000000000001', :m, :k, 1, false, :internal, '2026-12-02')"),
                {"id": attachment_id, "m": b"m", "k": b"k", "internal": internal})
            conn.execute(text("INSERT INTO blob_chunks (blob_id, position, data)"
                              " VALUES (:id, 0, :d)"), {"id": attachment_id, "d": b"x"})
    _run(engine, url, "downgrade", "0017")
    with engine.connect() as conn:
        assert "internal" not in {c["name"] for c in inspect(conn).get_columns("attachments")}
        assert conn.execute(text("SELECT id FROM attachments")).scalars().all() == [
            "a000000000000001"]  # an internal note's file would be listed to the reporter
        assert conn.execute(text("SELECT blob_id FROM blob_chunks")).scalars().all() == [
            "a000000000000001"]


def _case_indexes(engine: Engine) -> dict[str, list[str | None]]:
    return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("cases")
            if i["name"] is not None}


def test_0019_adds_the_scale_indexes_and_back(empty_db: tuple[str, Engine]) -> None:
    url, engine = empty_db
    _run(engine, url, "upgrade", "0018")
    with engine.begin() as conn:
        _case_row(conn, "c000000000000001", b"L" * 32)
    _run(engine, url, "upgrade", "0019")
    indexes = _case_indexes(engine)
    assert indexes["ix_cases_status_closed"] == ["status", "closed_on", "id"]
    assert indexes["ix_cases_linked_case_id"] == ["linked_case_id"]
    keys = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("wrapped_keys")}
    assert keys["ix_wrapped_keys_thread_holders"] == ["case_id", "caseworker_id"]
    linked = "SELECT id FROM cases WHERE linked_case_id = 'c000000000000001'"
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":  # the partial index serves the ON DELETE probe
            plan = " ".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + linked)))
            assert "ix_cases_linked_case_id" in plan
        else:
            definition = conn.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_cases_linked_case_id'"
            )).scalar_one()
            assert "WHERE (linked_case_id IS NOT NULL)" in definition
    _run(engine, url, "downgrade", "0018")
    assert not {"ix_cases_status_closed", "ix_cases_linked_case_id"} & set(_case_indexes(engine))
    assert "ix_wrapped_keys_thread_holders" not in {
        i["name"] for i in inspect(engine).get_indexes("wrapped_keys")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM cases")).scalars().all() == ["c000000000000001"]
