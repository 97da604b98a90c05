"""the audit log commits to content: digests and per-case content chains

Messages and attachments get the content digest of what is stored, attachments a number
among their case's items, and cases the head of their content chain (cases.records.integrity,
docs/CRYPTO.md). The digests of existing rows need the attachment blobs, which only the
running instance can read: ``Store.migrate`` fills them in after this revision
(``cases.records.integrity.backfill_content``) and commits each case's head to the audit log.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("digest", sa.LargeBinary(length=32), nullable=True))
    op.add_column("attachments", sa.Column("position", sa.Integer(), nullable=True))
    op.add_column("attachments", sa.Column("digest", sa.LargeBinary(length=32), nullable=True))
    op.create_index(
        "ix_attachments_case_position", "attachments", ["case_id", "position"], unique=True
    )
    op.add_column("cases", sa.Column("content_head", sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:
    # Attachments were not numbered before: give the numbers back to the messages alone.
    op.execute(
        "UPDATE cases SET last_position = (SELECT coalesce(max(position), 0) FROM messages"
        " WHERE messages.case_id = cases.id)"
    )
    op.drop_index("ix_attachments_case_position", "attachments")
    # Plain DROP COLUMN (SQLite 3.35 and later, PostgreSQL): a batch rebuild would lose
    # the tables' WITHOUT ROWID (revision 0003).
    for table, column in (
        ("cases", "content_head"),
        ("attachments", "digest"),
        ("attachments", "position"),
        ("messages", "digest"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
