"""The inbox: only cases the caseworker holds a key to, filters, sorts, keyset pages,
plaintext metadata only, a fixed number of queries per page, and query plans at 100,000
cases that walk an index instead of sorting every case (the timings are measured in
bench/bench_inbox.py, never asserted here)."""

from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest
from sqlalchemy import event, update

from cases.models import (
    Case,
    CaseLabel,
    Category,
    CategoryMember,
    Status,
)

CASE_LINK = re.compile(r'href="/cases/([0-9a-f]{16})"')


def listed(page) -> list[str]:
    return CASE_LINK.findall(page.get_data(as_text=True))


def category(store, slug: str, *members: int) -> None:
    with store.transaction() as db:
        row = Category(slug=slug, name=slug.title())
        db.add(row)
        db.flush()
        for member in members:
            db.add(CategoryMember(category_id=row.id, caseworker_id=member))


def test_only_cases_with_a_key_are_listed(store, person, signed_in, h) -> None:
    alice, bob = person("alice"), person("bob")
    category(store, "fraud", alice.id)
    category(store, "hr", bob.id)
    fraud, _ = h.submit(store, "fraud report", category_slug="fraud")
    hr, _ = h.submit(store, "hr report", category_slug="hr")
    assert listed(signed_in(alice).get("/")) == [fraud]
    assert listed(signed_in(bob).get("/")) == [hr]


def test_inbox_content_is_only_what_its_reader_holds(store, person, signed_in, h) -> None:
    """The snippet is decrypted with the reader's own key: a holder sees it, an account
    that holds no key to the case (an administrator here) gets no inbox of cases at all."""
    alice = person("alice")
    h.submit(store, "PLAINTEXT-NEEDLE-41 the treasurer")
    page = signed_in(alice).get("/").get_data(as_text=True)
    assert "PLAINTEXT-NEEDLE-41 the treasurer" in page
    assert "Received" in page and "1 case matches" in page
    root = person("root", caseworker=False, admin=True)
    elsewhere = signed_in(root).get("/", follow_redirects=True).get_data(as_text=True)
    assert "PLAINTEXT-NEEDLE-41" not in elsewhere


def test_each_row_says_which_deadline_is_next_and_how_many_days_are_left(
    store, person, signed_in, h, today
) -> None:
    alice = person("alice")
    fresh, late, acked = (h.submit(store, f"report {i}")[0] for i in range(3))
    with store.transaction() as db:
        db.get_one(Case, fresh).next_due_on = today + dt.timedelta(days=5)
        db.get_one(Case, late).next_due_on = today - dt.timedelta(days=2)
        row = db.get_one(Case, acked)
        row.acknowledged_on, row.status = today, Status.ACKNOWLEDGED
        row.next_due_on = today + dt.timedelta(days=1)
    page = signed_in(alice).get("/").get_data(as_text=True)

    def cell(case_id: str) -> str:
        row = page[page.index(f"/cases/{case_id}"):]
        return re.sub(r"\s+", " ", row[: row.index("</tr>")])

    assert "Acknowledgement:" in cell(fresh) and "(in 5 days)" in cell(fresh)
    assert "Acknowledgement:" in cell(late) and "(2 days late)" in cell(late)
    assert "Feedback:" in cell(acked) and "(in 1 day)" in cell(acked)


def test_filters(store, person, signed_in, h, today) -> None:
    alice = person("alice")
    category(store, "fraud", alice.id)
    ids = [
        h.submit(store, f"report {i}", category_slug="fraud" if i == 0 else None)[0]
        for i in range(6)
    ]
    with store.transaction() as db:
        # 0: fraud category; 1: acknowledged and assigned to alice; 2: labelled; 3: overdue;
        # 4: due in three days; 5: closed and read.
        db.execute(update(Case).values(unread_by_caseworkers=False))
        db.get_one(Case, ids[0]).unread_by_caseworkers = True
        c1 = db.get_one(Case, ids[1])
        c1.status, c1.assignee_id = Status.ACKNOWLEDGED, alice.id
        db.add(CaseLabel(case_id=ids[2], label="bribery"))
        db.get_one(Case, ids[3]).next_due_on = today - dt.timedelta(days=1)
        db.get_one(Case, ids[4]).next_due_on = today + dt.timedelta(days=3)
        for i in (0, 1, 2, 5):
            db.get_one(Case, ids[i]).next_due_on = today + dt.timedelta(days=30)
        c5 = db.get_one(Case, ids[5])
        c5.status, c5.next_due_on = Status.CLOSED, None
    b = signed_in(alice)
    assert sorted(listed(b.get("/"))) == sorted(ids[:5])  # open cases by default
    assert sorted(listed(b.get("/?status=all"))) == sorted(ids)
    assert listed(b.get("/?status=closed")) == [ids[5]]
    assert listed(b.get("/?status=acknowledged")) == [ids[1]]
    with store.transaction() as db:
        fraud_id = db.query(Category.id).filter(Category.slug == "fraud").scalar()
    assert listed(b.get(f"/?category={fraud_id}")) == [ids[0]]
    assert listed(b.get("/?assignee=me")) == [ids[1]]
    assert ids[1] not in listed(b.get("/?assignee=none"))
    assert listed(b.get("/?label=bribery")) == [ids[2]]
    assert listed(b.get("/?overdue=y")) == [ids[3]]
    assert listed(b.get("/?due_soon=y")) == [ids[4]]
    assert listed(b.get("/?unread=y")) == [ids[0]]
    page = b.get("/").get_data(as_text=True)
    assert "overdue" in page and "due soon" in page and "bribery" in page


