"""categories and questions in each of the reporters' languages: a translations column
(cases.localized)

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("categories", "questions"):
        op.add_column(table, sa.Column("translations", sa.Text(), nullable=False,
                                       server_default="{}"))


def downgrade() -> None:
    for table in ("categories", "questions"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN translations")
