"""a report form already sent is recognised when the browser sends it again

* sent_submissions: the keyed digest of each sent form's submission id, with its date
  only, kept two days (cases.reporting.resend). No rowid on SQLite: rows carry no order.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sent_submissions",
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("sent_submissions")
