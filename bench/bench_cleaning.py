"""Cleaning PDFs, Word files, videos and MP3s in the sandboxed worker, against a bare run
of the same library.

    .venv/bin/python -m bench.bench_cleaning [--quick]

The PDFs are made here with pikepdf: pages of uncompressed image streams to about 1, 8 and
30 MiB (``--quick``: 1 and 8), with document information, XMP and thumbnails; the Word files
(1 and 8 MiB) from tests/support/officekit's parts with 20,000 tracked paragraphs and an
incompressible image part; the QuickTime videos (8 and 30 MiB; ``--quick``: 8) as a phone
writes them, tagged with a place and a device, 720p Motion-JPEG frames of incompressible
bytes and PCM sound (a remux copies packets and never decodes them); the MP3 (8 MiB) of
valid frames with ID3 tags and a cover picture. Timed, alternately, best of 5:
``cases.attachments.sandbox.clean_in_sandbox`` (the worker process: isolated Python, its
limits, pikepdf open, the walk over every object, a fresh save) against a bare process
that only opens the same bytes with pikepdf and saves them, or for Word files reads and
rewrites every ZIP entry with the standard library, for videos remuxes every packet with
PyAV, for MP3s deletes the tags with mutagen (``python -c``, fed on stdin the same way).
Reported: MiB/s of each, the ratio, and each process's peak RSS. No target was set by the
issue beyond measuring; the ratio is what to watch.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._common import MIB, best_of_self_timed, machine, print_machine, save

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

# The bare Office run: read every entry of the archive and write it again, stdlib zipfile.
BARE_OFFICE = ("import io, sys, zipfile; data = sys.stdin.buffer.read(); "
               "src = zipfile.ZipFile(io.BytesIO(data)); out = io.BytesIO(); "
               "dst = zipfile.ZipFile(out, 'w'); "
               "[dst.writestr(i, src.read(i)) for i in src.infolist()]; dst.close(); "
               "sys.stdout.buffer.write(out.getvalue()); "
               "from cases.attachments.cleaner_worker import peak_memory_kib; "
               "print(peak_memory_kib(), file=sys.stderr)")
BARE_PDF = ("import io, sys, pikepdf; data = sys.stdin.buffer.read(); "
            "pdf = pikepdf.open(io.BytesIO(data)); out = io.BytesIO(); pdf.save(out); "
            "sys.stdout.buffer.write(out.getvalue()); "
            "from cases.attachments.cleaner_worker import peak_memory_kib; "
            "print(peak_memory_kib(), file=sys.stderr)")
# The bare video run: every packet into a new container of the same format, nothing else.
BARE_VIDEO = ("import io, sys, av; data = sys.stdin.buffer.read(); "
              "src = av.open(io.BytesIO(data)); out = io.BytesIO(); "
              "dst = av.open(out, 'w', format='mov'); "
              "m = {s.index: dst.add_stream_from_template(s) for s in src.streams}; "
              "[(setattr(p, 'stream', m[p.stream.index]), dst.mux(p)) for p in src.demux() "
              "if p.dts is not None]; dst.close(); sys.stdout.buffer.write(out.getvalue()); "
              "from cases.attachments.cleaner_worker import peak_memory_kib; "
              "print(peak_memory_kib(), file=sys.stderr)")
BARE_MP3 = ("import io, sys, mutagen; b = io.BytesIO(sys.stdin.buffer.read()); "
            "f = mutagen.File(b); b.seek(0); f.delete(b); sys.stdout.buffer.write(b.getvalue()); "
            "from cases.attachments.cleaner_worker import peak_memory_kib; "
            "print(peak_memory_kib(), file=sys.stderr)")
# kind -> (the bare run, the worker's kind, how the output starts)
KINDS = {"pdf": (BARE_PDF, "pdf", b"%PDF"), "docx": (BARE_OFFICE, "office", b"PK"),
         "mov": (BARE_VIDEO, "media", b"\0"), "mp3": (BARE_MP3, "media", b"\xff")}


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


def make_docx(target_mib: int) -> bytes:
    """A Word file of about ``target_mib``: text with authors and rsids, and an image part."""
    import officekit  # tests/support: the same parts the tests clean

    parts = dict(officekit.DOCX_PARTS)
    words = [os.urandom(4).hex() for _ in range(2000)]  # text that compresses like text
    paragraphs = "".join(
        f'<w:p w:rsidR="00A1B2C3"><w:ins w:author="Bench Author" w:date="2026-01-01">'
        f"<w:r><w:t>{' '.join(words[(i * 7 + k) % 2000] for k in range(12))}</w:t></w:r>"
        "</w:ins></w:p>" for i in range(20_000))
    parts["word/document.xml"] = parts["word/document.xml"].replace(
        "<w:body>", "<w:body>" + paragraphs)
    out = io.BytesIO(officekit.archive(parts))
    import zipfile

    with zipfile.ZipFile(out, "a") as z:  # an incompressible image, as photos are
        z.writestr("word/media/image1.jpeg", os.urandom(max(target_mib * MIB - len(
            out.getvalue()), 1024)))
    return out.getvalue()


def make_video(target_mib: int) -> bytes:
    """A QuickTime file of about ``target_mib``: 30 frames a second of 160 KiB each (a
    phone's 720p bit rate) and stereo PCM, with a place and a device in its tags."""
    from fractions import Fraction

    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mov") as out:
        out.metadata.update({"title": "Bench", "location": "+12.3456+065.4321/",
                             "make": "Bench", "model": "Bench"})
        video = out.add_stream("mjpeg", rate=30)
        video.width, video.height, video.pix_fmt = 1280, 720, "yuvj420p"
        sound = out.add_stream("pcm_s16le", rate=48000)
        frame = 0
        while frame * (160 * 1024 + 6400) < target_mib * MIB:
            for stream, size, tick, base in ((video, 160 * 1024, frame, 30),
                                             (sound, 6400, frame * 1600, 48000)):
                packet = av.Packet(os.urandom(size))
                packet.stream, packet.pts, packet.dts = stream, tick, tick
                packet.time_base, packet.is_keyframe = Fraction(1, base), True
                out.mux(packet)
            frame += 1
    return buf.getvalue()


def make_mp3(target_mib: int) -> bytes:
    """Valid MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz: 417 bytes each) of noise,
    with ID3 tags and a 256 KiB cover picture."""
    from mutagen.id3 import APIC, ID3, TIT2

    frame = b"\xff\xfb\x90\x00"
    body = b"".join(frame + os.urandom(413) for _ in range(target_mib * MIB // 417))
    buf = io.BytesIO(body)
    tags = ID3()
    tags.add(TIT2(encoding=3, text="Bench"))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="", data=os.urandom(256 * 1024)))
    tags.save(buf)
    return buf.getvalue()


MAKERS = {"pdf": make_pdf, "docx": make_docx, "mov": make_video, "mp3": make_mp3}


def run_bare(data: bytes, kind: str) -> float:
    bare, _worker, start = KINDS[kind]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", bare], input=data,
                          capture_output=True, check=True)
    if not done.stdout.startswith(start):
        raise RuntimeError("bare run wrote nothing")
    elapsed = time.perf_counter() - started
    PEAKS["bare"] = max(PEAKS.get("bare", 0.0), int(done.stderr.split()[-1]) / 1024)
    return elapsed


