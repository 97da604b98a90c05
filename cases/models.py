"""The case store's tables (SQLAlchemy 2.0 typed models).

Only workflow metadata is stored in the clear: statuses, dates, ids, category slugs,
assignment. Every piece of report content, message, note, file and file name, and the
reporter's identity, is a ciphertext column (``bytes``) made by ``crypto``.
Reporter-caused dates are ``Date`` (no time of day), per docs/ARCHITECTURE.md.

Nor may the *order* of rows tell the time of day of a reporter's action (it would place
the action between two audited caseworker actions). So the tables a reporter's action
writes have random primary keys, and on SQLite they are ``WITHOUT ROWID`` tables, stored in
the order of those keys rather than of insertion; messages are numbered within their case
only. What the databases' own bookkeeping keeps, and the nightly step that rewrites it, is
in ``cases.records.maintenance`` and docs/THREAT_MODEL.md ("Time of day").
"""

from __future__ import annotations

import datetime as dt
import secrets
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Select,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, load_only, mapped_column, relationship

from cases.db import Base


def new_id() -> str:
    """A random, unguessable identifier (64 bits): sequential ids would leak volumes and
    the order of writes."""
    return secrets.token_hex(8)


# Table options of every table a reporter's action writes: on SQLite, rows are stored in
# primary-key order, with no hidden rowid counting insertions (models docstring).
UNORDERED: dict[str, object] = {"sqlite_with_rowid": False}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class Status(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    TRIAGED = "triaged"
    INVESTIGATING = "investigating"
    CONCLUDED = "concluded"
    CLOSED = "closed"


class KeyPurpose(StrEnum):
    THREAD = "thread"  # report, attachments, messages both ways
    INTERNAL = "internal"  # notes, triage, risk assessment, conclusions
    IDENTITY = "identity"  # one identity record's key
    REQUEST = "request"  # the key of one identity request's reason (cases.casework.identity)


class HolderKind(StrEnum):
    CASEWORKER = "caseworker"
    REPORTER = "reporter"
    RECOVERY = "recovery"


class MessageKind(StrEnum):
    REPORT = "report"  # the original submission (thread key)
    REPORTER_MESSAGE = "reporter_message"  # thread key
    REPLY = "reply"  # caseworker to reporter (thread key)
    MINUTES = "minutes"  # oral report minutes for the reporter to check (thread key)
    NOTE = "note"  # internal key
    TRIAGE = "triage"  # internal key
    RISK = "risk"  # internal key
    CONCLUSION = "conclusion"  # internal key


READABLE_BY_REPORTER = frozenset(
    {MessageKind.REPORT, MessageKind.REPORTER_MESSAGE, MessageKind.REPLY, MessageKind.MINUTES}
)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The name and description in the reporters' other languages, JSON {lang: {field: text}}
    # (cases.localized); the columns above are in the instance's default language.
    translations: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    members: Mapped[list[CategoryMember]] = relationship(
        back_populates="category", cascade="all, delete-orphan"
    )


class CategoryMember(Base):
    """Caseworkers a category routes to: they receive the case keys on submission."""

    __tablename__ = "category_members"

    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True
    )
    caseworker_id: Mapped[int] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[Category] = relationship(back_populates="members")


class Question(Base):
    """An optional question the organisation asks on the report form."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(300))
    help_text: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default="text")  # text | textarea | choice
    choices: Mapped[str] = mapped_column(Text, default="")  # one per line, for "choice"
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Label, help text and choices in the other languages (cases.localized). An answer is
    # stored with the default language's label and choice, whatever the reporter read.
    translations: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")


class ReplyTemplate(Base):
    """A text an administrator wrote for caseworkers to start a message to a reporter from
    (an acknowledgement, a request for information), in one of the reporters' languages.
    The organisation's own words, not report data: stored in clear."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(24), default="other")
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


# Every mail notice a new account gets until its owner chooses (cases.notifications).
ALL_NOTICE_EVENTS = (
    "new_report,reporter_message,deadline_soon,deadline_passed,case_handed,case_removed,"
    "case_idle,identity_request,account_locked,audit_broken,recovery_used,maintenance_failed,"
    "cases_unheld"
)


