"""an oral report's receipt is taken over by the reporter; how minutes were agreed

* cases.receipt_claimed_on / reporter_key_id: the handed-over receipt of an oral report is
  replaced by the reporter's own at its first use (cases.reporting.claim).
* cases.minutes_agreed_how / minutes_in_person_by_id: agreed by the reporter, or in person
  with a second caseworker as witness (cases.reporting.minutes). Minutes agreed before this version
  were agreed with a receipt the recorder also knew: they are marked "handed_receipt".

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("minutes_agreed_how", sa.String(16), nullable=True))
        batch.add_column(sa.Column("minutes_in_person_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("receipt_claimed_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("reporter_key_id", sa.String(16), nullable=True))
        batch.create_foreign_key(
            "fk_cases_minutes_in_person_by_id", "caseworkers", ["minutes_in_person_by_id"],
            ["id"], ondelete="SET NULL",
        )
    op.execute(
        "UPDATE cases SET minutes_agreed_how = 'handed_receipt'"
        " WHERE minutes_agreed_on IS NOT NULL"
    )


def downgrade() -> None:
    # Earlier versions expect one reporter key per case: keep the one now in use.
    op.execute(
        "DELETE FROM wrapped_keys WHERE holder_kind = 'REPORTER' AND EXISTS (SELECT 1 FROM"
        " cases WHERE cases.id = wrapped_keys.case_id AND cases.reporter_key_id IS NOT NULL"
        " AND cases.reporter_key_id <> wrapped_keys.id)"
    )
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_minutes_in_person_by_id", type_="foreignkey")
        batch.drop_column("reporter_key_id")
        batch.drop_column("receipt_claimed_on")
        batch.drop_column("minutes_in_person_by_id")
        batch.drop_column("minutes_agreed_how")
