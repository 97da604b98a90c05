"""The caseworker inbox with 100,000 cases, on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.bench_inbox [--quick] [--cases 100000]
                                          [--database both|sqlite|postgres]

Each database gets a fresh, migrated instance filled with bulk inserts (COPY on
PostgreSQL) of realistic workflow metadata: five years of reports at a steady rate, with
statuses, deadlines (EU Directive 2019/1937), overdue cases, priorities, categories routed
to four of twelve caseworkers (uncategorised reports to all of them), assignees, labels,
legal holds, and the wrapped-key rows a real submission writes (thread and internal keys
for each routed caseworker, the recovery key, the reporter), so the access rule does
real work. Nothing is encrypted: the inbox reads only those plaintext columns. The
statistics are refreshed the way the product does it (``caseworker.cli.instance.refresh_statistics``
runs at ``db upgrade`` and in the daily purge; PostgreSQL's autovacuum does it too).

Timed: ``cases.casework.inbox.inbox_page`` (the function the caseworker app's inbox calls: the page
query, the labels query and the capped count) for each page of each scenario, walking the
keyset pagination from the first to the last page: the open cases by deadline (the
default), one status, the overdue ones, the closed ones oldest first, and everything newest
first. Target: p95 <= 50 ms per page. Baseline, timed alternately with each page on the
same database: the bare ``SELECT id FROM cases ORDER BY received_on DESC, id DESC LIMIT 50``.
Each scenario's first- and last-page statements are EXPLAINed (SQLite: EXPLAIN QUERY PLAN;
PostgreSQL: EXPLAIN ANALYZE) and the plans printed; a full scan of cases or wrapped_keys,
or a sort of the whole result, is flagged.

Then the same pages through the caseworker app (Flask test client, signed in with
passphrase and TOTP): time per page and SQL statements per page, which must not grow with
the rows shown (no N+1).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import re
import statistics
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from sqlalchemy import event, text

from bench import _caseworker
from bench._common import machine, print_machine, save
from bench._server import Instance, instance

TARGET_MS = 50.0
YEARS = 5
CASEWORKERS = 12
CATEGORIES = ("fraud", "corruption", "harassment", "safety", "environment", "data-protection",
              "procurement", "other")
LABELS = ("urgent", "needs-legal", "media-risk", "repeat-reporter", "awaiting-documents",
          "external-auditor", "police-referral", "board-level", "hr-involved", "follow-up",
          "translated", "retaliation-risk", "cross-border", "duplicate-suspected", "escalated")
BARE = "SELECT id FROM cases ORDER BY received_on DESC, id DESC LIMIT 50"
SCENARIOS: dict[str, dict[str, Any]] = {
    "open, by deadline (default)": {},
    "status received": {"status": "received"},
    "overdue": {"overdue": True},
    "closed, oldest first": {"status": "closed", "sort": "oldest"},
    "all, newest first": {"status": "all", "sort": "received"},
}
APP_PAGES = {
    "open, by deadline (default)": "/",
    "status received": "/?status=received",
    "overdue": "/?overdue=y",
    "closed, oldest first": "/?status=closed&sort=oldest",
    "all, newest first": "/?status=all&sort=received",
    "label filter": "/?status=all&label=urgent",
    "assigned to me, by priority": "/?assignee=me&sort=priority",
}


# --- realistic rows ----------------------------------------------------------------------


def _status(rng: random.Random, age: int) -> str:
    table = (
        (7, (("RECEIVED", 70), ("ACKNOWLEDGED", 30))),
        (30, (("RECEIVED", 3), ("ACKNOWLEDGED", 40), ("TRIAGED", 35), ("INVESTIGATING", 22))),
        (120, (("ACKNOWLEDGED", 5), ("TRIAGED", 10), ("INVESTIGATING", 45), ("CONCLUDED", 15),
               ("CLOSED", 25))),
        (365, (("INVESTIGATING", 10), ("CONCLUDED", 5), ("CLOSED", 85))),
        (10**6, (("INVESTIGATING", 1), ("CONCLUDED", 1), ("CLOSED", 98))),
    )
    for limit, weights in table:
        if age <= limit:
            names, w = zip(*weights, strict=True)
            return rng.choices(names, w)[0]
    raise AssertionError


Row = tuple[Any, ...]


def generate(
    n: int, today: dt.date, caseworker_ids: list[int], routes: dict[int, list[int]], seed: int
) -> tuple[list[Row], list[Row], list[Row]]:
    """Cases, wrapped keys and labels, oldest report first (the order they were written)."""
    cases, keys, labels = [], [], []
    for case, its_keys, its_labels in each_case(n, today, caseworker_ids, routes, seed):
        cases.append(case)
        keys += its_keys
        labels += its_labels
    return cases, keys, labels


def each_case(
    n: int, today: dt.date, caseworker_ids: list[int], routes: dict[int, list[int]], seed: int
) -> Iterator[tuple[Row, list[Row], list[Row]]]:
    """One case at a time: its row (CASE_COLUMNS), wrapped keys and labels, oldest first."""
    from cases.casework.workflow import add_months

    rng = random.Random(seed)
    blob = os.urandom(1 << 20)
    ages = sorted((rng.randrange(YEARS * 365) for _ in range(n)), reverse=True)
    category_ids = list(routes)
    for age in ages:
        case_id = rng.randbytes(8).hex()
        received = today - dt.timedelta(days=age)
        status = _status(rng, age)
        oral = rng.random() < 0.05
        category = rng.choice(category_ids) if rng.random() < 0.9 else None
        holders = routes[category] if category is not None else caseworker_ids
        ack_due = received + dt.timedelta(days=7)
        acked = None
        if status != "RECEIVED":
            late = rng.random() < 0.05
            acked = min(today, received + dt.timedelta(days=rng.randint(8, 20) if late else
                                                        rng.randint(0, 6)))
        feedback_due = add_months(min(acked, ack_due) if acked else ack_due, 3)
        feedback_given = None
        if acked and (status in ("CONCLUDED", "CLOSED") or (age > 60 and rng.random() < 0.6)):
            feedback_given = min(today, acked + dt.timedelta(days=rng.randint(10, 90)))
        is_open = status not in ("CONCLUDED", "CLOSED")
        next_due = None  # cases.casework.workflow._refresh_next_due
        if is_open and acked is None:
            next_due = ack_due
        elif is_open and feedback_given is None:
            next_due = feedback_due
        triaged = acked + dt.timedelta(days=rng.randint(0, 10)) if status not in (
            "RECEIVED", "ACKNOWLEDGED") and acked else None
        risk = triaged if status in ("INVESTIGATING", "CONCLUDED", "CLOSED") else None
        concluded = closed = outcome = None
        if status in ("CONCLUDED", "CLOSED"):
            concluded = min(today, received + dt.timedelta(days=rng.randint(30, 200)))
            outcome = rng.choice(("substantiated", "partly_substantiated", "unsubstantiated",
                                  "referred"))
            if status == "CLOSED":
                closed = min(today, concluded + dt.timedelta(days=rng.randint(0, 30)))
        assigned = rng.random() < (0.2 if status == "RECEIVED" else 0.85)
        assignee = rng.choice(holders) if assigned else None
        hold = "litigation pending" if status == "CLOSED" and rng.random() < 0.005 else None
        unread = status == "RECEIVED" or rng.random() < (0.15 if is_open else 0.02)
        activity = received + dt.timedelta(days=rng.randint(0, age)) if age else received
        start = rng.randrange(len(blob) - 64)
        case = ((
            case_id, None if oral else rng.randbytes(32), None if oral else blob[start:start + 32],
            category, "oral" if oral else "web", status,
            0 if status == "RECEIVED" else rng.randint(1, 3), assignee, received, acked, ack_due,
            feedback_due, feedback_given, next_due, triaged, risk, None, concluded, closed,
            outcome, hold, None, activity, unread, None,
        ))
        keys: list[Row] = []
        labels: list[Row] = []
        holders = list(holders)
        if rng.random() < 0.02:  # access granted later to one more colleague
            extra = rng.choice(caseworker_ids)
            if extra not in holders:
                holders.append(extra)
        for purpose in ("THREAD", "INTERNAL"):
            for holder in holders:
                start = rng.randrange(len(blob) - 80)
                keys.append((case_id, purpose, "", "CASEWORKER", holder, blob[start:start + 80]))
            start = rng.randrange(len(blob) - 80)
            keys.append((case_id, purpose, "", "RECOVERY", None, blob[start:start + 80]))
        if not oral:
            start = rng.randrange(len(blob) - 80)
            keys.append((case_id, "THREAD", "", "REPORTER", None, blob[start:start + 80]))
        if rng.random() < 0.3:
            for label in rng.sample(LABELS, rng.choice((1, 1, 2))):
                labels.append((case_id, label))
        yield case, keys, labels


CASE_COLUMNS = (
    "id", "lookup_hash", "reporter_public_key", "category_id", "channel", "status", "priority",
    "assignee_id", "received_on", "acknowledged_on", "acknowledge_due_on", "feedback_due_on",
    "feedback_given_on", "next_due_on", "triaged_on", "risk_assessed_on", "risk_review_on",
    "concluded_on", "closed_on", "outcome", "legal_hold_reason", "linked_case_id",
    "reporter_activity_on", "unread_by_caseworkers", "minutes_agreed_on",
)
KEY_COLUMNS = ("id", "case_id", "purpose", "record_id", "holder_kind", "caseworker_id", "wrapped")


def bulk_insert(
    store: Any, table: str, columns: tuple[str, ...], rows: Iterable[Row]
) -> None:
    """COPY on PostgreSQL; on SQLite one executemany on a connection of its own with a
    large page cache (1.25 million wrapped keys into five indexes thrash SQLite's default
    2 MB cache), disposed of afterwards so the timed connections have the defaults."""
    from cases.db import make_engine

    names = ", ".join(columns)
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as conn:
            # The rows are consistent by construction: skip the per-row foreign-key
            # triggers (a million of them) for the load only.
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    loader = make_engine(store.settings.sqlalchemy_url)
    raw = loader.raw_connection()
    try:
        db = raw.driver_connection  # sqlite3, in autocommit mode (cases.db)
        db.execute("PRAGMA foreign_keys=OFF")  # consistent by construction
        db.execute("PRAGMA cache_size=-1048576")
        iso = [tuple(v.isoformat() if isinstance(v, dt.date) else v for v in row) for row in rows]
        marks = ", ".join("?" * len(columns))
        db.execute("BEGIN IMMEDIATE")
        db.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", iso)  # noqa: S608
        db.execute("COMMIT")
    finally:
        raw.close()
        loader.dispose()


def populate(store: Any, n: int, today: dt.date) -> tuple[int, dict[str, int]]:
    """The team, the categories and ``n`` cases; returns the reader's id and row counts."""
    reader, ids, routes = make_team(store)
    cases, keys, labels = generate(n, today, ids, routes, seed=7)
    bulk_insert(store, "cases", CASE_COLUMNS, cases)
    key_ids = random.Random(11)
    keys = [(key_ids.randbytes(8).hex(), *row) for row in keys]  # random ids (cases.models)
    bulk_insert(store, "wrapped_keys", KEY_COLUMNS, keys)
    bulk_insert(store, "case_labels", ("case_id", "label"), labels)
    settle(store)
    return reader, {"cases": len(cases), "wrapped_keys": len(keys), "case_labels": len(labels)}


