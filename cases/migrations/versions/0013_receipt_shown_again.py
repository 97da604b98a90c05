"""a report form sent again shows its receipt again until the reporter says they saved it:
sent_submissions.receipt_saved (cases.reporting.resend)

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (no batch rebuild, which would lose WITHOUT ROWID: revision 0003).
    op.add_column("sent_submissions", sa.Column("receipt_saved", sa.Boolean(), nullable=False,
                                                server_default=sa.false()))
    # Forms sent before this version were shown their receipt once only: count them saved.
    op.execute(sa.text("UPDATE sent_submissions SET receipt_saved = :yes").bindparams(yes=True))


def downgrade() -> None:
    op.execute("ALTER TABLE sent_submissions DROP COLUMN receipt_saved")
