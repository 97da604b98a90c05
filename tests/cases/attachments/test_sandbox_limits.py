"""How many cleaning workers one app process runs at once (cases.attachments.sandbox):
never more than CLEANERS_AT_ONCE, however many files arrive together, each still cleaned;
and a file that finds every worker busy for the whole wall-clock timeout is answered as a
timeout, kept as sent. Real workers, real PDFs, the process's own children counted."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pdfkit

from cases.attachments import sandbox
from cases.attachments.sandbox import Cleaned, Limits, NotCleaned, clean_in_sandbox


def _cleaners() -> int:
    """This process's cleaning workers now (each thread's children, from /proc; a child
    whose thread just ended moves to another thread, so the pids are counted once)."""
    pids: set[str] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with contextlib.suppress(OSError):  # the thread ended meanwhile
            pids.update((task / "children").read_text().split())
    return sum(1 for pid in pids if b"cleaner_worker" in _cmdline(pid))


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # it ended meanwhile
        return b""


def test_a_flood_of_files_runs_at_most_the_cap_of_workers_at_once() -> None:
    dirty = pdfkit.hidden_everywhere()
    results: list[Cleaned | NotCleaned] = []
    stop, peak = threading.Event(), [0]

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _cleaners())

    sampler = threading.Thread(target=sample)
    files = [threading.Thread(target=lambda: results.append(clean_in_sandbox("pdf", dirty)))
             for _ in range(3 * sandbox.CLEANERS_AT_ONCE)]
    sampler.start()
    for thread in files:
        thread.start()
    for thread in files:
        thread.join(timeout=120)
    stop.set()
    sampler.join()
    assert len(results) == len(files)
    assert all(isinstance(r, Cleaned) and pdfkit.markers_in(r.data) == [] for r in results)
    assert peak[0] == sandbox.CLEANERS_AT_ONCE  # reached (the sampler sees them), never passed


def test_a_file_that_finds_every_worker_busy_is_kept_as_a_timeout() -> None:
    held = [sandbox._CLEANERS.acquire(timeout=5) for _ in range(sandbox.CLEANERS_AT_ONCE)]
    try:
        assert all(held)
        result = clean_in_sandbox("pdf", pdfkit.hidden_everywhere(), Limits(wall_seconds=0.2))
        assert result == NotCleaned("timeout")
    finally:
        for _ in held:
            sandbox._CLEANERS.release()
    assert isinstance(clean_in_sandbox("pdf", pdfkit.hidden_everywhere()), Cleaned)
