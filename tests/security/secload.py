"""Concurrent submissions against a real intake under gunicorn (several workers) on
PostgreSQL, then a full check of what was stored. Used by test_sec_load.py (bounded) and
bench/bench_load.py (larger).

The check: one case per receipt and no more cases than receipts; every receipt finds its
own case (its own unique description) and no other; every message and every attachment
decrypts with the reporter's key to exactly what was sent; no ciphertext without a row.
"""

from __future__ import annotations

import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from secapp import RealHTTP, Reporter
from sqlalchemy import func, select

from cases.content import list_attachments, open_attachment, read_messages
from cases.keyring import reporter_thread_key
from cases.models import READABLE_BY_REPORTER, Attachment, BlobChunk, Case, KeyPurpose
from cases.reporting.followup import find_case
from cases.store import Store
from crypto import normalize_receipt


@dataclass
class Sent:
    description: str
    files: dict[str, bytes]
    receipt: str = ""
    seconds: float = 0.0


@dataclass
class LoadResult:
    sent: list[Sent] = field(default_factory=list)
    wall_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def one_submission(base: str, i: int, file_sizes: tuple[int, ...]) -> Sent:
    tag = secrets.token_hex(8)
    files = {f"evidence-{i}-{n}-{tag}.bin": os.urandom(size) for n, size in enumerate(file_sizes)}
    sent = Sent(f"load report {i} {tag}", files)
    start = time.perf_counter()
    reporter = Reporter(RealHTTP(base))
    sent.receipt = reporter.submit({"description": sent.description}, list(files.items()))
    sent.seconds = time.perf_counter() - start
    return sent


def run_load(base: str, submissions: int, clients: int,
             file_sizes: tuple[int, ...] = (60_000, 150_000)) -> LoadResult:
    result = LoadResult()
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(one_submission, base, i, file_sizes) for i in range(submissions)]
        for f in futures:
            try:
                result.sent.append(f.result())
            except Exception as exc:  # collected and reported, never swallowed
                result.failures.append(f"{exc.__class__.__name__}: {str(exc)[:300]}")
    result.wall_seconds = time.perf_counter() - start
    return result


def verify(store: Store, result: LoadResult) -> None:
    assert not result.failures, result.failures[:5]
    receipts = [normalize_receipt(s.receipt) for s in result.sent]
    assert len(set(receipts)) == len(receipts), "a receipt was issued twice"
    seen_cases: set[str] = set()
    descriptions = {s.description for s in result.sent}
    with store.transaction() as db:
        total = db.scalar(select(func.count()).select_from(Case))
        assert total == len(result.sent), f"{total} cases for {len(result.sent)} receipts"
        for sent, receipt in zip(result.sent, receipts, strict=True):
            case, keys = find_case(db, store.settings, receipt)
            assert case is not None, "a receipt opens nothing"
            assert case.id not in seen_cases, "two receipts open the same case"
            seen_cases.add(case.id)
            thread = reporter_thread_key(db, case.id, keys.private_key)
            messages = read_messages(db, case.id, {KeyPurpose.THREAD: thread},
                                     READABLE_BY_REPORTER)
            texts = [m.body.get("text") for m in messages]
            assert texts == [sent.description], texts  # its own report, nobody else's
            assert not (descriptions - {sent.description}) & set(texts)
            got = {}
            for meta in list_attachments(db, case.id, thread):
                row = db.get_one(Attachment, meta.id)
                got[meta.name] = b"".join(open_attachment(store.blobs, db, row, thread))
            assert got == sent.files, "an attachment is missing or differs"
        attachment_ids = set(db.scalars(select(Attachment.id)))
        chunk_ids = set(db.scalars(select(BlobChunk.blob_id).distinct()))
    expected = sum(len(s.files) for s in result.sent)
    assert len(attachment_ids) == expected
    if store.settings.attachment_storage == "database":
        assert chunk_ids == attachment_ids, "ciphertext without a row, or a row without it"
    else:
        on_disk = {p.name for p in store.settings.blob_path.iterdir()}
        assert on_disk == attachment_ids, "ciphertext without a row, or a row without it"


def summary(result: LoadResult) -> dict[str, Any]:
    times = sorted(s.seconds for s in result.sent)
    n = len(times)
    return {
        "submissions": n,
        "wall_seconds": round(result.wall_seconds, 2),
        "submissions_per_second": round(n / result.wall_seconds, 2) if result.wall_seconds else 0,
        "p50_seconds": round(times[n // 2], 3) if n else None,
        "p95_seconds": round(times[min(n - 1, int(n * 0.95))], 3) if n else None,
        "failures": len(result.failures),
    }
