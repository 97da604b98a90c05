"""The rows of a large PostgreSQL instance, in the product's own formats, for
``bench.bench_scale``: the cases, wrapped keys and labels of ``bench.bench_inbox``, plus
each case's messages sealed as ``cases.content.add_message`` seals them (AEAD under a key
of the case, bound to the case, kind and message id), numbered and chained as
``cases.content.append_content`` chains them, and an audit log whose entries commit to
the cases' content and are hash-chained as ``cases.records.audit.record`` chains them. So
``sealbox audit verify`` checks the whole instance and finds it intact, and the purge deletes
real rows. Every closed case has a reviewed closure (the steady state the purge works in).

Loaded by COPY, a chunk of cases per transaction, with the per-row foreign-key triggers
off (the rows are consistent by construction).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.bench_inbox import CASE_COLUMNS, KEY_COLUMNS, Row, each_case

CHUNK = 5_000  # cases per COPY transaction
SCALE_CASE_COLUMNS = (*CASE_COLUMNS, "last_position", "content_head", "closed_by_id",
                      "closure_reviewed_by_id")
MESSAGE_COLUMNS = ("id", "case_id", "position", "kind", "author_id", "ciphertext", "digest",
                   "created_on")
AUDIT_COLUMNS = ("id", "at", "actor_id", "action", "case_id", "detail", "prev_hash",
                 "entry_hash")
SENTENCE = ("the invoice was approved twice by the same manager before the contract was signed "
         "and the supplier is owned by his brother in law according to the register we "
         "were told not to ask about the payments made in cash at the end of each quarter "
         "when the auditors had left and the accounts were closed")


@dataclass
class Loaded:
    """What was written, and the closing dates of the closures the purge may delete."""

    rows: Counter[str] = field(default_factory=Counter)
    closures: Counter[dt.date] = field(default_factory=Counter)
    audit_head: tuple[int, bytes] = (0, bytes(32))


class Sealer:
    """A case's messages, sealed, numbered and chained, and its audit entries."""

    def __init__(self, seed: int, mean_messages: int, audit_head: tuple[int, bytes]) -> None:
        self.rng = random.Random(seed)
        self.mean = mean_messages
        self.audit_id, self.audit_hash = audit_head  # after the entries the team's set-up wrote
        words = SENTENCE.split()
        self.text = " ".join(self.rng.choice(words) for _ in range(4000))

    def _body(self, size: int) -> bytes:
        from cases.content import message_plaintext

        start = self.rng.randrange(len(self.text) - size)
        return message_plaintext({"text": self.text[start:start + size]})

    def messages(self, case: Row, holders: list[int], today: dt.date
                 ) -> tuple[list[Row], int, bytes]:
        """The case's messages, and its last position and content head."""
        from cases.content import CONTENT_GENESIS, message_context
        from cases.models import MessageKind, new_id
        from crypto import content_digest, content_link, encrypt_record, new_key

        case_id, received = case[0], case[8]
        thread, internal = new_key(), new_key()
        count = self.rng.randint(1, 2 * self.mean - 1)
        span = max(0, (today - received).days)
        head, rows = CONTENT_GENESIS, []
        for position in range(1, count + 1):
            kind = MessageKind.REPORT if position == 1 else self.rng.choice(
                (MessageKind.REPORTER_MESSAGE, MessageKind.REPLY, MessageKind.REPLY,
                 MessageKind.NOTE))
            author = None if kind in (MessageKind.REPORT, MessageKind.REPORTER_MESSAGE) \
                else self.rng.choice(holders)
            key = internal if kind is MessageKind.NOTE else thread
            size = 1500 if kind is MessageKind.REPORT else self.rng.randint(100, 700)
            message_id = new_id()
            sealed = encrypt_record(key, self._body(size),
                                    message_context(case_id, kind, message_id))
            digest = content_digest(sealed)
            head = content_link(head, position, message_id, digest)
            on = received + dt.timedelta(days=self.rng.randint(0, span) if position > 1 else 0)
            rows.append((message_id, case_id, position, kind.name, author, sealed, digest, on))
        return rows, count, head

    def audit(self, case_id: str, holders: list[int], on: dt.date, count: int, head: bytes
              ) -> list[Row]:
        """Caseworkers' entries about the case (one to five), each committing to its content."""
        import json

        from cases.records.audit import _canonical
        from crypto import chain_digest

        detail = json.dumps({"content": f"{count}:{head.hex()}"}, sort_keys=True,
                            separators=(",", ":"))
        rows = []
        for _ in range(self.rng.randint(1, 5)):
            self.audit_id += 1
            at = dt.datetime.combine(on, dt.time(self.rng.randrange(24), self.rng.randrange(60)))
            actor = self.rng.choice(holders)
            entry_hash = chain_digest(
                self.audit_hash, _canonical(self.audit_id, at, actor, "case.viewed", case_id,
                                            detail))
            rows.append((self.audit_id, at, actor, "case.viewed", case_id, detail,
                         self.audit_hash, entry_hash))
            self.audit_hash = entry_hash
        return rows


