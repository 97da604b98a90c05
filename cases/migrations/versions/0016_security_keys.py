"""WebAuthn security keys as a second factor (cases.accounts.security_keys): the
security_keys table and the session's one-time challenge

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "security_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("caseworker_id", sa.Integer(),
                  sa.ForeignKey("caseworkers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(1023), nullable=False, unique=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_security_keys_caseworker_id", "security_keys", ["caseworker_id"])
    op.add_column("caseworker_sessions",
                  sa.Column("webauthn_challenge", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE caseworker_sessions DROP COLUMN webauthn_challenge")
    op.drop_index("ix_security_keys_caseworker_id", table_name="security_keys")
    op.drop_table("security_keys")
