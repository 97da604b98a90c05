"""Alembic environment: runs on a connection handed over by ``Store.migrate`` or on the
URL in the config (``alembic -x`` free: the CLI passes it via ``sealbox db``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import cases.models  # noqa: F401  (registers the tables)
from cases.db import Base, make_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Sealbox migrations run online only")
run_migrations_online()