class Caseworker(Base):
    __tablename__ = "caseworkers"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # What reporters may see (the report form's exclusion question) and colleagues see;
    # empty until someone chooses one: a username is a sign-in secret, never shown.
    display_name: Mapped[str] = mapped_column(String(200), default="")
    # A team reporters can exclude as a whole when the names are hidden (policy).
    team: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # The credentials exist once the account's owner has enrolled (cases.accounts.enrolment): they
    # choose the passphrase and their key pair is made then, so nobody else knows it.
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)
    # The instance key-signing key's signature on (this account's id, public_key):
    # nothing is wrapped to a public key without it (cases.keyring.Trust).
    key_certificate: Mapped[bytes | None] = mapped_column(LargeBinary(64), default=None)
    wrapped_private_key: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # Until then: a keyed hash of the one-time enrolment code, and when it stops working.
    enrolment_code_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)
    enrolment_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    # TOTP secret, encrypted under the instance server key (the server must read it to
    # verify codes, but a database leak alone does not yield it).
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    totp_last_counter: Mapped[int] = mapped_column(Integer, default=0)
    is_caseworker: Mapped[bool] = mapped_column(Boolean, default=True)
    is_custodian: Mapped[bool] = mapped_column(Boolean, default=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    language: Mapped[str] = mapped_column(String(8), default="en")
    # Mail notices (cases.notifications): where, which events, and whether as one daily
    # digest. Staff data, read only by the back office: the intake cannot read them.
    notice_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    notice_events: Mapped[str] = mapped_column(
        String(200), default=ALL_NOTICE_EVENTS, server_default=ALL_NOTICE_EVENTS
    )
    notice_daily: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    notice_digest_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    # An age recipient or an OpenPGP public key: notices are then encrypted to it
    # (config.mailcrypt). A public key, but kept from the intake like the address.
    notice_key: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def name(self) -> str:
        """How colleagues see this account in the back office."""
        return self.display_name or self.username

    @property
    def enrolled(self) -> bool:
        return self.public_key is not None and self.wrapped_private_key is not None


def public_accounts() -> Select[Caseworker]:
    """``select(Caseworker)`` of enrolled accounts, loading only what the intake may read of
    an account: who reports are routed to, the certified key to wrap to, the name reporters
    may see. The
    intake's database role can read no other column (deploy/postgresql/grants.sql), so a
    query that needs more fails there instead of quietly widening what it reads."""
    enrolled = Caseworker.public_key.is_not(None)
    return select(Caseworker).where(enrolled).options(
        load_only(
            Caseworker.id,
            Caseworker.display_name,
            Caseworker.team,
            Caseworker.public_key,
            Caseworker.key_certificate,
            Caseworker.is_caseworker,
            Caseworker.is_custodian,
            Caseworker.active,
            raiseload=True,
        )
    )


class AdminChange(Base):
    """A change to accounts or routing that one administrator asked for and a second must
    approve before it applies (cases.accounts.approvals): nobody can give themselves, or an account
    they control, access to what reporters send."""

    __tablename__ = "admin_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="CASCADE"), default=None
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), default=None
    )
    payload: Mapped[str] = mapped_column(Text, default="{}")
    requested_by: Mapped[int | None] = mapped_column(Integer, default=None)  # None: the CLI
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[int | None] = mapped_column(Integer, default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    caseworker_id: Mapped[int] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(200))
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class CaseworkerSession(Base):
    """Server half of a caseworker session: the private key wrapped under a key that
    lives only in the browser's cookie. Deleting the row ends the session for good."""

    __tablename__ = "caseworker_sessions"

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    caseworker_id: Mapped[int] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="CASCADE"), index=True
    )
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    stage: Mapped[str] = mapped_column(String(16), default="totp")  # totp | enrol | full
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # During TOTP enrolment: the proposed secret, encrypted under the server key, until the
    # caseworker proves their authenticator has it (then it moves to the account).
    pending_totp_enc: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # The WebAuthn challenge this session was last given (cases.accounts.security_keys):
    # used once, then cleared, so an answer cannot be replayed.
    webauthn_challenge: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class SecurityKey(Base):
    """A caseworker's WebAuthn security key (passkey), a second factor beside TOTP: the
    credential's id and public key, never anything secret."""

    __tablename__ = "security_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    caseworker_id: Mapped[int] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="CASCADE"), index=True
    )
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class ReporterSession(Base):
    """Server half of a reporter's follow-up session (reporter key split as above).

    It names no case: the reporter's cases are found from their key, which only the two
    halves together give. Only a date is kept: idle expiry is enforced from the signed
    cookie, and rows from before yesterday are swept (at each sign-in and by the daily
    ``sealbox purge``), so no time of day about a reporter reaches the disk."""

    __tablename__ = "reporter_sessions"
    __table_args__ = UNORDERED

    id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_on: Mapped[dt.date] = mapped_column(Date, default=today)


