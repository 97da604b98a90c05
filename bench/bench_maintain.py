"""The nightly maintenance (``sealbox db maintain``) on a large instance, SQLite and PostgreSQL.

    .venv/bin/python -m bench.bench_maintain [--cases 100000] [--database both|sqlite|postgres]

The instance is filled as ``bench.bench_inbox`` fills it (cases, wrapped keys, labels), plus
three message rows of 300 bytes per case, all by bulk load. Timed, alternately, three
rounds each: ``cases.records.maintenance.reorder`` (SQLite: VACUUM and a TRUNCATE checkpoint;
PostgreSQL: CLUSTER of every table a reporter writes on its random primary key), and a
baseline that rewrites the same data without ordering it (SQLite: a copy of the database
file with ``VACUUM INTO``; PostgreSQL: ``VACUUM FULL`` of the same tables). What matters to
an operator is the absolute time: each table is locked while it is rewritten, so a report
sent then waits (docs/OPERATIONS.md, "Nightly maintenance").
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import time
from typing import Any

from bench._common import machine, print_machine, save
from bench._server import instance
from bench.bench_inbox import bulk_insert, populate

ROUNDS = 3
MESSAGES_PER_CASE = 3


def add_messages(store: Any, rng: random.Random) -> int:
    from sqlalchemy import text

    with store.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM cases"))]
    rows = []
    for case_id in ids:
        for position in range(1, MESSAGES_PER_CASE + 1):
            rows.append((rng.randbytes(8).hex(), case_id, position, "REPORT", None,
                         rng.randbytes(300), dt.date(2026, 1, 1)))
    columns = ("id", "case_id", "position", "kind", "author_id", "ciphertext", "created_on")
    bulk_insert(store, "messages", columns, rows)
    return len(rows)


def baseline(store: Any, scratch: str) -> None:
    from cases.records.maintenance import unordered_tables

    if store.engine.dialect.name == "sqlite":
        if os.path.exists(scratch):
            os.remove(scratch)
        raw = store.engine.raw_connection()
        try:
            raw.driver_connection.execute(f"VACUUM INTO '{scratch}'")
        finally:
            raw.close()
        return
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in unordered_tables():
            conn.exec_driver_sql(f'VACUUM FULL "{table.name}"')


def run(database: str, n: int) -> dict[str, Any]:
    from cases.models import today
    from cases.records.maintenance import reorder
    from cases.store import Store
    from config import load_settings

    with instance(database=database) as made:
        store = Store(load_settings(environ=made.env))
        _reader, counts = populate(store, n, today())
        counts["messages"] = add_messages(store, random.Random(3))
        scratch = str(made.path / "vacuum-into.db")
        times: dict[str, list[float]] = {"maintain": [], "baseline": []}
        for _ in range(ROUNDS):
            for name, step in (("maintain", lambda: reorder(store.engine)),
                               ("baseline", lambda: baseline(store, scratch))):
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
        store.dispose()
    median = {k: statistics.median(v) for k, v in times.items()}
    result = {"rows": counts, "seconds": times, "median_s": median,
              "ratio_vs_baseline": median["maintain"] / median["baseline"],
              "load_average": os.getloadavg()}
    print(f"\n{database}: {counts}")
    print(f"  maintain {median['maintain']:.2f} s, baseline {median['baseline']:.2f} s "
          f"(ratio {result['ratio_vs_baseline']:.2f}); rounds {times}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", choices=("both", "sqlite", "postgres"), default="both")
    args = parser.parse_args()
    print_machine(machine())
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    results = {db: run(db, args.cases) for db in databases}
    save("maintain", {"cases": args.cases, "results": results})


if __name__ == "__main__":
    main()
