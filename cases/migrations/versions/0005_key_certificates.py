"""caseworker public keys carry the instance's certificate

Case keys are wrapped only to a caseworker key certified by the instance's key-signing
key (cases.keyring.Trust). Accounts made before this revision get their certificate from
``Store.migrate`` (the operator's upgrade vouches for the keys the database holds then:
docs/THREAT_MODEL.md says how to check them).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "caseworkers", sa.Column("key_certificate", sa.LargeBinary(length=64), nullable=True)
    )


def downgrade() -> None:
    op.execute("ALTER TABLE caseworkers DROP COLUMN key_certificate")
