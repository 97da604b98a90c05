"""PDF cleaning in the sandboxed worker: a PDF made by the test with a marker in every
place that can betray its author comes out with no marker, in its raw bytes or in any
stream, and still opens and reads the same in PDFium (Chrome's PDF reader); hostile and
broken files are contained and kept as sent; the worker can write no file."""

from __future__ import annotations

import io
import subprocess
import sys

import pdfkit
import pikepdf
import pypdfium2 as pdfium
import pytest

from cases.attachments.cleaning import AttachmentCleaner, outcome
from cases.attachments.sandbox import Cleaned, Limits, NotCleaned, clean_in_sandbox


@pytest.fixture(scope="module")
def dirty() -> bytes:
    return pdfkit.hidden_everywhere()


def test_the_corpus_has_a_marker_in_every_place(dirty: bytes) -> None:
    found = b" ".join(pdfkit.markers_in(dirty))
    for marker in (b"MARKER-AUTHOR", b"MARKER-PRODUCER", b"MARKER-XMP-CREATOR",
                   b"MARKER-PAGE-XMP", b"MARKER-EMBEDDED-CONTENT", b"MARKER-embedded.txt",
                   b"MARKER-ANNOT-FILE", b"MARKER-OPEN", b"MARKER-NAMED-JS", b"MARKER-LINK-JS",
                   b"MARKER-COMMENT-AUTHOR", b"MARKER-THUMBNAIL", b"MARKER-PIECEINFO",
                   b"MARKER-OLD-TEXT", b"MARKER-ID-0"):
        assert marker in found, marker


def test_every_marker_is_gone_and_the_document_still_reads(dirty: bytes) -> None:
    result = clean_in_sandbox("pdf", dirty)
    assert isinstance(result, Cleaned)
    assert pdfkit.markers_in(result.data) == []
    assert set(result.removed) == {"info", "xmp", "embedded", "scripts", "authors",
                                   "thumbnails", "private", "revisions", "id"}
    with pikepdf.open(io.BytesIO(result.data)) as pdf:
        assert len(pdf.pages) == 1 and b"MARKER" not in bytes(pdf.trailer.ID[0])
        assert len(pdf.pages[0].Annots) == 3  # the comment stays, without its author
    document = pdfium.PdfDocument(result.data)
    assert document[0].get_textpage().get_text_range() == pdfkit.KEPT.decode()
    assert result.data.count(b"%%EOF") == 1  # written anew: no earlier revision


def test_a_clean_file_says_nothing_was_found() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    result = clean_in_sandbox("pdf", out.getvalue())
    assert isinstance(result, Cleaned) and set(result.removed) <= {"id"}


@pytest.mark.parametrize(
    ("data", "limits", "reason"),
    [
        (b"%PDF-1.7\n this is no PDF at all", Limits(), "failed"),
        (b"%PDF-1.4\n1 0 obj << /Kids [1 0 R] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
         Limits(), "failed"),
        (None, Limits(memory_bytes=16 * 1024 * 1024), "failed"),  # out of memory: contained
        (None, Limits(wall_seconds=0.01), "timeout"),
    ],
)
def test_hostile_or_broken_files_are_contained(dirty: bytes, data: bytes | None,
                                               limits: Limits, reason: str) -> None:
    assert clean_in_sandbox("pdf", dirty if data is None else data, limits) == NotCleaned(reason)


def test_the_worker_can_write_no_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "leak"
    code = ("from cases.attachments.cleaner_worker import confine; confine(2**30, 5); "
            f"f = open({str(target)!r}, 'wb'); f.write(b'plaintext'); f.flush()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert done.returncode != 0 and b"File too large" in done.stderr  # the limit is 0 bytes
    assert not target.exists() or target.read_bytes() == b""


def test_the_cleaner_holds_a_pdf_and_streams_everything_else(dirty: bytes) -> None:
    cleaner = AttachmentCleaner()
    out = b"".join(cleaner.feed(dirty[i:i + 1000]) for i in range(0, len(dirty), 1000))
    assert out == b""  # held in memory until complete
    out += cleaner.finish()
    assert pdfkit.markers_in(out) == [] and outcome(cleaner.report())[0] == "removed"
    text = AttachmentCleaner()
    assert text.feed(b"plain notes") + text.finish() == b"plain notes"
    assert outcome(text.report()) == ("unsupported", [])


def test_a_pdf_over_the_bound_is_kept_as_sent(dirty: bytes) -> None:
    cleaner = AttachmentCleaner(max_held=1024)
    out = b"".join(cleaner.feed(dirty[i:i + 500]) for i in range(0, len(dirty), 500))
    out += cleaner.finish()
    assert out == dirty and outcome(cleaner.report()) == ("too_large", [])


def test_a_pdf_the_worker_cannot_clean_is_kept_as_sent(dirty: bytes) -> None:
    cleaner = AttachmentCleaner(sandbox=lambda kind, data: NotCleaned("timeout"))
    assert cleaner.feed(dirty) + cleaner.finish() == dirty
    assert outcome(cleaner.report()) == ("unreadable", [])


def test_form_values_stay_unless_the_reporter_asks() -> None:
    form = pdfkit.filled_form()
    kept = clean_in_sandbox("pdf", form)
    assert isinstance(kept, Cleaned) and pdfkit.markers_in(kept.data)  # the evidence stays
    assert "form_values" not in kept.removed
    emptied = clean_in_sandbox("pdf-forms", form)
    assert isinstance(emptied, Cleaned) and pdfkit.markers_in(emptied.data) == []
    assert "form_values" in emptied.removed
    with pikepdf.open(io.BytesIO(emptied.data)) as pdf:
        fields = {str(f.T): f for f in pdf.Root.AcroForm.Fields}
        assert set(fields) == {"claimant", "witnessed"}  # the form itself stays
        assert "/V" not in fields["claimant"] and pikepdf.Name.Off == fields["witnessed"].AS
        assert pdf.Root.AcroForm.NeedAppearances is True


def test_the_cleaner_asks_the_worker_to_empty_forms_only_when_told() -> None:
    seen: list[str] = []

    def sandbox(kind: str, data: bytes) -> Cleaned:
        seen.append(kind)
        return Cleaned(data, [])

    for clear in (False, True):
        cleaner = AttachmentCleaner(sandbox=sandbox, clear_form_fields=clear)
        cleaner.feed(pdfkit.filled_form())
        cleaner.finish()
    assert seen == ["pdf", "pdf-forms"]