class SentSubmission(Base):
    """A report form already sent: the keyed digest of the submission id its review page
    carried (cases.reporting.resend), so a browser's resend of the same form stores no
    second case. It names no case; only the date is kept, and rows are deleted after
    ``RESEND_WINDOW_DAYS`` by the daily purge."""

    __tablename__ = "sent_submissions"
    __table_args__ = UNORDERED

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    sent_on: Mapped[dt.date] = mapped_column(Date, default=today)
    # The reporter said they saved the receipt: a resend no longer shows it again.
    receipt_saved: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # Also a status filter's whole keyset walk, the NULL phase included (cases.casework.inbox).
        Index("ix_cases_status_next_due", "status", "next_due_on", "id"),
        Index("ix_cases_category_status", "category_id", "status"),
        Index("ix_cases_assignee_status", "assignee_id", "status"),
        Index("ix_cases_received", "received_on", "id"),
        # The inbox's keyset sorts (cases.casework.inbox): each walks one of these in order.
        Index("ix_cases_due_id", "next_due_on", "id"),
        Index("ix_cases_priority_id", "priority", "id"),
        Index("ix_cases_activity_id", "reporter_activity_on", "id"),
        # The purge's walk over reviewed closures past retention, oldest first
        # (cases.records.retention), without reading the other closed cases.
        Index("ix_cases_status_closed", "status", "closed_on", "id"),
        # Deleting a case clears the links to it (ON DELETE SET NULL): without this each
        # purged case made PostgreSQL read every case. Few cases are linked.
        Index("ix_cases_linked_case_id", "linked_case_id",
              postgresql_where=text("linked_case_id IS NOT NULL"),
              sqlite_where=text("linked_case_id IS NOT NULL")),
        UNORDERED,
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_id)
    # The receipt's look-up hash: shared by a report and the retaliation reports made with
    # its receipt, so each stays reachable when another is purged.
    lookup_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    reporter_public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL")
    )
    channel: Mapped[str] = mapped_column(String(16), default="web")  # web | oral
    status: Mapped[Status] = mapped_column(
        SAEnum(Status, native_enum=False, length=16), default=Status.RECEIVED
    )
    priority: Mapped[int] = mapped_column(Integer, default=0)  # 0 unset, 1 low .. 3 high
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="SET NULL")
    )
    received_on: Mapped[dt.date] = mapped_column(Date, default=today)
    acknowledged_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    acknowledge_due_on: Mapped[dt.date] = mapped_column(Date)
    feedback_due_on: Mapped[dt.date] = mapped_column(Date)
    feedback_given_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    # The deadline currently running (acknowledgement, then feedback), for the inbox.
    next_due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    triaged_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    risk_assessed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    risk_review_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    concluded_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    legal_hold_reason: Mapped[str | None] = mapped_column(Text, default=None)
    linked_case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    reporter_activity_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    unread_by_caseworkers: Mapped[bool] = mapped_column(Boolean, default=True)
    minutes_agreed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    # How the current minutes were agreed (cases.reporting.minutes): "reporter" with the reporter's
    # own receipt, "in_person" recorded by one caseworker and witnessed by a second, or
    # "handed_receipt" (before receipts were taken over: the recorder knew that receipt).
    minutes_agreed_how: Mapped[str | None] = mapped_column(String(16), default=None)
    # A caseworker recorded an in-person agreement that waits for a second one's witness.
    minutes_in_person_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="SET NULL"), default=None
    )
    # An oral report's receipt is handed over by the caseworker who recorded it, so at its
    # first use the reporter is given one of their own (cases.reporting.claim): the date that
    # happened, and the reporter's wrapped thread key made then (the handed-over one's row
    # stays until the nightly purge deletes it: the intake role cannot delete keys).
    receipt_claimed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    reporter_key_id: Mapped[str | None] = mapped_column(String(16), default=None)
    # The last number given to a message or attachment of this case (cases.content), and
    # the head of the case's content chain over them (docs/CRYPTO.md): what the audit log
    # commits to, so a rewritten or removed item is found by `sealbox audit verify`.
    last_position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    content_head: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)
    # Who closed the case, and the second holder who reviewed that closure: retention
    # purges only a reviewed closure (cases.casework.holders), so no one person can make a case
    # disappear. Both are cleared when the case is reopened.
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="SET NULL"), default=None
    )
    closure_reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="SET NULL"), default=None
    )

    category: Mapped[Category | None] = relationship()
    labels: Mapped[list[CaseLabel]] = relationship(cascade="all, delete-orphan")


