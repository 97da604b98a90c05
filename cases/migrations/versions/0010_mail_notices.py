"""mail notices to staff: an outbox, and each account's notice settings

* notice_outbox: notices waiting to be sent (cases.notifications); no rowid on SQLite.
* caseworkers.notice_email / notice_events / notice_daily / notice_digest_on: where,
  which events, daily digest or not, and the date of the last digest.
* deadline_reminders: which deadline reminders were sent (cases.notifications.deadlines).

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# The events of this version (a migration keeps its own copy: the model's may grow).
ALL_EVENTS = (
    "new_report,reporter_message,deadline_soon,deadline_passed,identity_request,"
    "account_locked,audit_broken"
)


def upgrade() -> None:
    with op.batch_alter_table("caseworkers") as batch:
        batch.add_column(sa.Column("notice_email", sa.String(254), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("notice_events", sa.String(200), nullable=False,
                                   server_default=ALL_EVENTS))
        batch.add_column(sa.Column("notice_daily", sa.Boolean(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("notice_digest_on", sa.Date(), nullable=True))
    op.create_table(
        "notice_outbox",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("caseworker_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(16), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["caseworker_id"], ["caseworkers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("notice_outbox") as batch:
        batch.create_index("ix_notice_outbox_caseworker_id", ["caseworker_id"], unique=False)
    op.create_table(
        "deadline_reminders",
        sa.Column("case_id", sa.String(16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "due_on", "stage"),
    )


def downgrade() -> None:
    op.drop_table("deadline_reminders")
    op.drop_table("notice_outbox")
    with op.batch_alter_table("caseworkers") as batch:
        batch.drop_column("notice_digest_on")
        batch.drop_column("notice_daily")
        batch.drop_column("notice_events")
        batch.drop_column("notice_email")
