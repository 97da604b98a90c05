"""indexes for a million cases (bench/bench_scale.py): reviewed closures by closing date
(cases.records.retention walks them oldest first), a partial index of linked cases, which
ON DELETE SET NULL probes for every purged case, and a partial index of caseworkers'
thread keys, the inbox's access rule

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINKED = sa.text("linked_case_id IS NOT NULL")
THREAD_HOLDERS = sa.text("purpose = 'THREAD' AND holder_kind = 'CASEWORKER' AND record_id = ''")


def upgrade() -> None:
    op.create_index("ix_cases_status_closed", "cases", ["status", "closed_on", "id"])
    op.create_index("ix_cases_linked_case_id", "cases", ["linked_case_id"],
                    postgresql_where=LINKED, sqlite_where=LINKED)
    op.create_index("ix_wrapped_keys_thread_holders", "wrapped_keys",
                    ["case_id", "caseworker_id"],
                    postgresql_where=THREAD_HOLDERS, sqlite_where=THREAD_HOLDERS)


def downgrade() -> None:
    op.drop_index("ix_wrapped_keys_thread_holders", table_name="wrapped_keys")
    op.drop_index("ix_cases_linked_case_id", table_name="cases")
    op.drop_index("ix_cases_status_closed", table_name="cases")