class CaseLabel(Base):
    __tablename__ = "case_labels"
    __table_args__ = UNORDERED

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class CaseLink(Base):
    """Two related cases (e.g. a retaliation report and its original), stored once with
    the smaller id first."""

    __tablename__ = "case_links"
    __table_args__ = UNORDERED

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    other_case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_on: Mapped[dt.date] = mapped_column(Date, default=today)


class CaseExclusion(Base):
    """A caseworker who must hold no key to a case: named by the reporter, or who
    declared a conflict of interest."""

    __tablename__ = "case_exclusions"
    __table_args__ = UNORDERED

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    caseworker_id: Mapped[int] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(String(32))  # reporter | conflict


class HolderRemoval(Base):
    """One holder asked to take another's keys to a case away; it applies when a second
    person agrees: another holder, or the one to be removed (cases.casework.holders)."""

    __tablename__ = "holder_removals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("caseworkers.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="CASCADE")
    )
    requested_on: Mapped[dt.date] = mapped_column(Date, default=today)


class Notice(Base):
    """Something a caseworker is told in the app the next time they look (cases.casework.notices):
    for example that they were removed from a case. ``values`` fills the message."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    caseworker_id: Mapped[int] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    values: Mapped[str] = mapped_column(Text, default="{}")
    created_on: Mapped[dt.date] = mapped_column(Date, default=today)


class OutgoingNotice(Base):
    """A mail notice waiting to be sent (cases.notifications): to whom and for what kind of
    event, never a case id or content. Written in the transaction of the event; deleted
    once sent. Notices about what a reporter did wait for the next batch (``not_before``),
    so the mail's time does not tell when the reporter acted."""

    __tablename__ = "notice_outbox"
    __table_args__ = UNORDERED

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_id)
    caseworker_id: Mapped[int] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(32))
    not_before: Mapped[dt.datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A drainer's claim (cases.notifications.claim): no two drainers send the same notice.
    claimed_by: Mapped[str | None] = mapped_column(String(16), default=None)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class DeadlineReminder(Base):
    """That a case's holders were told its deadline (``due_on``) is near or has passed
    (cases.notifications.deadlines), so each is told once per deadline and stage."""

    __tablename__ = "deadline_reminders"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    due_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    # "soon" or "passed" (due_on: the deadline); "quiet" or "unheld" (due_on: the day told)
    stage: Mapped[str] = mapped_column(String(8), primary_key=True)


THREAD_HOLDERS = "purpose = 'THREAD' AND holder_kind = 'CASEWORKER' AND record_id = ''"


class WrappedKey(Base):
    """One case key sealed to one holder. Deleting all of a case's rows crypto-shreds it."""

    __tablename__ = "wrapped_keys"
    __table_args__ = (
        UniqueConstraint("case_id", "purpose", "record_id", "holder_kind", "caseworker_id"),
        Index("ix_wrapped_keys_holder", "caseworker_id", "case_id"),
        # The inbox's access rule, "the caseworker holds the case's thread key", probed for
        # every case a page or its count visits: a fifth of the unique index's size, so
        # it stays in memory at a million cases (bench/bench_scale.py; PostgreSQL uses it,
        # SQLite's planner does not match bound values against the condition).
        Index("ix_wrapped_keys_thread_holders", "case_id", "caseworker_id",
              postgresql_where=text(THREAD_HOLDERS), sqlite_where=text(THREAD_HOLDERS)),
        UNORDERED,
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[KeyPurpose] = mapped_column(SAEnum(KeyPurpose, native_enum=False, length=16))
    record_id: Mapped[str] = mapped_column(String(16), default="")  # identity record, else ""
    holder_kind: Mapped[HolderKind] = mapped_column(
        SAEnum(HolderKind, native_enum=False, length=16)
    )
    caseworker_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="CASCADE")
    )
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)