def make_team(store: Any) -> tuple[int, list[int], dict[int, list[int]]]:
    """The reader (timed), eleven colleagues and the categories routed to four of them;
    returns the reader's id, everyone's ids and each category's members."""
    from cases.accounts.enrolment import create_caseworker
    from cases.models import Category, CategoryMember

    reader = _caseworker.create_reader(store)
    cheap = replace(store.settings, passphrase_kdf_opslimit=1, passphrase_kdf_memlimit_mib=8)
    ids = [reader]
    with store.transaction() as session:
        for i in range(1, CASEWORKERS):
            account = create_caseworker(session, cheap, f"colleague-{i}", "colleague passphrase")
            ids.append(account.id)
        routes: dict[int, list[int]] = {}
        for position, slug in enumerate(CATEGORIES):
            category = Category(slug=slug, name=slug.replace("-", " ").title(), position=position)
            session.add(category)
            session.flush()
            # The reader handles five of the eight categories, with three colleagues each.
            members = [reader] if position < 5 else []
            members += random.Random(position).sample(ids[1:], 4 - len(members))
            routes[category.id] = members
            for member in members:
                session.add(CategoryMember(category_id=category.id, caseworker_id=member))
    return reader, ids, routes


def settle(store: Any) -> None:
    """Statistics, a checkpoint and on PostgreSQL a VACUUM, after a bulk load."""
    from caseworker.cli.instance import refresh_statistics

    refresh_statistics(store)  # what `db upgrade` and the daily purge run
    # Then the steady state a live database is in, not the aftermath of a bulk load: the
    # dirty pages written out (a checkpoint would otherwise land in the middle of the timed
    # walks) and, on PostgreSQL, the VACUUM autovacuum would soon run (visibility map).
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
            conn.exec_driver_sql("CHECKPOINT")
    else:
        raw = store.engine.raw_connection()  # autocommit: a checkpoint runs outside BEGIN
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()


