"""Search the content of the cases a caseworker holds, decrypting in the request.

Nothing is indexed: an index of words would be plaintext report data at rest. Instead the
caseworker's own key unwraps each held case's keys and every message is opened and matched
in memory, then dropped; the words searched for are never stored or logged (the caller
audits which cases matched, ``inbox.searched``). The bound is measured in
``bench/bench_search.py`` (docs/PERFORMANCE.md).

A case matches when every word of the query occurs in it (anywhere in its report, answers,
messages and, for the internal key, its notes and records), compared case-folded, so
"Müller" finds "MÜLLER" and accents count.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from cases.casework.access import CaseworkRefused
from cases.content import key_purpose_of, open_message_json
from cases.keyring import key_context
from cases.models import Case, HolderKind, KeyPurpose, Message, MessageKind, WrappedKey
from crypto import DecryptionError, open_with, public_key_of

MAX_QUERY_CHARS = 200
MAX_WORDS = 8
MAX_RESULTS = 100  # shown; the count of every match is given beside them
CONTEXT_CHARS = 60  # either side of the first hit, in the snippet
STREAM_ROWS = 2000  # messages fetched from the database at a time


@dataclass(frozen=True)
class Hit:
    case_id: str
    kind: MessageKind  # where the first word was found
    snippet: str


@dataclass(frozen=True)
class Found:
    hits: list[Hit]  # the newest cases first, at most MAX_RESULTS
    matched: int  # every case that matched
    searched: int  # the cases held and opened


def words_of(query: str) -> list[str]:
    """The query as case-folded words; CaseworkRefused if there is nothing to search or too much."""
    if len(query) > MAX_QUERY_CHARS:
        raise CaseworkRefused("Search for at most 200 characters.")
    words = list(dict.fromkeys(w.casefold() for w in query.split()))
    if not words:
        raise CaseworkRefused("Type the words to search for.")
    if len(words) > MAX_WORDS:
        raise CaseworkRefused("Search for at most 8 words.")
    return words


def search_cases(db: Session, caseworker_id: int, private_key: bytes, query: str) -> Found:
    """Every held case in which all the words occur, newest first.

    Two queries: the caseworker's wrapped keys, then every message of the held cases in
    one stream, grouped by case as it arrives, so memory holds one case's plaintext at a
    time (and the keys). One thread: libsodium's sealed boxes are too short a call for a
    second thread to gain anything against the interpreter lock (measured in the bench)."""
    words = words_of(query)
    opener = _Opener(private_key, public_key_of(private_key))
    keys = {
        (case_id, _PURPOSES[purpose]): blob
        for case_id, purpose, blob in db.execute(
            select(WrappedKey.case_id, type_coerce(WrappedKey.purpose, String), WrappedKey.wrapped)
            .where(*_own_keys(caseworker_id))
        )
    }
    stream = db.execute(
        select(Message.case_id, Message.id, type_coerce(Message.kind, String), Message.ciphertext)
        .join(WrappedKey, WrappedKey.case_id == Message.case_id)
        .where(*_own_keys(caseworker_id), WrappedKey.purpose == KeyPurpose.THREAD)
        .order_by(Message.case_id, Message.position)
        .execution_options(yield_per=STREAM_ROWS)
    )
    hits: dict[str, Hit] = {}
    for case_id, rows in groupby(stream, key=lambda row: row[0]):
        messages = [(message_id, _KINDS[kind], blob) for _c, message_id, kind, blob in rows]
        hit = _match_case(case_id, messages, keys, opener, words)
        if hit is not None:
            hits[case_id] = hit
    newest_first = db.scalars(
        select(Case.id)
        .join(WrappedKey, WrappedKey.case_id == Case.id)
        .where(*_own_keys(caseworker_id), WrappedKey.purpose == KeyPurpose.THREAD)
        .order_by(Case.received_on.desc(), Case.id.desc())
    ) if hits else ()
    ordered = [hits[case_id] for case_id in newest_first if case_id in hits]
    searched = len({case_id for case_id, purpose in keys if purpose is KeyPurpose.THREAD})
    return Found(ordered[:MAX_RESULTS], len(hits), searched)


# The enums as stored (their names): read as plain strings, they skip the ORM's per-row
# conversion, a third of the time of reading the rows.
_PURPOSES = {purpose.name: purpose for purpose in KeyPurpose}
_KINDS = {kind.name: kind for kind in MessageKind}


def _own_keys(caseworker_id: int) -> tuple[Any, ...]:
    return (
        WrappedKey.caseworker_id == caseworker_id,
        WrappedKey.holder_kind == HolderKind.CASEWORKER,
        WrappedKey.record_id == "",
    )


@dataclass(frozen=True)
class _Opener:
    private_key: bytes
    public_key: bytes  # derived once for the whole search, not once per case

    def unwrap(self, wrapped: bytes, case_id: str, purpose: KeyPurpose) -> bytes:
        context = key_context(case_id, purpose)
        return open_with(self.private_key, wrapped, context, public_key=self.public_key)


def _match_case(
    case_id: str,
    messages: list[tuple[str, MessageKind, bytes]],
    wrapped_keys: dict[tuple[str, KeyPurpose], bytes],
    opener: _Opener,
    words: list[str],
) -> Hit | None:
    keys: dict[KeyPurpose, bytes] = {}
    for purpose in {key_purpose_of(kind) for _id, kind, _c in messages}:  # no unused unwrap
        wrapped = wrapped_keys.get((case_id, purpose))
        if wrapped is None:
            continue
        try:
            keys[purpose] = opener.unwrap(wrapped, case_id, purpose)
        except DecryptionError:
            continue  # a damaged key: the case page says so; search passes over it
    sealed_as: list[tuple[MessageKind, str]] = []
    for message_id, kind, ciphertext in messages:
        key = keys.get(key_purpose_of(kind))
        if key is None:
            continue
        try:
            sealed_as.append((kind, open_message_json(key, case_id, kind, message_id, ciphertext)))
        except (DecryptionError, ValueError):
            continue
    # Most cases miss a word: the JSON text as sealed tells them apart without parsing it
    # (every character but a quote, a backslash and controls stands unescaped in it).
    if _plain(words) and not _has_all(words, "\n".join(j for _k, j in sealed_as).casefold()):
        return None
    texts = [(kind, " ".join(_strings(json.loads(j)))) for kind, j in sealed_as]
    folded = [(kind, text, text.casefold()) for kind, text in texts]
    if not _has_all(words, "\n".join(f for _kind, _text, f in folded)):
        return None
    kind, text, where = next((k, t, f) for k, t, f in folded if words[0] in f)
    return Hit(case_id, kind, _snippet(text, where.index(words[0]), len(words[0])))


def _has_all(words: list[str], text: str) -> bool:
    return all(word in text for word in words)


def _plain(words: list[str]) -> bool:
    """Whether each word reads the same inside JSON text as outside it."""
    return not any(c in '"\\' or c < " " for word in words for c in word)


def _strings(body: Any) -> Iterable[str]:
    """Every text a message body holds (its text, its answers), not its field names."""
    if isinstance(body, str):
        yield body
    elif isinstance(body, dict):
        for name, value in body.items():
            if name != "language":
                yield from _strings(value)
    elif isinstance(body, list):
        for value in body:
            yield from _strings(value)


def _snippet(text: str, at: int, length: int) -> str:
    """The words around the first hit, on one line. Case-folding can change a text's
    length (ß -> ss); the slice is then approximate, which a snippet tolerates."""
    start, end = max(0, at - CONTEXT_CHARS), min(len(text), at + length + CONTEXT_CHARS)
    flat = " ".join(text[start:end].split())
    return ("…" if start else "") + flat + ("…" if end < len(text) else "")