class Message(Base):
    """Any encrypted text item of a case; ``kind`` says which key and who may read it.

    ``position`` orders a case's messages (1, 2, 3...) and nothing else: no number runs
    across cases, so a message's place says nothing of other cases' audited writes."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("case_id", "position"), UNORDERED)

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[MessageKind] = mapped_column(SAEnum(MessageKind, native_enum=False, length=24))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("caseworkers.id", ondelete="SET NULL"))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)  # content
    created_on: Mapped[dt.date] = mapped_column(Date, default=today)


class IdentityRecord(Base):
    """The reporter's optional identity/contact details, each sealed with its own key
    that only identity custodians and the recovery key hold."""

    __tablename__ = "identity_records"
    __table_args__ = UNORDERED

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_on: Mapped[dt.date] = mapped_column(Date, default=today)


class IdentityRequest(Base):
    __tablename__ = "identity_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("caseworkers.id", ondelete="CASCADE"))
    reason_enc: Mapped[bytes] = mapped_column(LargeBinary)  # internal key
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|denied
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("caseworkers.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_case_position", "case_id", "position", unique=True),
        UNORDERED,
    )

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str | None] = mapped_column(String(16), default=None)
    # Name, declared type and size, encrypted under the thread key.
    meta_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # The file's own stream key, encrypted under the thread key.
    file_key_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext_size: Mapped[int] = mapped_column(Integer)
    # Numbered with the case's messages; the content digest of the blob's ciphertext, the
    # metadata and the file key ciphertexts (docs/CRYPTO.md).
    position: Mapped[int | None] = mapped_column(Integer, default=None)
    digest: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)
    from_reporter: Mapped[bool] = mapped_column(Boolean, default=True)
    # A file of an internal note: its name and key under the internal key, which the
    # reporter never holds; never listed, nor served, to the reporter.
    internal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_on: Mapped[dt.date] = mapped_column(Date, default=today)


class BlobChunk(Base):
    """Attachment ciphertext kept in the database (``attachment_storage = "database"``),
    in order, so every app host sees it through the one replicated database."""

    __tablename__ = "blob_chunks"
    __table_args__ = UNORDERED

    blob_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class StagedFile(Base):
    """A file the reporter's browser is sealing and sending in pieces, before the report it
    belongs to (cases.reporting.staged_files). Its ciphertext is staged in the blob store
    under this id, which becomes the attachment's; the row goes when the report is stored,
    or with the daily purge once it is older than a day. Only the date is kept."""

    __tablename__ = "staged_files"
    __table_args__ = UNORDERED

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    # BLAKE2b of the upload token only the sending page knows: nobody else adds pieces.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    pieces: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_on: Mapped[dt.date] = mapped_column(Date, default=today)


class InstancePolicy(Base):
    """Administrator-set policy that overrides the file settings (deadlines, retention)."""

    __tablename__ = "instance_policy"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer)  # no FK: entries outlive accounts
    action: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[str | None] = mapped_column(String(16), index=True)  # no FK: outlives purge
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """A single row locked while appending, so concurrent writers never fork the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
