"""The sandboxed worker that cleans one file: ``python -I -B -m
cases.attachments.cleaner_worker KIND``, the file on stdin, started by
``cases.attachments.sandbox`` under CPU, memory, file-size and time limits.

It reads the file into memory (it may write no file at all: the file-size limit is 0),
cleans it, and writes one line of JSON (what was removed) then the cleaned bytes. Any
failure is its exit status and a message on stderr; the app then keeps the file as sent.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import resource
import sys

CLONE_NEWNET = 0x40000000
NOT_THIS_KIND = 3  # the exit status for a file the kind's cleaner does not apply to
PDF_WITHOUT_FORM_VALUES = "pdf-forms"  # the kind for a PDF whose filled-in fields go too


def confine(memory_bytes: int, cpu_seconds: int) -> None:
    """The limits, set on this process before the file is read (cases.attachments.sandbox)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # no file written, not even a temp file
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
    # No network: a namespace with no interface. It takes CAP_SYS_ADMIN, so it holds when
    # the app runs as root (a container) and not under the shipped systemd units, which
    # forbid namespaces; unshare then returns -1 and the limits above still hold.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET)


def _clean(kind: str, data: bytes) -> tuple[bytes, list[str]]:
    """LookupError when the kind's cleaner does not apply to this file."""
    if kind in ("pdf", PDF_WITHOUT_FORM_VALUES):
        from cases.attachments.pdf_cleaning import clean_pdf

        return clean_pdf(data, clear_form_fields=kind == PDF_WITHOUT_FORM_VALUES)
    if kind == "office":
        from cases.attachments.office_cleaning import NotAnOfficeFile, clean_office

        try:
            return clean_office(data)
        except NotAnOfficeFile as exc:
            raise LookupError(str(exc)) from exc
    if kind == "media":
        from cases.attachments.filetype import HEAD_BYTES, detect
        from cases.attachments.media_cleaning import NotMedia, clean_media

        try:
            return clean_media(detect(data[:HEAD_BYTES]), data)
        except NotMedia as exc:
            raise LookupError(str(exc)) from exc
    raise LookupError(f"unknown kind {kind!r}")


def peak_memory_kib() -> int:
    """This process's own peak resident memory since it started the worker. Not
    ``ru_maxrss``, which Linux carries over from the parent across fork and exec."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover (not Linux)
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> int:
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    memory, cpu = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (2**30, 20)
    confine(memory, cpu)
    data = sys.stdin.buffer.read()
    try:
        cleaned, removed = _clean(kind, data)
    except LookupError:
        return NOT_THIS_KIND  # a ZIP of something else: stored as sent, nothing wrong
    peak_kib = peak_memory_kib()  # for bench/bench_cleaning
    sys.stdout.buffer.write(json.dumps({"removed": removed, "peak_kib": peak_kib}).encode()
                            + b"\n")
    sys.stdout.buffer.write(cleaned)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