# --- timing --------------------------------------------------------------------------------


@contextlib.contextmanager
def statements(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and their parameters) run on ``engine`` inside the block; each
    one's milliseconds are added to ``timings`` under its first 60 characters."""
    seen: list[tuple[str, Any]] = []
    started: list[float] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_a: Any) -> None:
        seen.append((statement, parameters))
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        key = " ".join(statement.split())[:60]
        TIMINGS.setdefault(key, []).append(1000 * (time.perf_counter() - started[-1]))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


TIMINGS: dict[str, list[float]] = {}


def percentiles(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "max": ordered[-1],
    }


def walk(store: Any, reader: int, filters: Any, today: dt.date) -> dict[str, Any]:
    """Every page from the first to the last, each timed next to one bare query."""
    from cases.casework.inbox import inbox_page

    page_ms, bare_ms = [], []
    first_sql: list[tuple[str, Any]] = []
    last_sql: list[tuple[str, Any]] = []
    rows = 0
    after = ""
    with store.sessions() as db:
        for _ in range(2):  # warm: a caseworker's inbox is not read from a cold disk
            inbox_page(db, reader, filters, today)
            db.execute(text(BARE)).all()
        while True:
            start = time.perf_counter()
            db.execute(text(BARE)).all()
            bare_ms.append(1000 * (time.perf_counter() - start))
            with statements(store.engine) as seen:
                start = time.perf_counter()
                page = inbox_page(db, reader, replace(filters, after=after), today)
                page_ms.append(1000 * (time.perf_counter() - start))
            if not first_sql:
                first_sql = list(seen)
            last_sql = list(seen)
            rows += len(page.rows)
            if not page.next_cursor:
                break
            after = page.next_cursor
        db.rollback()
    return {
        "pages": len(page_ms),
        "rows": rows,
        "total_shown": page.total,
        "statements_per_page": len(last_sql),
        "page_ms": percentiles(page_ms),
        "first_page_ms": page_ms[0],
        "last_page_ms": page_ms[-1],
        "bare_ms": percentiles(bare_ms),
        "_first_sql": first_sql,
        "_last_sql": last_sql,
    }


