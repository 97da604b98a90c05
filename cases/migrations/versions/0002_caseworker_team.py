"""caseworker teams; display names no longer copied from usernames

Reporters may exclude caseworkers from a report by display name, or by team when an
administrator hides the names. Accounts made before this revision got their username as
display name when none was given, which showed usernames on the public report form: those
copies are cleared (an administrator gives such accounts a display name, and the accounts
page says how many have none).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("caseworkers") as batch:
        batch.add_column(sa.Column("team", sa.String(length=64), server_default="", nullable=False))
    op.execute("UPDATE caseworkers SET display_name = '' WHERE display_name = username")


def downgrade() -> None:
    op.execute("UPDATE caseworkers SET display_name = username WHERE display_name = ''")
    with op.batch_alter_table("caseworkers") as batch:
        batch.drop_column("team")