@pytest.mark.parametrize("sort", ["due", "received", "oldest", "priority", "activity"])
def test_keyset_pages_cover_every_case_once_in_order(
    store, app, person, signed_in, h, today, sort
) -> None:
    alice = person("alice")
    ids = [h.submit(store, f"r{i}")[0] for i in range(7)]
    with store.transaction() as db:
        for i, case_id in enumerate(ids):
            case = db.get_one(Case, case_id)
            case.received_on = today - dt.timedelta(days=i)
            case.priority = i % 3
            case.reporter_activity_on = None if i % 2 else today - dt.timedelta(days=i)
            case.next_due_on = None if i in (2, 5) else today + dt.timedelta(days=i % 4)
    app.config["SEALBOX_INBOX_PAGE_SIZE"] = 2
    b = signed_in(alice)
    seen: list[str] = []
    url = f"/?status=all&sort={sort}"
    pages = 0
    while url:
        page = b.get(url)
        seen += listed(page)
        pages += 1
        found = re.search(r'href="([^"]+)" rel="next"', page.get_data(as_text=True))
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert pages == 4
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    with store.transaction() as db:
        rows = {c: db.get_one(Case, c) for c in ids}
    column = {
        "due": "next_due_on",
        "received": "received_on",
        "oldest": "received_on",
        "priority": "priority",
        "activity": "reporter_activity_on",
    }[sort]
    descending = sort in ("received", "priority", "activity")
    values = [getattr(rows[c], column) for c in seen]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=descending)
    if None in values:  # NULLs come last
        assert values[values.index(None) :] == [None] * values.count(None)


def test_bad_cursor_and_filters_are_harmless(store, person, signed_in, h) -> None:
    alice = person("alice")
    h.submit(store)
    b = signed_in(alice)
    for query in (
        "?after=%%%",
        "?after=bm90LWEtY3Vyc29y",
        "?sort=evil",
        "?status=evil",
        "?category=abc",
        "?assignee=x'--",
        "?label=" + "x" * 500,
    ):
        response = b.get("/" + query)
        assert response.status_code == 200


def test_fixed_number_of_queries_per_page(store, person, signed_in, h) -> None:
    alice = person("alice")
    b = signed_in(alice)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    for i in range(2):
        case_id, _receipt = h.submit(store, f"a{i}")
        with store.transaction() as db:
            db.add(CaseLabel(case_id=case_id, label=f"l{i}"))
    event.listen(store.engine, "before_cursor_execute", count)
    try:
        b.get("/?status=all")
        few = len(statements)
        for i in range(8):
            case_id, _ = h.submit(store, f"b{i}")
            with store.transaction() as db:
                db.add(CaseLabel(case_id=case_id, label=f"m{i}"))
        statements.clear()
        page = b.get("/?status=all")
        many = len(statements)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert len(listed(page)) == 10
    assert many == few


def test_other_roles_are_sent_to_their_own_home(store, person, signed_in) -> None:
    admin = person("root", caseworker=False, admin=True)
    custodian = person("carol", caseworker=False, custodian=True)
    assert signed_in(admin).get("/").location == "/admin"
    assert signed_in(custodian).get("/").location == "/identity-requests"