def _holders(keys: list[Row]) -> list[int]:
    return sorted({row[4] for row in keys if row[4] is not None})


def chunks(n: int, today: dt.date, ids: list[int], routes: dict[int, list[int]],
           mean_messages: int, loaded: Loaded) -> Iterator[dict[str, list[Row]]]:
    """The rows of ``CHUNK`` cases at a time, by table."""
    sealer = Sealer(seed=5, mean_messages=mean_messages, audit_head=loaded.audit_head)
    key_ids = random.Random(11)
    tables: dict[str, list[Row]] = {"cases": [], "wrapped_keys": [], "case_labels": [],
                                    "messages": [], "audit_log": []}
    for case, keys, labels in each_case(n, today, ids, routes, seed=7):
        holders = _holders(keys)
        messages, count, head = sealer.messages(case, holders, today)
        status, closed_on, hold = case[5], case[18], case[20]
        closer = reviewer = None
        if status == "CLOSED":
            closer, reviewer = sealer.rng.sample(ids, 2)
            if hold is None:
                loaded.closures[closed_on] += 1
        tables["cases"].append((*case, count, head, closer, reviewer))
        tables["wrapped_keys"] += [(key_ids.randbytes(8).hex(), *row) for row in keys]
        tables["case_labels"] += labels
        tables["messages"] += messages
        tables["audit_log"] += sealer.audit(case[0], holders, case[22], count, head)
        if len(tables["cases"]) == CHUNK:
            yield tables
            tables = {name: [] for name in tables}
    if tables["cases"]:
        yield tables
    loaded.audit_head = (sealer.audit_id, sealer.audit_hash)


COLUMNS = {"cases": SCALE_CASE_COLUMNS, "wrapped_keys": KEY_COLUMNS,
           "case_labels": ("case_id", "label"), "messages": MESSAGE_COLUMNS,
           "audit_log": AUDIT_COLUMNS}


def load(store: Any, n: int, today: dt.date, ids: list[int], routes: dict[int, list[int]],
         mean_messages: int, progress: Any = print) -> Loaded:
    """Every table by COPY, ``CHUNK`` cases per transaction, then the audit head."""
    from cases.records.audit import current_head

    with store.transaction() as session:
        loaded = Loaded(audit_head=current_head(session))
    for number, tables in enumerate(chunks(n, today, ids, routes, mean_messages, loaded)):
        with store.engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            cursor = conn.connection.driver_connection.cursor()
            for table, rows in tables.items():
                names = ", ".join(COLUMNS[table])
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                loaded.rows[table] += len(rows)
        if number % 20 == 19:
            progress(f"  {loaded.rows['cases']:,} cases loaded")
    last_id, last_hash = loaded.audit_head
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_head SET last_id = %s, last_hash = %s",
                             (last_id, last_hash))
    return loaded