# --- EXPLAIN -------------------------------------------------------------------------------

# A full scan of a big table: on SQLite a SCAN without an index; on PostgreSQL a Seq Scan
# that read more than a tenth of the table (one that stops early, after a LIMIT's worth of
# matches, is the planner's fair choice and is not flagged; the plans are printed anyway).
SQLITE_BAD = re.compile(r"^SCAN (cases|wrapped_keys|case_labels)$")
PG_SEQ = re.compile(r"Seq Scan on (cases|wrapped_keys|case_labels) .*actual rows=(\d+) loops=(\d+)")
PG_REMOVED = re.compile(r"Rows Removed by Filter: (\d+)")


def _pg_flagged(plan: list[str], sizes: dict[str, int]) -> list[str]:
    bad = []
    for i, line in enumerate(plan):
        match = PG_SEQ.search(line)
        if not match:
            continue
        removed = 0
        for following in plan[i + 1 : i + 4]:
            found = PG_REMOVED.search(following)
            if found:
                removed = int(found.group(1))
                break
        read = (int(match.group(2)) + removed) * int(match.group(3))
        if read > sizes[match.group(1)] / 10:
            bad.append(f"{line.strip()} [{read} rows read]")
    return bad


def explain(store: Any, sql: list[tuple[str, Any]], sizes: dict[str, int]) -> list[dict[str, Any]]:
    postgres = store.engine.dialect.name == "postgresql"
    out = []
    with store.engine.connect() as conn:
        for statement, parameters in sql:
            prefix = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " if postgres else (
                "EXPLAIN QUERY PLAN ")
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            if postgres:
                plan = [r[0] for r in rows]
                bad = _pg_flagged(plan, sizes)
            else:
                depth: dict[int, int] = {0: -1}
                plan = []
                for node, parent, _, detail in rows:
                    depth[node] = depth.get(parent, -1) + 1
                    plan.append("  " * depth[node] + detail)
                bad = [line.strip() for line in plan if SQLITE_BAD.search(line.strip())]
            out.append({"sql": " ".join(statement.split()), "plan": plan, "flagged": bad})
        conn.rollback()
    return out


