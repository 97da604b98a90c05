"""A large PostgreSQL instance: 1,000,000 cases and about 10,000,000 messages (issue 19).

    .venv/bin/python -m bench.bench_scale [--quick] [--cases 1000000] [--messages 10]
                                          [--expired 100000]

The instance is filled by ``bench._scale_data`` (COPY of rows in the product's own formats:
sealed, numbered and chained messages, an audit log that commits to them). Then, on it:

- **Inbox**: ``cases.casework.inbox.inbox_page`` for each scenario of ``bench.bench_inbox``:
  its first pages walked in order, then pages after cursors taken at random cases (the
  middle of a long walk), each page alternating with the bare
  ``SELECT id FROM cases ORDER BY received_on DESC, id DESC LIMIT 50``. Target: p95 <= 50 ms.
- **audit verify**: ``sealbox audit verify`` run as an operator runs it, its peak resident
  memory sampled every 50 ms; it must find the generated instance intact. Target: constant
  memory, its peak within ``VERIFY_SLACK_MIB`` of the peak of ``sealbox audit head`` (the
  same command line, which loads the same code and runs one query).
- **purge**: the retention policy set so that a tenth of ``--expired`` closed cases are past
  it, ``sealbox purge`` (the nightly timer's command), then the policy set so that
  ``--expired`` more are, and ``sealbox purge`` again. Targets: every expired case purged,
  no other; the big purge in under ``PURGE_TARGET_S``; constant memory, the big purge's
  peak within ``PURGE_SLACK_MIB`` of the small one's. Then ``audit verify`` again, which
  must still find the instance intact.
- With ``--maintain``, ``sealbox db maintain`` (the nightly rewrite in key order) last.
- **Size**: the database's size and each table's, per case.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench._common import MIB, machine, print_machine, save
from bench._scale_data import load
from bench._server import instance
from bench.bench_inbox import BARE, SCENARIOS, make_team, percentiles, settle

TARGET_MS = 50.0
PURGE_TARGET_S = 600.0  # a night's timer, with the apps running: ten minutes at most
VERIFY_SLACK_MIB = 32  # one batch of cases with their messages, and the ORM's working set
PURGE_SLACK_MIB = 16
FIRST_PAGES = 20
RANDOM_PAGES = 150
SEALBOX = str(Path(sys.executable).with_name("sealbox"))


# --- the inbox ---------------------------------------------------------------------------


def random_cursors(store: Any, sort: str, count: int, seed: int) -> list[str]:
    """Cursors at random cases, for the scenario's sort, as the app encodes them."""
    from cases.casework.inbox import DEFAULT_SORT, SORTS, _encode_cursor

    column, _descending = SORTS[sort or DEFAULT_SORT]
    with store.engine.connect() as conn:
        rows = conn.execute(text(
            # The column is one of the inbox's sorts (cases.casework.inbox.SORTS), not input.
            f"SELECT id, {column.key} FROM cases TABLESAMPLE BERNOULLI (1) "  # noqa: S608
            f"REPEATABLE ({seed})"
        )).all()
    picked = random.Random(seed).sample(rows, min(count, len(rows)))
    return [_encode_cursor(value, case_id) for case_id, value in picked]


def scenario(db: Any, store: Any, reader: int, base: Any, today: dt.date) -> dict[str, Any]:
    """One scenario's first pages in order, then pages after random cursors."""
    from cases.casework.inbox import inbox_page

    for _ in range(2):  # warm, as a caseworker's inbox is
        inbox_page(db, reader, base, today)
    page_ms: list[float] = []
    bare_ms: list[float] = []

    def timed(f: Any) -> Any:
        start = time.perf_counter()
        db.execute(text(BARE)).all()
        bare_ms.append(1000 * (time.perf_counter() - start))
        start = time.perf_counter()
        page = inbox_page(db, reader, f, today)
        page_ms.append(1000 * (time.perf_counter() - start))
        return page

    page = first = timed(base)
    for _ in range(FIRST_PAGES - 1):
        if not page.next_cursor:
            break
        page = timed(replace(base, after=page.next_cursor))
    for cursor in random_cursors(store, base.sort, RANDOM_PAGES, seed=len(page_ms)):
        timed(replace(base, after=cursor))
    db.rollback()
    return {"pages": len(page_ms), "total_shown": first.total,
            "page_ms": percentiles(page_ms), "bare_ms": percentiles(bare_ms)}


