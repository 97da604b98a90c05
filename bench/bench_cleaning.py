"""Cleaning PDFs in the sandboxed worker, against a bare run of the same library.

    .venv/bin/python -m bench.bench_cleaning [--quick]

The files are made here with pikepdf: text pages and uncompressed image streams to about
1, 8 and 30 MiB (``--quick``: 1 and 8), with metadata in every place the cleaner removes
(tests/support/pdfkit's kinds, fewer of them). Timed, alternately, best of 5:
``cases.attachments.sandbox.clean_in_sandbox`` (the worker process: isolated Python, its
limits, pikepdf open, the walk over every object, a fresh save) against a bare process
that only opens the same bytes with pikepdf and saves them (``python -c``, fed on stdin
the same way). Reported: MiB/s of each, the ratio, and each process's peak RSS. No target
was set by the issue beyond measuring; the ratio is what to watch.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time
from typing import Any

from bench._common import MIB, machine, print_machine, save

BARE = ("import io, resource, sys, pikepdf; data = sys.stdin.buffer.read(); "
        "pdf = pikepdf.open(io.BytesIO(data)); out = io.BytesIO(); pdf.save(out); "
        "sys.stdout.buffer.write(out.getvalue()); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")


def make_pdf(target_mib: int) -> bytes:
    import pikepdf
    from pikepdf import Dictionary, Name

    pdf = pikepdf.new()
    image = os.urandom(256 * 1024)  # incompressible: the size is what it says
    while True:
        pdf.add_blank_page()
        page = pdf.pages[-1]
        xobject = pdf.make_stream(image, Type=Name.XObject, Subtype=Name.Image, Width=512,
                                  Height=512, ColorSpace=Name.DeviceGray, BitsPerComponent=8)
        page.obj.Resources = Dictionary(XObject=Dictionary(Im0=xobject))
        page.obj.Contents = pdf.make_stream(b"q 100 0 0 100 0 0 cm /Im0 Do Q")
        page.obj.Thumb = pdf.make_stream(b"thumbnail")
        if len(pdf.pages) * len(image) >= target_mib * MIB:
            break
    pdf.docinfo["/Author"] = "Bench Author"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = ["Bench Author"]
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


PEAKS: dict[str, float] = {}  # MiB, the largest each kind of process reported


def run_bare(data: bytes) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", BARE], input=data, capture_output=True,
                          check=True)
    if not done.stdout.startswith(b"%PDF"):
        raise RuntimeError("bare run wrote no PDF")
    elapsed = time.perf_counter() - started
    PEAKS["bare"] = max(PEAKS.get("bare", 0.0), int(done.stderr.split()[-1]) / 1024)
    return elapsed


def run_sandbox(data: bytes) -> float:
    from cases.attachments.sandbox import Cleaned, clean_in_sandbox

    started = time.perf_counter()
    result = clean_in_sandbox("pdf", data)
    if not isinstance(result, Cleaned):
        raise RuntimeError(f"not cleaned: {result}")
    elapsed = time.perf_counter() - started
    PEAKS["sandbox"] = max(PEAKS.get("sandbox", 0.0), result.peak_kib / 1024)
    return elapsed


def measure(size_mib: int, rounds: int) -> dict[str, Any]:
    data = make_pdf(size_mib)
    PEAKS.clear()
    best = {"bare": float("inf"), "sandbox": float("inf")}
    for _ in range(rounds):  # A B A B: a slow spell of the machine hits both alike
        best["bare"] = min(best["bare"], run_bare(data))
        best["sandbox"] = min(best["sandbox"], run_sandbox(data))
    mib = len(data) / MIB
    peaks = dict(PEAKS)
    result = {
        "file_mib": round(mib, 1), "bare_s": best["bare"], "sandbox_s": best["sandbox"],
        "bare_mib_s": mib / best["bare"], "sandbox_mib_s": mib / best["sandbox"],
        "sandbox_vs_bare": best["bare"] / best["sandbox"],
        "peak_rss_mib": peaks,
    }
    print(f"{mib:6.1f} MiB: bare pikepdf {mib / best['bare']:6.1f} MiB/s, sandboxed cleaning "
          f"{mib / best['sandbox']:6.1f} MiB/s ({result['sandbox_vs_bare']:.2f}x bare); "
          f"peak RSS {peaks['bare']:.0f} MiB bare, {peaks['sandbox']:.0f} MiB worker")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 8 MiB, 3 rounds")
    args = parser.parse_args()
    info = machine()
    print_machine(info)
    sizes = (1, 8) if args.quick else (1, 8, 30)
    results = [measure(size, 3 if args.quick else 5) for size in sizes]
    save("cleaning_quick" if args.quick else "cleaning", {"results": results})


if __name__ == "__main__":
    main()