# --- through the app -----------------------------------------------------------------------


def through_app(store: Any, repeats: int) -> dict[str, Any]:
    """Each inbox page through the app, timed; and its SQL statements counted at 50 rows
    and again with the app's page size set to 5: an N+1 would show as a difference."""
    from caseworker import create_app

    clients = {}
    for size in (None, 5):
        app = create_app(store.settings, store)
        if size is not None:
            app.config["SEALBOX_INBOX_PAGE_SIZE"] = size
        clients[size] = app.test_client()
    # One sign-in (a TOTP code is accepted once); the second client gets its cookies.
    _caseworker.sign_in_client(clients[None])
    for name in ("sealbox_cw", "sealbox_cw_form"):
        cookie = clients[None].get_cookie(name)
        if cookie is not None:
            clients[5].set_cookie(name, cookie.value)
    results: dict[str, Any] = {}
    for name, url in APP_PAGES.items():
        timings: list[float] = []
        counts: list[int] = []
        TIMINGS.clear()
        for _ in range(repeats):
            with statements(store.engine) as seen:
                start = time.perf_counter()
                reply = clients[None].get(url)
                timings.append(1000 * (time.perf_counter() - start))
            if reply.status_code != 200:
                raise RuntimeError(f"{url} answered {reply.status_code}")
            counts.append(len(seen))
        rows = reply.get_data(as_text=True).count('<th scope="row">')
        slowest = sorted(((statistics.median(v), k) for k, v in TIMINGS.items()), reverse=True)
        with statements(store.engine) as seen:
            small = clients[5].get(url)
        results[name] = {
            "url": url,
            "rows": rows,
            "ms": percentiles(timings),
            "statements": max(counts),
            "slowest_statements_p50_ms": {k: round(ms, 1) for ms, k in slowest[:3]},
            "rows_at_page_size_5": small.get_data(as_text=True).count('<th scope="row">'),
            "statements_at_page_size_5": len(seen),
        }
    return results


