"""Searching the content of 10,000 held cases, against the bare decryption it needs.

    .venv/bin/python -m bench.bench_search [--quick] [--cases 10000]
                                           [--database both|sqlite|postgres]

The instance holds ``--cases`` cases, all held by the benchmark's caseworker, each sealed in
the product's formats with the product's own recipes: a thread key and an internal key
wrapped to the caseworker's public key (``crypto.seal_for`` under ``key_context``), a report
of about 1.5 KB with two answers, two reporter messages, one reply and one internal note
(``encrypt_record`` under ``message_context``), words drawn from a 4,000-word vocabulary so
that matching does real work. Rows go in with bulk inserts (COPY on PostgreSQL).

Timed: ``cases.casework.search.search_cases`` (what ``POST /search`` runs) for a two-word
query that matches about 1 % of the cases, then the same through the caseworker app (Flask
test client, signed in). Target (issue 14): at most 1 s for 10,000 held cases. Baseline,
timed alternately in the same run: a bare loop over the same ciphertexts already in memory
that unwraps the two keys of every case and decrypts every message with libsodium, on one
thread, no SQL, JSON or matching: the work no search without an index can avoid.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from typing import Any

from bench import _caseworker
from bench._common import best_of_interleaved, machine, print_machine, save
from bench._http import csrf_of
from bench._server import instance
from bench.bench_inbox import CASE_COLUMNS, KEY_COLUMNS, bulk_insert, generate

TARGET_SECONDS = 1.0
QUERY = "tender kickback"
MESSAGE_COLUMNS = ("id", "case_id", "position", "kind", "author_id", "ciphertext", "created_on")


def _vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyzäöüé"
    return ["".join(rng.choices(letters, k=rng.randint(3, 10))) for _ in range(4000)]


def _text(rng: random.Random, words: list[str], n: int) -> str:
    return " ".join(rng.choices(words, k=n))


def sealed_rows(
    n: int, reader: int, public_key: bytes, category: int, seed: int = 3
) -> dict[str, list[tuple[Any, ...]]]:
    """Cases, their wrapped keys and messages, sealed as the product seals them."""
    from cases.content import message_context, message_plaintext
    from cases.keyring import key_context
    from cases.models import KeyPurpose, MessageKind
    from crypto import encrypt_record, new_key, seal_for

    rng = random.Random(seed)
    words = _vocabulary(rng)
    cases, _keys, _labels = generate(n, dt.date.today(), [reader], {category: [reader]}, seed)
    keys, messages = [], []
    for row in cases:
        case_id = row[0]
        own = {purpose: new_key() for purpose in (KeyPurpose.THREAD, KeyPurpose.INTERNAL)}
        for purpose, key in own.items():
            wrapped = seal_for(public_key, key, key_context(case_id, purpose))
            keys.append((rng.randbytes(8).hex(), case_id, purpose.name, "", "CASEWORKER",
                         reader, wrapped))
        report = {"text": _text(rng, words, 220), "language": "en", "answers": [
            {"key": "when", "question": "When?", "answer": _text(rng, words, 6)},
            {"key": "who", "question": "Who?", "answer": _text(rng, words, 4)}]}
        if rng.random() < 0.01:
            report["text"] += f" the {QUERY.split()[0]} was rigged for a {QUERY.split()[1]}"
        bodies = [(MessageKind.REPORT, report)] + [
            (kind, {"text": _text(rng, words, 60)})
            for kind in (MessageKind.REPORTER_MESSAGE, MessageKind.REPLY,
                         MessageKind.REPORTER_MESSAGE, MessageKind.NOTE)
        ]
        for position, (kind, body) in enumerate(bodies, start=1):
            message_id = rng.randbytes(8).hex()
            purpose = KeyPurpose.INTERNAL if kind is MessageKind.NOTE else KeyPurpose.THREAD
            sealed = encrypt_record(own[purpose], message_plaintext(body),
                                    message_context(case_id, kind, message_id))
            messages.append((message_id, case_id, position, kind.name, None, sealed, row[8]))
    return {"cases": cases, "keys": keys, "messages": messages}


def bare_loop(private_key: bytes, public_key: bytes, material: list[tuple[Any, ...]]) -> int:
    """Unwrap each case's keys and decrypt each message with raw libsodium (sealed box,
    XChaCha20-Poly1305), one thread: the floor of a search without an index."""
    from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt as aead_open
    from nacl.bindings import crypto_box_seal_open

    opened = 0
    for wrapped, messages in material:
        keys = {purpose: crypto_box_seal_open(blob[1:], public_key, private_key)[-32:]
                for purpose, blob in wrapped.items()}
        for purpose, record, aad in messages:
            aead_open(record[25:], aad, record[1:25], keys[purpose])
            opened += 1
    return opened


def bare_material(rows: dict[str, list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    from cases.content import message_context
    from cases.models import KeyPurpose, MessageKind

    by_case: dict[str, tuple[dict[Any, Any], list[Any]]] = {}
    for _id, case_id, purpose, _r, _h, _c, wrapped in rows["keys"]:
        p = KeyPurpose[purpose]
        by_case.setdefault(case_id, ({}, []))[0][p] = wrapped
    for message_id, case_id, _pos, kind, _a, sealed, _on in rows["messages"]:
        k = MessageKind[kind]
        purpose = KeyPurpose.INTERNAL if k is MessageKind.NOTE else KeyPurpose.THREAD
        aad = message_context(case_id, k, message_id).binding(sealed[0])
        by_case[case_id][1].append((purpose, sealed, aad))
    return list(by_case.values())


def run(database: str, n: int, repeats: int) -> dict[str, Any]:
    from cases.accounts.enrolment import unlock
    from cases.casework.search import search_cases
    from cases.models import Caseworker, Category
    from cases.store import Store
    from caseworker import create_app

    with instance(database=database) as made:
        store = Store(made.settings())
        reader = _caseworker.create_reader(store)
        with store.transaction() as db:
            account = db.get_one(Caseworker, reader)
            public_key, private_key = account.public_key, unlock(account, _caseworker.PASSPHRASE)
            category = Category(slug="fraud", name="Fraud", position=0)
            db.add(category)
            db.flush()
            category_id = category.id
        started = time.perf_counter()
        rows = sealed_rows(n, reader, public_key, category_id)
        bulk_insert(store, "cases", CASE_COLUMNS, rows["cases"])
        bulk_insert(store, "wrapped_keys", KEY_COLUMNS, rows["keys"])
        bulk_insert(store, "messages", MESSAGE_COLUMNS, rows["messages"])
        print(f"{database}: {n} cases, {len(rows['messages'])} messages sealed and loaded in "
              f"{time.perf_counter() - started:.0f} s")
        material = bare_material(rows)
        matched: list[int] = []

        def product() -> None:
            with store.transaction() as db:
                matched.append(search_cases(db, reader, private_key, QUERY).matched)

        app = create_app(made.settings())
        client = app.test_client()
        _caseworker.sign_in_client(client)
        csrf = csrf_of(client.get("/search").get_data(as_text=True))

        def through_app() -> None:
            response = client.post("/search", data={"csrf_token": csrf, "q": QUERY})
            if response.status_code != 200:
                raise RuntimeError(f"POST /search: {response.status_code}")

        best = best_of_interleaved(
            {"bare": lambda: bare_loop(private_key, public_key, material), "search": product,
             "app": through_app},
            repeats,
        )
        store.dispose()
    result = {
        "database": database, "cases": n, "messages": len(rows["messages"]),
        "matched": matched[-1], "bare_s": best["bare"], "search_s": best["search"],
        "app_s": best["app"], "search_vs_bare": best["search"] / best["bare"],
        "app_vs_bare": best["app"] / best["bare"],
        "target_met": best["app"] <= TARGET_SECONDS * n / 10_000,
    }
    print(f"{database}: bare {best['bare']:.3f} s, search_cases {best['search']:.3f} s "
          f"({result['search_vs_bare']:.2f}x bare), POST /search {best['app']:.3f} s "
          f"({result['app_vs_bare']:.2f}x bare); {result['matched']} cases matched; target "
          f"<= {TARGET_SECONDS * n / 10_000:.2f} s: {'met' if result['target_met'] else 'MISSED'}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 cases, SQLite, 3 rounds")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--database", choices=("both", "sqlite", "postgres"), default="both")
    args = parser.parse_args()
    info = machine()
    print_machine(info)
    n = 2_000 if args.quick else args.cases
    databases = ["sqlite"] if args.quick or args.database == "sqlite" else (
        ["postgres"] if args.database == "postgres" else ["sqlite", "postgres"])
    results = [run(db, n, 3 if args.quick else 5) for db in databases]
    save("search", {"machine": info, "results": results})


if __name__ == "__main__":
    main()
