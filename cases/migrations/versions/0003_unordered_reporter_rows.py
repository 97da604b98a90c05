"""rows a reporter writes keep no order of insertion; sessions name no case; one look-up
hash for a report and its retaliation reports

* messages: numbered per case (``position``) instead of one counter across all cases
  (``seq``), so a message's number says nothing about other cases' audited writes;
* wrapped_keys: random ids instead of a counter;
* on SQLite, every table a reporter's action writes becomes a WITHOUT ROWID table, stored
  in the order of its random primary key, not of insertion (cases.models);
* reporter_sessions: no case id (the reporter's cases are found from their key);
* cases: the look-up hash is no longer unique (a retaliation report carries its report's,
  so it stays reachable once the report is purged), and the reporter's public key is
  indexed; ``last_position`` counts each case's messages.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.schema import SchemaItem
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYPURPOSE = sa.Enum(
    "THREAD", "INTERNAL", "IDENTITY", "REQUEST", name="keypurpose", native_enum=False, length=16
)
HOLDERKIND = sa.Enum(
    "CASEWORKER", "REPORTER", "RECOVERY", name="holderkind", native_enum=False, length=16
)
MESSAGEKIND = sa.Enum(
    "REPORT", "REPORTER_MESSAGE", "REPLY", "MINUTES", "NOTE", "TRIAGE", "RISK", "CONCLUSION",
    name="messagekind", native_enum=False, length=24,
)


def _case_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _random_id() -> str:
    """SQL for a fresh random 16-hex-digit id on either database."""
    if _sqlite():
        return "lower(hex(randomblob(8)))"
    return "substr(replace(gen_random_uuid()::text, '-', ''), 1, 16)"


def _swap(
    name: str,
    columns: Callable[[], list[SchemaItem]],
    select: str,
    indexes: Sequence[tuple[str, list[str], bool]] = (),
    *,
    unordered: bool,
) -> None:
    """Rebuild ``name`` as ``columns`` from ``select`` (which reads the old table)."""
    new = f"_new_{name}"
    kwargs = {"sqlite_with_rowid": False} if unordered else {}
    table = op.create_table(new, *columns(), **kwargs)
    names = ", ".join(c.name for c in table.columns)
    op.execute(f"INSERT INTO {new} ({names}) {select}")
    op.drop_table(name)
    op.rename_table(new, name)
    if not _sqlite():  # names PostgreSQL gave the constraints of the new table
        for old_name, fixed in _pg_constraint_names(new, name):
            op.execute(f'ALTER TABLE {name} RENAME CONSTRAINT "{old_name}" TO "{fixed}"')
    for index, cols, unique in indexes:
        op.create_index(index, name, cols, unique=unique)


def _pg_constraint_names(new: str, name: str) -> list[tuple[str, str]]:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"
        ),
        {"t": name},
    )
    return [(c, name + c[len(new):]) for (c,) in rows if c.startswith(new)]


# -- the new shapes -----------------------------------------------------------------------


def _messages() -> list[SchemaItem]:
    return [
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("case_id", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", MESSAGEKIND, nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["caseworkers.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "position"),
    ]


def _wrapped_keys() -> list[SchemaItem]:
    return [
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("case_id", sa.String(16), nullable=False),
        sa.Column("purpose", KEYPURPOSE, nullable=False),
        sa.Column("record_id", sa.String(16), nullable=False),
        sa.Column("holder_kind", HOLDERKIND, nullable=False),
        sa.Column("caseworker_id", sa.Integer(), nullable=True),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["caseworker_id"], ["caseworkers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "purpose", "record_id", "holder_kind", "caseworker_id"),
    ]


def _reporter_sessions() -> list[SchemaItem]:
    return [
        sa.Column("id_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    ]


def _attachments() -> list[SchemaItem]:
    return [
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("case_id", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(16), nullable=True),
        sa.Column("meta_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("file_key_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext_size", sa.Integer(), nullable=False),
        sa.Column("from_reporter", sa.Boolean(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        _case_fk(),
        sa.PrimaryKeyConstraint("id"),
    ]


def _case_exclusions() -> list[SchemaItem]:
    return [
        sa.Column("case_id", sa.String(16), nullable=False),
        sa.Column("caseworker_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        _case_fk(),
        sa.ForeignKeyConstraint(["caseworker_id"], ["caseworkers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "caseworker_id"),
    ]


def _case_labels() -> list[SchemaItem]:
    return [
        sa.Column("case_id", sa.String(16), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        _case_fk(),
        sa.PrimaryKeyConstraint("case_id", "label"),
    ]


def _case_links() -> list[SchemaItem]:
    return [
        sa.Column("case_id", sa.String(16), nullable=False),
        sa.Column("other_case_id", sa.String(16), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        _case_fk(),
        sa.ForeignKeyConstraint(["other_case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "other_case_id"),
    ]


def _identity_records() -> list[SchemaItem]:
    return [
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("case_id", sa.String(16), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        _case_fk(),
        sa.PrimaryKeyConstraint("id"),
    ]


def _blob_chunks() -> list[SchemaItem]:
    return [
        sa.Column("blob_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("blob_id", "position"),
    ]


def _cases() -> list[SchemaItem]:
    """SQLite only (PostgreSQL alters the table in place: other tables reference it)."""
    return [
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("lookup_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("reporter_public_key", sa.LargeBinary(32), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column(
            "status",
            sa.Enum("RECEIVED", "ACKNOWLEDGED", "TRIAGED", "INVESTIGATING", "CONCLUDED",
                    "CLOSED", name="status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("acknowledged_on", sa.Date(), nullable=True),
        sa.Column("acknowledge_due_on", sa.Date(), nullable=False),
        sa.Column("feedback_due_on", sa.Date(), nullable=False),
        sa.Column("feedback_given_on", sa.Date(), nullable=True),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("triaged_on", sa.Date(), nullable=True),
        sa.Column("risk_assessed_on", sa.Date(), nullable=True),
        sa.Column("risk_review_on", sa.Date(), nullable=True),
        sa.Column("concluded_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("legal_hold_reason", sa.Text(), nullable=True),
        sa.Column("linked_case_id", sa.String(16), nullable=True),
        sa.Column("reporter_activity_on", sa.Date(), nullable=True),
        sa.Column("unread_by_caseworkers", sa.Boolean(), nullable=False),
        sa.Column("minutes_agreed_on", sa.Date(), nullable=True),
        sa.Column("last_position", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["assignee_id"], ["caseworkers.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["linked_case_id"], ["cases.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    ]


CASE_INDEXES = [
    ("ix_cases_activity_id", ["reporter_activity_on", "id"], False),
    ("ix_cases_assignee_status", ["assignee_id", "status"], False),
    ("ix_cases_category_status", ["category_id", "status"], False),
    ("ix_cases_due_id", ["next_due_on", "id"], False),
    ("ix_cases_next_due_on", ["next_due_on"], False),
    ("ix_cases_priority_id", ["priority", "id"], False),
    ("ix_cases_received", ["received_on", "id"], False),
    ("ix_cases_status_next_due", ["status", "next_due_on", "id"], False),
]
CASE_COLUMNS = (
    "id, lookup_hash, reporter_public_key, category_id, channel, status, priority, "
    "assignee_id, received_on, acknowledged_on, acknowledge_due_on, feedback_due_on, "
    "feedback_given_on, next_due_on, triaged_on, risk_assessed_on, risk_review_on, "
    "concluded_on, closed_on, outcome, legal_hold_reason, linked_case_id, "
    "reporter_activity_on, unread_by_caseworkers, minutes_agreed_on"
)
PLAIN_SWAPS: list[tuple[str, Callable[[], list[SchemaItem]], str, list[tuple[str, list[str], bool]]]] = [
    ("attachments", _attachments, "*", [("ix_attachments_case_id", ["case_id"], False)]),
    ("case_exclusions", _case_exclusions, "*", []),
    ("case_labels", _case_labels, "*", [("ix_case_labels_label", ["label"], False)]),
    ("case_links", _case_links, "*", [("ix_case_links_other_case_id", ["other_case_id"], False)]),
    ("identity_records", _identity_records, "*",
     [("ix_identity_records_case_id", ["case_id"], False)]),
    ("blob_chunks", _blob_chunks, "*", []),
]


def upgrade() -> None:
    # Each message's number within its case, in the order the old counter gave.
    _swap(
        "messages",
        _messages,
        "SELECT id, case_id, (SELECT count(*) FROM messages AS m2 WHERE m2.case_id ="
        " messages.case_id AND m2.seq <= messages.seq), kind, author_id, ciphertext,"
        " created_on FROM messages",
        unordered=True,
    )
    _swap(
        "wrapped_keys",
        _wrapped_keys,
        f"SELECT {_random_id()}, case_id, purpose, record_id, holder_kind, caseworker_id,"
        " wrapped FROM wrapped_keys",
        [("ix_wrapped_keys_case_id", ["case_id"], False),
         ("ix_wrapped_keys_holder", ["caseworker_id", "case_id"], False)],
        unordered=True,
    )
    _swap(
        "reporter_sessions",
        _reporter_sessions,
        "SELECT id_hash, wrapped_key, created_on FROM reporter_sessions",
        unordered=True,
    )
    # A retaliation report shares its report's look-up hash (it had none of its own).
    last = "(SELECT coalesce(max(position), 0) FROM messages WHERE messages.case_id = cases.id)"
    if _sqlite():
        for name, columns, select, indexes in PLAIN_SWAPS:
            _swap(name, columns, f"SELECT {select} FROM {name}", indexes, unordered=True)
        _swap(
            "cases",
            _cases,
            f"SELECT {CASE_COLUMNS}, {last} FROM cases",
            [*CASE_INDEXES, ("ix_cases_lookup_hash", ["lookup_hash"], False),
             ("ix_cases_reporter_public_key", ["reporter_public_key"], False)],
            unordered=True,
        )
    else:
        op.drop_constraint("cases_lookup_hash_key", "cases", type_="unique")
        op.add_column(
            "cases", sa.Column("last_position", sa.Integer(), server_default="0", nullable=False)
        )
        op.execute(f"UPDATE cases SET last_position = {last}")
        op.create_index("ix_cases_lookup_hash", "cases", ["lookup_hash"])
        op.create_index("ix_cases_reporter_public_key", "cases", ["reporter_public_key"])
    op.execute(
        "UPDATE cases SET lookup_hash = (SELECT o.lookup_hash FROM cases AS o"
        " WHERE o.id = cases.linked_case_id) WHERE lookup_hash IS NULL"
        " AND linked_case_id IS NOT NULL"
    )


# -- back to 0002 -------------------------------------------------------------------------


def _old_messages() -> list[SchemaItem]:
    return [
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("case_id", sa.String(16), nullable=False),
        sa.Column("kind", MESSAGEKIND, nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["caseworkers.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    ]


def _old_wrapped_keys() -> list[SchemaItem]:
    columns = _wrapped_keys()
    columns[0] = sa.Column("id", sa.Integer(), nullable=False)
    return columns


def _old_reporter_sessions() -> list[SchemaItem]:
    return [
        sa.Column("id_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("case_id", sa.String(16), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        _case_fk(),
        sa.PrimaryKeyConstraint("id_hash"),
    ]


def _old_cases() -> list[SchemaItem]:
    columns = [c for c in _cases() if getattr(c, "name", None) != "last_position"]
    return [*columns, sa.UniqueConstraint("lookup_hash")]


def downgrade() -> None:
    # Only the report itself had a look-up hash; its retaliation reports none.
    op.execute(
        "UPDATE cases SET lookup_hash = NULL WHERE linked_case_id IS NOT NULL AND lookup_hash"
        " IN (SELECT o.lookup_hash FROM cases AS o WHERE o.id = cases.linked_case_id)"
    )
    # One global counter again: cases one after another, each in its own order.
    _swap(
        "messages",
        _old_messages,
        "SELECT (SELECT count(*) FROM messages AS m2 WHERE m2.case_id < messages.case_id"
        " OR (m2.case_id = messages.case_id AND m2.position <= messages.position)), id,"
        " case_id, kind, author_id, ciphertext, created_on FROM messages",
        [("ix_messages_case_seq", ["case_id", "seq"], False)],
        unordered=False,
    )
    _swap(
        "wrapped_keys",
        _old_wrapped_keys,
        "SELECT (SELECT count(*) FROM wrapped_keys AS w2 WHERE w2.id <= wrapped_keys.id),"
        " case_id, purpose, record_id, holder_kind, caseworker_id, wrapped FROM wrapped_keys",
        [("ix_wrapped_keys_case_id", ["case_id"], False),
         ("ix_wrapped_keys_holder", ["caseworker_id", "case_id"], False)],
        unordered=False,
    )
    # Sessions cannot name their case again: every follow-up session ends.
    op.execute("DELETE FROM reporter_sessions")
    _swap(
        "reporter_sessions",
        _old_reporter_sessions,
        "SELECT id_hash, '', wrapped_key, created_on FROM reporter_sessions",
        [("ix_reporter_sessions_case_id", ["case_id"], False)],
        unordered=False,
    )
    if _sqlite():
        for name, columns, select, indexes in PLAIN_SWAPS:
            _swap(name, columns, f"SELECT {select} FROM {name}", indexes, unordered=False)
        _swap("cases", _old_cases, f"SELECT {CASE_COLUMNS} FROM cases", CASE_INDEXES,
              unordered=False)
    else:
        op.drop_index("ix_cases_reporter_public_key", "cases")
        op.drop_index("ix_cases_lookup_hash", "cases")
        op.drop_column("cases", "last_position")
        op.create_unique_constraint("cases_lookup_hash_key", "cases", ["lookup_hash"])