def run_sandbox(data: bytes, kind: str) -> float:
    from cases.attachments.sandbox import Cleaned, clean_in_sandbox

    started = time.perf_counter()
    result = clean_in_sandbox(KINDS[kind][1], data)
    if not isinstance(result, Cleaned):
        raise RuntimeError(f"not cleaned: {result}")
    elapsed = time.perf_counter() - started
    PEAKS["sandbox"] = max(PEAKS.get("sandbox", 0.0), result.peak_kib / 1024)
    return elapsed


def measure(size_mib: int, rounds: int, kind: str = "pdf") -> dict[str, Any]:
    data = MAKERS[kind](size_mib)
    PEAKS.clear()
    best = best_of_self_timed({"bare": lambda: run_bare(data, kind),  # A B A B
                               "sandbox": lambda: run_sandbox(data, kind)}, rounds)
    mib = len(data) / MIB
    peaks = dict(PEAKS)
    result = {
        "kind": kind, "file_mib": round(mib, 1),
        "bare_s": best["bare"], "sandbox_s": best["sandbox"],
        "bare_mib_s": mib / best["bare"], "sandbox_mib_s": mib / best["sandbox"],
        "sandbox_vs_bare": best["bare"] / best["sandbox"],
        "peak_rss_mib": peaks,
    }
    print(f"{kind:6} {mib:6.1f} MiB: bare {mib / best['bare']:6.1f} MiB/s, sandboxed cleaning "
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
    rounds = 3 if args.quick else 5
    results = [measure(size, rounds) for size in sizes]
    results += [measure(size, rounds, "docx") for size in sizes[:2]]
    results += [measure(size, rounds, "mov") for size in sizes[1:]]
    results.append(measure(8, rounds, "mp3"))
    save("cleaning_quick" if args.quick else "cleaning", {"results": results})


if __name__ == "__main__":
    main()
