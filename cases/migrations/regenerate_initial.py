"""Regenerate the initial migration from the models (only until the first release: after
that, schema changes get their own revisions with ``alembic revision --autogenerate``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from cases.store import MIGRATIONS, alembic_config


def main() -> None:
    for old in (MIGRATIONS / "versions").glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = alembic_config(f"sqlite:///{Path(tmp) / 'empty.db'}")
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")


if __name__ == "__main__":
    main()