def inbox(store: Any, reader: int, today: dt.date) -> dict[str, Any]:
    from cases.casework.inbox import InboxFilter

    results: dict[str, Any] = {}
    with store.sessions() as db:
        for name, options in SCENARIOS.items():
            result = results[name] = scenario(db, store, reader, InboxFilter(**options), today)
            page, bare = result["page_ms"], result["bare_ms"]
            print(f"  inbox {name:<28} {result['pages']:>4} pages: p50 {page['p50']:6.1f} ms, "
                  f"p95 {page['p95']:6.1f} ms, max {page['max']:6.1f} ms; bare p95 "
                  f"{bare['p95']:5.2f} ms")
    return results


# --- the operator's commands, memory sampled ----------------------------------------------


def _rss(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a running process, in bytes; (0, 0) once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            values = {k: int(v.split()[0]) * 1024 for k, _, v in
                      (line.partition(":") for line in status) if k in ("VmRSS", "VmHWM")}
    except (OSError, ValueError):
        return 0, 0
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def sealbox(env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run ``sealbox ARGS`` with its memory sampled every 50 ms."""
    # Into a file, not a pipe: the purge writes a line per case, more than a pipe holds
    # while nobody reads it.
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        command = subprocess.Popen([SEALBOX, *args], env={**os.environ, **env},
                                   stdout=out, stderr=subprocess.STDOUT, text=True)
        samples: list[tuple[float, int]] = []
        peak = 0
        while command.poll() is None:
            rss, hwm = _rss(command.pid)
            if rss:
                samples.append((time.perf_counter() - start, rss))
                peak = max(peak, hwm)
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        out.seek(0)
        output = out.read()
    # The summary, without the purge's line per purged case.
    summary = [line for line in output.splitlines() if line and not line.startswith("  ")]
    result = {"command": " ".join(["sealbox", *args[:-2]]), "exit": command.returncode,
              "seconds": seconds, "peak_rss_mib": peak / MIB, "samples": len(samples),
              "output": summary[-8:]}
    print(f"  {result['command']}: exit {command.returncode}, {seconds:.1f} s, peak RSS "
          f"{result['peak_rss_mib']:.1f} MiB")
    for line in result["output"]:
        print(f"      {line[:150]}")
    return result


def purged_count(run: dict[str, Any]) -> int | None:
    found = re.search(r"(\d+) case\(s\) purged", "\n".join(run["output"]))
    return int(found.group(1)) if found else None


def retention_for(closures: dict[dt.date, int], expired: int, today: dt.date) -> tuple[int, int]:
    """The retention (days after closing) that puts about ``expired`` closures past it, and
    how many exactly."""
    total = 0
    for closed_on in sorted(closures):
        total += closures[closed_on]
        if total >= expired:
            return (today - closed_on).days, total
    return 0, total


def sizes(store: Any, cases: int) -> dict[str, Any]:
    with store.engine.connect() as conn:
        database = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        tables = dict(conn.execute(text(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relkind = 'r' "
            "AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC LIMIT 8")).all())
    return {"database_bytes": database, "bytes_per_case": database / cases,
            "tables_bytes": tables}


def set_retention(store: Any, days: int) -> None:
    from cases.models import InstancePolicy

    with store.transaction() as session:
        session.merge(InstancePolicy(key="retention_days_after_close", value=str(days)))
    store.dispose()


def operator_commands(store: Any, made: Any, loaded: Any, expired: int,
                      today: dt.date, maintain: bool) -> dict[str, Any]:
    """audit verify, a purge of a tenth of ``expired``, a purge of ``expired``, audit verify,
    with ``audit head`` (the same command line, one query) as the memory floor."""
    where = ("--instance", str(made.path))
    floor = sealbox(made.env, "audit", "head", *where)
    verify = sealbox(made.env, "audit", "verify", *where)
    small_days, small_due = retention_for(loaded.closures, expired // 10, today)
    days, due = retention_for(loaded.closures, expired // 10 + expired, today)
    set_retention(store, small_days)
    small = sealbox(made.env, "purge", *where)
    set_retention(store, days)
    purge = sealbox(made.env, "purge", *where)
    with store.engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
    store.dispose()
    after = sealbox(made.env, "audit", "verify", *where)
    # The nightly rewrite of the tables in key order (each is locked while rewritten).
    maintained = sealbox(made.env, "db", "maintain", *where) if maintain else None
    return {"maintain": maintained, "floor": floor, "verify": verify, "small_purge": small,
            "purge": purge,
            "verify_after_purge": after, "retention_days": [small_days, days],
            "due": [small_due, due - small_due], "purged": [purged_count(small),
                                                           purged_count(purge)],
            "cases_left": left}


def run(n: int, mean_messages: int, expired: int, maintain: bool) -> dict[str, Any]:
    from cases.models import today as utc_today
    from cases.store import Store

    with instance(database="postgres") as made:
        store = Store(made.settings())
        today = utc_today()
        reader, ids, routes = make_team(store)
        start = time.perf_counter()
        loaded = load(store, n, today, ids, routes, mean_messages)
        settle(store)
        fill = time.perf_counter() - start
        print(f"  filled in {fill:.0f} s: {dict(loaded.rows)}")
        size = sizes(store, n)
        print(f"  database {size['database_bytes'] / 2**30:.2f} GiB, "
              f"{size['bytes_per_case'] / 1024:.1f} KiB per case")
        pages = inbox(store, reader, today)
        commands = operator_commands(store, made, loaded, expired, today, maintain)
        store.dispose()
    return {"rows": dict(loaded.rows), "fill_seconds": fill, "size": size, "inbox": pages,
            **commands, "load_average": os.getloadavg()}


def targets(n: int, result: dict[str, Any]) -> dict[str, bool]:
    floor = result["floor"]["peak_rss_mib"]
    verify, after = result["verify"], result["verify_after_purge"]
    small, purge = result["small_purge"], result["purge"]
    return {
        f"inbox p95 <= {TARGET_MS:.0f} ms in every scenario": all(
            s["page_ms"]["p95"] <= TARGET_MS for s in result["inbox"].values()),
        "audit verify finds the instance intact, before and after the purges":
            verify["exit"] == 0 and after["exit"] == 0,
        f"audit verify within {VERIFY_SLACK_MIB} MiB of `audit head`'s memory": max(
            verify["peak_rss_mib"], after["peak_rss_mib"]) <= floor + VERIFY_SLACK_MIB,
        "the purges delete every expired case and no other": result["purged"] == result["due"]
            and result["cases_left"] == n - sum(result["due"]),
        f"the purge of {result['due'][1]:,} cases in under {PURGE_TARGET_S:.0f} s":
            purge["exit"] == 0 and purge["seconds"] < PURGE_TARGET_S,
        f"the purge within {PURGE_SLACK_MIB} MiB of a purge of a tenth as many":
            purge["peak_rss_mib"] <= small["peak_rss_mib"] + PURGE_SLACK_MIB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="20,000 cases, 2,000 expired")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=10, help="per case, on average")
    parser.add_argument("--expired", type=int, default=100_000)
    parser.add_argument("--maintain", action="store_true",
                        help="then `sealbox db maintain` too (on PostgreSQL: CLUSTER)")
    args = parser.parse_args()
    n, expired = (20_000, 2_000) if args.quick else (args.cases, args.expired)
    print_machine(machine())
    result = run(n, args.messages, expired, args.maintain)
    met = targets(n, result)
    print()
    for name, ok in met.items():
        print(f"  target {name}: {'met' if ok else 'MISSED'}")
    save("scale_quick" if args.quick else "scale",
         {"cases": n, "results": result, "targets_met": met})


if __name__ == "__main__":
    main()
