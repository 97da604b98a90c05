"""accounts are enrolled by their owners; account and routing changes need a second admin

* caseworkers: the credentials (password hash, key pair) are empty until the owner enrols
  with a one-time code and chooses the passphrase; the code's keyed hash and expiry.
* admin_changes: changes one administrator asked for and a second must approve.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("caseworkers") as batch:
        batch.alter_column("password_hash", existing_type=sa.String(200), nullable=True)
        batch.alter_column("public_key", existing_type=sa.LargeBinary(32), nullable=True)
        batch.alter_column("wrapped_private_key", existing_type=sa.LargeBinary(), nullable=True)
        batch.add_column(sa.Column("enrolment_code_hash", sa.LargeBinary(32), nullable=True))
        batch.add_column(sa.Column("enrolment_expires_at", sa.DateTime(), nullable=True))
    op.create_table(
        "admin_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["target_id"], ["caseworkers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_admin_changes_state", "admin_changes", ["state"])


def downgrade() -> None:
    op.drop_index("ix_admin_changes_state", "admin_changes")
    op.drop_table("admin_changes")
    # Accounts still waiting for their owner cannot exist without credentials.
    op.execute("DELETE FROM caseworkers WHERE public_key IS NULL OR password_hash IS NULL")
    with op.batch_alter_table("caseworkers") as batch:
        batch.drop_column("enrolment_expires_at")
        batch.drop_column("enrolment_code_hash")
        batch.alter_column("wrapped_private_key", existing_type=sa.LargeBinary(), nullable=False)
        batch.alter_column("public_key", existing_type=sa.LargeBinary(32), nullable=False)
        batch.alter_column("password_hash", existing_type=sa.String(200), nullable=False)