def run(database: str, n: int, app_repeats: int) -> dict[str, Any]:
    from cases.casework.inbox import InboxFilter
    from cases.models import today as utc_today
    from cases.store import Store

    with instance(database=database) as inst:
        store = Store(Instance.settings(inst))
        today = utc_today()
        start = time.perf_counter()
        reader, counts = populate(store, n, today)
        fill_seconds = time.perf_counter() - start
        print(f"[{database}] {counts} written in {fill_seconds:.0f} s")
        scenarios: dict[str, Any] = {}
        for name, options in SCENARIOS.items():
            result = walk(store, reader, InboxFilter(**options), today)
            plans = explain(store, result.pop("_first_sql"), counts) + explain(
                store, result.pop("_last_sql"), counts)
            result["plans"] = plans
            result["flagged"] = sorted({line for p in plans for line in p["flagged"]})
            result["p95_over_bare_p95"] = result["page_ms"]["p95"] / result["bare_ms"]["p95"]
            scenarios[name] = result
            page, bare = result["page_ms"], result["bare_ms"]
            print(
                f"[{database}] {name:<28} {result['pages']:>5} pages, {result['rows']:>6} rows; "
                f"page p50 {page['p50']:6.1f} ms, p95 {page['p95']:6.1f} ms, max "
                f"{page['max']:6.1f} ms, last {result['last_page_ms']:6.1f} ms; bare p95 "
                f"{bare['p95']:5.2f} ms; p95/bare {result['p95_over_bare_p95']:5.1f}x; "
                f"{result['statements_per_page']} statements"
                + (f"; FLAGGED: {result['flagged']}" if result["flagged"] else "")
            )
        app = through_app(store, app_repeats)
        for name, r in app.items():
            print(
                f"[{database}] app {name:<28} {r['rows']:>2} rows, p50 {r['ms']['p50']:6.1f} ms, "
                f"p95 {r['ms']['p95']:6.1f} ms, {r['statements']} SQL statements "
                f"({r['statements_at_page_size_5']} for {r['rows_at_page_size_5']} rows)"
            )
            for sql, ms in r["slowest_statements_p50_ms"].items():
                print(f"{'':>14}{ms:7.1f} ms  {sql}")
        store.dispose()
    return {"rows_written": counts, "fill_seconds": fill_seconds, "scenarios": scenarios,
            "app": app}


def print_plans(database: str, result: dict[str, Any]) -> None:
    print(f"\n=== query plans, {database} (first page, then last page of each scenario) ===")
    for name, scenario in result["scenarios"].items():
        print(f"--- {name}")
        for plan in scenario["plans"]:
            print("  SQL: " + plan["sql"][:400] + (" ..." if len(plan["sql"]) > 400 else ""))
            for line in plan["plan"]:
                print("    " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="10,000 cases, SQLite only")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--app-repeats", type=int, default=10)
    args = parser.parse_args()
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    n = args.cases
    if args.quick:
        databases, n = ["sqlite"], 10_000
    info = machine()
    print_machine(info)
    results = {db: run(db, n, 5 if args.quick else args.app_repeats) for db in databases}
    for db, result in results.items():
        print_plans(db, result)
    targets: dict[str, bool] = {}
    for db, result in results.items():
        targets[f"{db}: every scenario p95 <= {TARGET_MS:.0f} ms per page"] = all(
            s["page_ms"]["p95"] <= TARGET_MS for s in result["scenarios"].values())
        targets[f"{db}: no full scan or whole-result sort in the plans"] = not any(
            s["flagged"] for s in result["scenarios"].values())
        # A short page of a nullable sort runs the keyset's NULL phase: one statement more.
        targets[f"{db}: app SQL statements do not grow with the rows (no N+1)"] = all(
            r["statements"] - r["statements_at_page_size_5"] <= 1 for r in result["app"].values())
    print()
    for name, met in targets.items():
        print(f"  target {name}: {'met' if met else 'MISSED'}")
    save("inbox_quick" if args.quick else "inbox", {"cases": n, "results": results,
                                                   "targets_met": targets})


if __name__ == "__main__":
    main()
