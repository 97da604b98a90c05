"""Running a file cleaner where a hostile file can only cost itself: a separate process
(``cases.attachments.cleaner_worker``) that gets the file on a pipe and answers on a pipe,
under limits the worker sets on itself before it reads a byte (not in a ``preexec_fn``,
which is unsafe in a threaded server):

* address space (``RLIMIT_AS``), so a decompression bomb or a loop that allocates ends in
  a MemoryError, not in the app's machine swapping;
* CPU seconds (``RLIMIT_CPU``) and a wall-clock timeout, so a parser that loops is killed;
* file size 0 (``RLIMIT_FSIZE``): the worker cannot write a byte to any file, so no
  plaintext reaches the disk, not even a temporary file of a library's;
* no core dumps, few open files, an empty environment and Python's isolated mode;
* where the process may make one (as root, not under the shipped systemd units), a
  network namespace of its own with no interface (docs/THREAT_MODEL.md: the residual);
* at most ``CLEANERS_AT_ONCE`` workers per app process: a hostile file may cost its worker
  the whole of its limits, and a flood of them (ten to a submission) queues instead of
  starting hundreds of workers. A file that finds no free worker within the wall-clock
  timeout is answered as a timeout.

Whatever goes wrong (exit status, signal, timeout, an answer that does not parse), the
caller gets ``None`` and keeps the file as it was sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass

from cases.attachments.cleaner_worker import NOT_THIS_KIND

MEMORY_LIMIT = 768 * 1024 * 1024
CPU_SECONDS = 20
WALL_SECONDS = 30.0
CLEANERS_AT_ONCE = 2  # per app process: at most 2 x 768 MiB and 2 CPUs' worth of cleaning
_CLEANERS = threading.BoundedSemaphore(CLEANERS_AT_ONCE)


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = MEMORY_LIMIT
    cpu_seconds: int = CPU_SECONDS
    wall_seconds: float = WALL_SECONDS


@dataclass(frozen=True)
class Cleaned:
    data: bytes
    removed: list[str]
    peak_kib: int = 0  # the worker's peak resident memory, as it reported it


@dataclass(frozen=True)
class NotCleaned:
    reason: str  # "timeout", "failed" (crash, limit, unreadable file), "unsupported"


def clean_in_sandbox(kind: str, data: bytes, limits: Limits | None = None) -> Cleaned | NotCleaned:
    """The file cleaned by the worker, or why it was not."""
    limits = limits or Limits()
    if not _CLEANERS.acquire(timeout=limits.wall_seconds):
        return NotCleaned("timeout")  # every worker busy for as long as one may take
    try:
        return _cleaned(kind, data, limits)
    finally:
        _CLEANERS.release()


def _cleaned(kind: str, data: bytes, limits: Limits) -> Cleaned | NotCleaned:
    command = [sys.executable, "-I", "-B", "-m", "cases.attachments.cleaner_worker", kind,
               str(limits.memory_bytes), str(limits.cpu_seconds)]
    try:
        done = subprocess.run(  # noqa: S603 (our own module, no shell)
            command, input=data, capture_output=True, timeout=limits.wall_seconds,
            env={"PATH": os.defpath}, check=False,
        )
    except subprocess.TimeoutExpired:
        return NotCleaned("timeout")
    if done.returncode == NOT_THIS_KIND:
        return NotCleaned("unsupported")  # e.g. a ZIP archive that is no document
    if done.returncode != 0:
        return NotCleaned("failed")
    head, newline, cleaned = done.stdout.partition(b"\n")
    try:
        answer = json.loads(head) if newline else {}
        removed, peak = answer["removed"], int(answer.get("peak_kib", 0))
    except (ValueError, KeyError, TypeError):
        return NotCleaned("failed")
    if not isinstance(removed, list) or not cleaned:
        return NotCleaned("failed")
    return Cleaned(cleaned, [str(item) for item in removed], peak)
