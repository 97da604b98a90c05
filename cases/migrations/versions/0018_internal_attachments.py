"""files attached to internal notes (cases.casework.writing.add_note): attachments.internal,
whose name and key are sealed under the internal key and never shown to the reporter

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (no batch rebuild, which would lose WITHOUT ROWID: revision 0003).
    op.add_column("attachments", sa.Column("internal", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))


def downgrade() -> None:
    # Files of internal notes would be listed to the reporter by the older code: gone first.
    # (Their ciphertext goes with them; in a folder store the purge sweeps it as orphaned.)
    op.execute("DELETE FROM blob_chunks WHERE blob_id IN "
               "(SELECT id FROM attachments WHERE internal)")
    op.execute("DELETE FROM attachments WHERE internal")
    op.execute("ALTER TABLE attachments DROP COLUMN internal")