def _bulk_insert(store, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Raw driver bulk load (COPY on PostgreSQL): the ORM's per-row work would dominate."""
    names = ", ".join(columns)
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        iso = [tuple(v.isoformat() if isinstance(v, dt.date) else v for v in row) for row in rows]
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", iso)  # noqa: S608


@pytest.mark.slow
def test_inbox_plans_walk_an_index_at_100000_cases(store, person, signed_in, today) -> None:
    alice, bob = person("alice"), person("bob")
    statuses = [s.name for s in Status]  # stored by name (non-native enum)
    cases, keys, labels = [], [], []
    for i in range(100_000):
        case_id = secrets.token_hex(8)
        received = today - dt.timedelta(days=i % 900)
        status = statuses[i % 6]
        due = (
            None if status in ("CONCLUDED", "CLOSED") else received + dt.timedelta(days=7 + i % 90)
        )
        assignee = alice.id if i % 3 == 0 else None
        cases.append(
            (case_id, status, "web", received, received, received, due, i % 4, i % 5 == 0, assignee)
        )
        keys.append(
            (secrets.token_hex(8), case_id, "THREAD", "", "CASEWORKER",
             alice.id if i % 4 != 3 else bob.id, b"\0")
        )
        if i % 10 == 0:
            labels.append((case_id, "fraud"))
    cases.sort()
    keys.sort(key=lambda k: k[1:])
    _bulk_insert(
        store,
        "cases",
        (
            "id",
            "status",
            "channel",
            "received_on",
            "acknowledge_due_on",
            "feedback_due_on",
            "next_due_on",
            "priority",
            "unread_by_caseworkers",
            "assignee_id",
        ),
        cases,
    )
    _bulk_insert(
        store,
        "wrapped_keys",
        ("id", "case_id", "purpose", "record_id", "holder_kind", "caseworker_id", "wrapped"),
        keys,
    )
    _bulk_insert(store, "case_labels", ("case_id", "label"), labels)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    b = signed_in(alice)
    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "FROM cases" in statement:
            statements.append((statement, parameters))

    for query in (
        "/",
        "/?status=all&sort=received",
        "/?overdue=y",
        "/?label=fraud",
        "/?assignee=me&sort=priority",
        "/?unread=y&status=all&sort=activity",
        "/?due_soon=y",
        "/?status=closed&sort=oldest",
    ):
        statements.clear()
        event.listen(store.engine, "before_cursor_execute", capture)
        try:
            page = b.get(query)
            assert page.status_code == 200 and len(listed(page)) == 50, query
            found = re.search(r'href="([^"]+)" rel="next"', page.get_data(as_text=True))
            assert found, query
            page = b.get(found.group(1).replace("&amp;", "&"))
            assert page.status_code == 200 and len(listed(page)) == 50, query
        finally:
            event.remove(store.engine, "before_cursor_execute", capture)
        assert statements, query
        for statement, parameters in statements:
            plan = _plan(store, statement, parameters)
            # Reading every case the caseworker holds and sorting them all is what made a
            # page take over a second at this size; walking the sort index does not.
            assert not _sorts_everything(store, plan), f"{query}: {statement}\n{plan}"


def _plan(store, statement: str, parameters) -> str:  # type: ignore[no-untyped-def]
    prefix = "EXPLAIN QUERY PLAN " if store.engine.dialect.name == "sqlite" else "EXPLAIN "
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
    return "\n".join(" ".join(str(c) for c in row) for row in rows)


def _sorts_everything(store, plan: str) -> bool:  # type: ignore[no-untyped-def]
    if store.engine.dialect.name == "sqlite":
        return "SCAN cases" in plan and "USE TEMP B-TREE FOR ORDER BY" in plan
    return "Seq Scan on cases" in plan and "Sort" in plan


def test_the_inbox_shows_a_snippet_and_the_language_of_held_cases_only(  # type: ignore[no-untyped-def]
    store, person, signed_in, h
) -> None:
    from sqlalchemy import select

    from cases.models import AuditEntry

    alice = person("alice")
    long_text = "The road contractor paid the brother of the mayor. " * 10
    first, _ = h.submit(store, {"text": long_text, "answers": [], "language": "ar"})
    h.submit(store, "Fuel goes missing at night.")
    page = signed_in(alice).get("/").get_data(as_text=True)
    assert "Fuel goes missing at night." in page
    assert long_text[:100] in page and long_text not in page and "…" in page  # cut short
    assert "العربية (ar)" in page
    bob = person("bob")  # holds nothing: sees neither rows nor words
    assert "Fuel goes missing" not in signed_in(bob).get("/").get_data(as_text=True)
    with store.transaction() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "inbox.previewed")).all()
    assert len(entries) == 1 and first in entries[0].detail and entries[0].actor_id == alice.id
