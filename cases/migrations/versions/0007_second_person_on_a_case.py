"""a second person for what could make a case disappear

* cases.closed_by_id / closure_reviewed_by_id: retention purges only a closure that a
  second holder reviewed. Cases closed before this version keep no reviewer, so they wait
  for one; their closer is taken from the audit log.
* holder_removals: removing another holder waits for a second person's agreement.
* notices: what a caseworker is told in the app (for example, removed from a case).

Revision ID: 0007
Revises: 0006
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("closure_reviewed_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_cases_closed_by_id", "caseworkers", ["closed_by_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_foreign_key(
            "fk_cases_closure_reviewed_by_id", "caseworkers", ["closure_reviewed_by_id"], ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "holder_removals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["target_id"], ["caseworkers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by_id"], ["caseworkers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_holder_removals_case_id", "holder_removals", ["case_id"])
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caseworker_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("values", sa.Text(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["caseworker_id"], ["caseworkers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notices_caseworker_id", "notices", ["caseworker_id"])
    _closers_from_the_audit_log()


def _closers_from_the_audit_log() -> None:
    """The closer of each closed case is the actor of its last change to "closed"."""
    bind = op.get_bind()
    # The enum column stores the member's name; either spelling is taken, to be safe.
    query = sa.text("SELECT id FROM cases WHERE status IN ('CLOSED', 'closed')")
    closed = {row[0] for row in bind.execute(query)}
    if not closed:
        return
    closer: dict[str, int | None] = {}
    entries = bind.execute(sa.text(
        "SELECT case_id, actor_id, detail FROM audit_log "
        "WHERE action = 'case.status_changed' ORDER BY id"
    ))
    for case_id, actor_id, detail in entries:
        if case_id in closed and json.loads(detail or "{}").get("to") == "closed":
            closer[case_id] = actor_id
    for case_id, actor_id in closer.items():
        if actor_id is not None:
            bind.execute(sa.text("UPDATE cases SET closed_by_id = :a WHERE id = :c"),
                         {"a": actor_id, "c": case_id})


def downgrade() -> None:
    op.drop_index("ix_notices_caseworker_id", "notices")
    op.drop_table("notices")
    op.drop_index("ix_holder_removals_case_id", "holder_removals")
    op.drop_table("holder_removals")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_closure_reviewed_by_id", type_="foreignkey")
        batch.drop_constraint("fk_cases_closed_by_id", type_="foreignkey")
        batch.drop_column("closure_reviewed_by_id")
        batch.drop_column("closed_by_id")
