"""Opening a case in the caseworker app, against the bare decryption it needs.

    .venv/bin/python -m bench.bench_case_open [--quick] [--database both|sqlite|postgres]
                                              [--views 30]

The case is made by the product's own code: a 2 KB report with 10 attachments submitted
through ``cases.reporting.submission.new_submission`` (routed to the benchmark's caseworker), then
acknowledged with a message, triaged, risk-assessed and put under investigation with
``cases.casework``, and filled up to 50 messages of every kind (reporter messages, replies,
internal notes) of realistic length. The caseworker signs in with passphrase and TOTP
(Flask test client, in process) and opens ``/cases/<id>`` again and again.

Baseline, timed in the same run: the same cryptography in a bare loop, on the same
ciphertexts, without Flask, SQL or templates: joining the split session key, unwrapping the
thread and internal keys (sealed boxes), and ``decrypt_record`` for the 50 messages and the
10 attachments' metadata. Reported: page time / bare time, and where the rest goes: a
pyinstrument profile of the views, its time split into libsodium, database (SQLAlchemy and
the driver), template rendering and everything else (Flask, forms, ORM objects, JSON...).
No target was set (issue 7, part 4); the ratio is what to watch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from bench import _caseworker
from bench._common import machine, print_machine, save
from bench._server import Instance, instance

MESSAGES = 50
ATTACHMENTS = 10
SENTENCE = ("On the 14th the regional director met the supplier again; the minutes of the "
            "tender board do not mention it, and the invoice was approved the same week. ")


def text(n: int) -> str:
    return (SENTENCE * (n // len(SENTENCE) + 1))[:n]


def make_case(
    store: Any, reader_id: int, messages: int = MESSAGES, attachments: int = ATTACHMENTS
) -> str:
    """A case as the product makes one, with 50 messages and 10 attachments."""
    from cases.accounts.enrolment import unlock
    from cases.casework import steps, writing
    from cases.content import add_message
    from cases.keyring import caseworker_key
    from cases.models import Case, Caseworker, KeyPurpose, MessageKind
    from cases.reporting.submission import Submission, new_submission

    with new_submission(store) as draft:
        for i in range(attachments):
            upload = draft.new_attachment()
            upload.write(os.urandom(48 * 1024))
            draft.attach(upload, f"evidence-{i:02d}.pdf", "application/pdf")
        draft.finalize(Submission(report={"text": text(2048), "answers": [
            {"key": "when", "question": "When did it happen?", "answer": "Since March"},
            {"key": "where", "question": "Where did it happen?", "answer": "Regional office"},
        ]}))
        case_id = draft.case_id
    with store.transaction() as db:
        actor = db.get(Caseworker, reader_id)
        key = unlock(actor, _caseworker.PASSPHRASE)
        case = db.get(Case, case_id)
        steps.acknowledge_case(db, store.policy(db).deadlines, case, actor, key, text(400))
        steps.record_triage(db, case, actor, key, scope="in scope: procurement fraud",
                         priority=3, completeness="complete", notes=text(300))
        steps.record_risk(db, case, actor, key, likelihood="medium", impact="high",
                       measures=text(300), review_on=None)
        steps.start_investigation(db, case, actor)
        thread = caseworker_key(db, case_id, KeyPurpose.THREAD, actor.id, key)
        written = 4  # report, acknowledgement, triage, risk assessment
        kinds = ("reporter", "reply", "note")
        while written < messages:
            kind = kinds[written % 3]
            if kind == "reporter":
                add_message(db, case_id, MessageKind.REPORTER_MESSAGE, thread,
                            {"text": text(800)})
            elif kind == "reply":
                writing.reply(db, case, actor, key, text(600))
            else:
                writing.add_note(db, case, actor, key, text(400))
            written += 1
    return case_id


def bare_material(store: Any, reader_id: int, case_id: str) -> dict[str, Any]:
    """The ciphertexts and keys a case view decrypts, read once from the database."""
    from sqlalchemy import select

    from cases.accounts.enrolment import unlock
    from cases.content import _attachment_contexts, key_purpose_of, message_context
    from cases.keyring import key_context
    from cases.models import Attachment, Caseworker, HolderKind, KeyPurpose, Message, WrappedKey
    from crypto import new_key, split_session_secret

    with store.transaction() as db:
        private = unlock(db.get(Caseworker, reader_id), _caseworker.PASSPHRASE)
        session_id = new_key().hex()
        cookie_key, server_part = split_session_secret(private, session_id)
        wrapped = {
            row.purpose: (row.wrapped, key_context(case_id, row.purpose, ""))
            for row in db.scalars(select(WrappedKey).where(
                WrappedKey.case_id == case_id, WrappedKey.caseworker_id == reader_id,
                WrappedKey.holder_kind == HolderKind.CASEWORKER, WrappedKey.record_id == ""))
        }
        messages = [
            (key_purpose_of(m.kind), m.ciphertext, message_context(case_id, m.kind, m.id))
            for m in db.scalars(select(Message).where(Message.case_id == case_id))
        ]
        metas = [
            (a.meta_ciphertext, _attachment_contexts(case_id, a.id)[0])
            for a in db.scalars(select(Attachment).where(Attachment.case_id == case_id))
        ]
    if len(messages) != MESSAGES or len(metas) != ATTACHMENTS:
        raise RuntimeError(f"case has {len(messages)} messages, {len(metas)} attachments")
    return {"cookie_key": cookie_key, "server_part": server_part, "session_id": session_id,
            "wrapped": wrapped, "messages": messages, "metas": metas,
            "purposes": (KeyPurpose.THREAD, KeyPurpose.INTERNAL)}


def bare_open(m: dict[str, Any]) -> None:
    from crypto import decrypt_record, join_session_secret, open_with

    private = join_session_secret(m["cookie_key"], m["server_part"], m["session_id"])
    keys = {p: open_with(private, *m["wrapped"][p]) for p in m["purposes"]}
    for purpose, ciphertext, context in m["messages"]:
        decrypt_record(keys[purpose], ciphertext, context)
    for ciphertext, context in m["metas"]:
        decrypt_record(keys[m["purposes"][0]], ciphertext, context)


# --- where the time goes -----------------------------------------------------------------

CATEGORIES = (
    ("libsodium (decrypt, unwrap)", ("nacl/",)),
    ("database (SQLAlchemy, driver, commit)", ("sqlalchemy/", "sqlite3", "psycopg")),
    ("template rendering (Jinja2, escaping)", ("jinja2/", "markupsafe/", "/templates/")),
    ("i18n (babel: dates, translations)", ("babel/",)),
    ("forms (WTForms, Flask-WTF)", ("wtforms/", "flask_wtf/")),
)
OTHER = "everything else (Flask, werkzeug, JSON, Sealbox code)"


def categorise(frame: Any, inherited: str | None = None) -> dict[str, float]:
    """Self time of each frame, put in the category of the nearest frame (itself first,
    then outwards) whose file matches one."""
    path = frame.file_path or ""
    own = next((name for name, marks in CATEGORIES if any(m in path for m in marks)), None)
    category = own or inherited
    totals: dict[str, float] = {}
    self_time = frame.time - sum(child.time for child in frame.children)
    totals[category or OTHER] = max(0.0, self_time)
    for child in frame.children:
        for name, secs in categorise(child, category).items():
            totals[name] = totals.get(name, 0.0) + secs
    return totals


def run(database: str, views: int) -> dict[str, Any]:
    from pyinstrument import Profiler
    from sqlalchemy import event

    from cases.store import Store
    from caseworker import create_app

    with instance(database=database) as inst:
        store = Store(Instance.settings(inst))
        reader = _caseworker.create_reader(store)
        case_id = make_case(store, reader)
        small_case = make_case(store, reader, messages=5, attachments=1)
        material = bare_material(store, reader, case_id)
        app = create_app(store.settings, store)
        client = app.test_client()
        _caseworker.sign_in_client(client)
        url = f"/cases/{case_id}"
        for _ in range(3):
            reply = client.get(url)
            if reply.status_code != 200:
                raise RuntimeError(f"{url} answered {reply.status_code}")
            bare_open(material)
        html = reply.get_data(as_text=True)
        statements: list[str] = []
        event.listen(store.engine, "before_cursor_execute",
                     lambda *a: statements.append(a[2]))
        client.get(f"/cases/{small_case}")
        small_statements = len(statements)
        statements.clear()
        page_ms, bare_ms = [], []
        for _ in range(views):  # interleaved: one view, one bare loop
            start = time.perf_counter()
            client.get(url)
            page_ms.append(1000 * (time.perf_counter() - start))
            start = time.perf_counter()
            bare_open(material)
            bare_ms.append(1000 * (time.perf_counter() - start))
        per_view = len(statements) // views
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(max(5, views // 3)):
            client.get(url)
        profiler.stop()
        session = profiler.last_session
        shares = categorise(session.root_frame()) if session else {}
        total = sum(shares.values()) or 1.0
        store.dispose()
    page, bare = statistics.median(page_ms), statistics.median(bare_ms)
    return {
        "case_id": case_id,
        "html_bytes": len(html),
        "messages": MESSAGES,
        "attachments": ATTACHMENTS,
        "page_ms": {"p50": page, "p95": sorted(page_ms)[round(0.95 * (len(page_ms) - 1))],
                    "min": min(page_ms)},
        "bare_decrypt_ms": {"p50": bare, "min": min(bare_ms)},
        "page_over_bare": page / bare,
        "sql_statements_per_view": per_view,
        "sql_statements_5_messages_1_attachment": small_statements,
        "profile_shares": {k: v / total for k, v in sorted(shares.items(), key=lambda kv: -kv[1])},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="SQLite only, 10 views")
    parser.add_argument("--database", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--views", type=int, default=30)
    args = parser.parse_args()
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    views = args.views
    if args.quick:
        databases, views = ["sqlite"], 10
    print_machine(machine())
    results = {}
    for db in databases:
        r = results[db] = run(db, views)
        print(f"[{db}] case view ({MESSAGES} messages, {ATTACHMENTS} attachments, "
              f"{r['html_bytes'] // 1024} KiB of HTML, {r['sql_statements_per_view']} SQL "
              f"statements, {r['sql_statements_5_messages_1_attachment']} for a case of 5 "
              f"messages and 1 file): p50 {r['page_ms']['p50']:.1f} ms, p95 "
              f"{r['page_ms']['p95']:.1f} ms; bare decryption p50 "
              f"{r['bare_decrypt_ms']['p50']:.2f} ms; page / bare {r['page_over_bare']:.0f}x")
        for name, share in r["profile_shares"].items():
            print(f"      {share:6.1%}  {name}")
    save("case_open_quick" if args.quick else "case_open", {"views": views, "results": results})


if __name__ == "__main__":
    main()
