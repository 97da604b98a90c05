"""The nightly maintenance that keeps the database from telling when reporters acted.

Reporter-caused dates are dates, and reporter actions are not audited (an audit entry has a
time of day). But the *order* in which rows were written would still place a reporter's
message between two audited caseworker actions of the same minute. The tables a reporter's
action writes therefore have random primary keys and no insertion counter
(``cases.models.UNORDERED``). What the databases' own storage keeps, this step rewrites:

* **SQLite**: ``VACUUM`` rebuilds the file, each table in key order, so no page's place in
  the file says when it was allocated; a TRUNCATE checkpoint empties the write-ahead log,
  whose frames are in commit order.
* **PostgreSQL**: ``CLUSTER`` rewrites each of those tables in the order of its random
  primary key, so what a dump or a plain ``SELECT`` returns is no longer in the order of
  writing. Each row keeps its transaction id (``xmin``), which anyone who can run SQL as
  a privileged user can read: that residual, and the copies taken before the night's run,
  are in docs/THREAT_MODEL.md. ``CLUSTER`` needs the tables' owner (``sealbox db maintain``
  runs as the migration role) and locks each table while it is rewritten.

Run by ``sealbox db maintain`` (a nightly timer, before the backup) and, on the embedded
SQLite default, by ``sealbox purge``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Table

import cases.models  # noqa: F401  (registers the tables)
from cases.db import Base, is_sqlite


def unordered_tables() -> list[Table]:
    """The tables whose rows carry no order of writing (models: ``UNORDERED``)."""
    return [
        table
        for table in Base.metadata.sorted_tables
        if table.dialect_options["sqlite"].get("with_rowid") is False
    ]


def reorder(engine: Engine) -> None:
    """Rewrite the unordered tables' storage in key order (module docstring)."""
    if is_sqlite(engine):
        with engine.connect() as connection:
            # The driver's own connection, outside any transaction, as both need.
            raw: Any = connection.connection.driver_connection
            raw.execute("VACUUM")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in unordered_tables():
            index = connection.exec_driver_sql(
                "SELECT conname FROM pg_constraint"
                " WHERE conrelid = CAST(%(t)s AS regclass) AND contype = 'p'",
                {"t": table.name},
            ).scalar_one()
            connection.exec_driver_sql(f'CLUSTER "{table.name}" USING "{index}"')
        connection.exec_driver_sql("ANALYZE")
