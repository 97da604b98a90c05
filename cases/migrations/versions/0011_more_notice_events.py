"""more mail notice events: hand-overs, removals, quiet cases, recovery key use, failed
maintenance, cases held by nobody

Every account gets the new events switched on (they can switch them off under "My
account"), as a new account does; the column's default names them too.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# This version's copies (a migration keeps its own: the model's may grow).
BEFORE = (
    "new_report,reporter_message,deadline_soon,deadline_passed,identity_request,"
    "account_locked,audit_broken"
)
NEW = ("case_handed", "case_removed", "case_idle", "recovery_used", "maintenance_failed",
       "cases_unheld")
AFTER = (
    "new_report,reporter_message,deadline_soon,deadline_passed,case_handed,case_removed,"
    "case_idle,identity_request,account_locked,audit_broken,recovery_used,maintenance_failed,"
    "cases_unheld"
)
_accounts = sa.table(
    "caseworkers", sa.column("id", sa.Integer), sa.column("notice_events", sa.String)
)


def _rewrite(change: Callable[[str], str]) -> None:
    connection = op.get_bind()
    for account_id, events in connection.execute(
        sa.select(_accounts.c.id, _accounts.c.notice_events)
    ).all():
        connection.execute(
            _accounts.update()
            .where(_accounts.c.id == account_id)
            .values(notice_events=change(events))
        )


def upgrade() -> None:
    _rewrite(lambda events: ",".join([*filter(None, events.split(",")), *NEW]))
    with op.batch_alter_table("caseworkers") as batch:
        batch.alter_column("notice_events", existing_type=sa.String(200),
                           server_default=AFTER, existing_nullable=False)


def downgrade() -> None:
    _rewrite(lambda events: ",".join(e for e in events.split(",") if e and e not in NEW))
    with op.batch_alter_table("caseworkers") as batch:
        batch.alter_column("notice_events", existing_type=sa.String(200),
                           server_default=BEFORE, existing_nullable=False)
