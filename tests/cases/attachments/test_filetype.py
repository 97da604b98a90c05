"""Type by content (ASVS 5.2), cases/attachments/filetype.py: each format known by its
first bytes, a head kept bounded however the stream is cut, and the warning a caseworker
sees when the declared type disagrees with the content."""

from __future__ import annotations

import io
import zipfile

import pytest

from cases.attachments.filetype import HEAD_BYTES, TypeSniffer, detect, disagreement


def _zip(*entries: tuple[str, str], first_stored: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, (name, text) in enumerate(entries):
            method = zipfile.ZIP_STORED if first_stored and i == 0 else zipfile.ZIP_DEFLATED
            zf.writestr(zipfile.ZipInfo(name), text, compress_type=method)
    return buf.getvalue()


DOCX = _zip(
    ("[Content_Types].xml", "<Types/>"),
    ("_rels/.rels", "<Relationships/>"),
    ("word/document.xml", "<w:document/>"),
)
XLSX = _zip(("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<workbook/>"))
ODT = _zip(
    ("mimetype", "application/vnd.oasis.opendocument.text"),
    ("content.xml", "<office:document-content/>"),
    first_stored=True,
)
PLAIN_ZIP = _zip(("ledger.csv", "a,b\n1,2\n"))

SAMPLES = {
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
    "zip": PLAIN_ZIP,
    "docx": DOCX,
    "xlsx": XLSX,
    "odt": ODT,
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "gif": b"GIF89a\x01\x00\x01\x00",
    "webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    "mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41",
    "mov": b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ",
    "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    "ogg": b"OggS\x00\x02\x00\x00",
    "wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
    "rtf": b"{\\rtf1\\ansi\\deff0 ",
    "cfb": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 24,
    "7z": b"7z\xbc\xaf\x27\x1c\x00\x04",
    "rar": b"Rar!\x1a\x07\x01\x00",
    "gzip": b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
    "text": "Überweisung an die Firma, 12.000 €\r\n".encode(),
    "html": b"<!DOCTYPE html><html><script>alert(1)</script>",
    "exe": b"MZ\x90\x00\x03\x00\x00\x00",
    "unknown": bytes(range(256)),
    "empty": b"",
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_detect_common_formats_by_their_first_bytes(kind: str) -> None:
    assert detect(SAMPLES[kind]) == kind


def test_utf16_text_is_not_taken_for_mp3() -> None:
    assert detect("notes".encode("utf-16")) == "text"


def test_sniffer_keeps_only_the_head_however_the_file_is_cut() -> None:
    data = DOCX + bytes(range(256)) * 200
    for piece in (1, 7, 4096, len(data)):
        sniffer = TypeSniffer()
        for i in range(0, len(data), piece):
            sniffer.feed(data[i : i + piece])
        assert sniffer.detected == "docx"
        assert len(sniffer._head) == HEAD_BYTES  # memory stays bounded


@pytest.mark.parametrize(
    ("name", "declared", "detected", "warning"),
    [
        ("invoice.pdf", "application/pdf", "zip", "a ZIP archive"),
        ("invoice.pdf", "application/pdf", "pdf", None),
        ("contract.docx", "", "docx", None),
        ("contract.docx", "", "zip", None),  # an Office file is a ZIP underneath
        ("photo.JPG", "image/jpeg", "exe", "a Windows program"),
        ("photo.jpg", "image/jpeg", "unknown", "not a format we recognise"),
        ("IMG_0001.MOV", "video/quicktime", "mp4", None),
        ("notes.txt", "text/plain", "html", "a web page (HTML)"),
        ("notes.txt", "text/plain", "unknown", None),  # odd encodings are still text
        ("scan", "application/pdf", "jpeg", "a JPEG image"),  # no extension: declared type
        ("data.xyz", "application/octet-stream", "zip", None),
        ("data.xyz", "application/octet-stream", "elf", "a Linux program"),
        ("empty.pdf", "application/pdf", "empty", None),
        ("old.pdf", "application/pdf", "", None),  # stored before detection existed
    ],
)
def test_disagreement(name: str, declared: str, detected: str, warning: str | None) -> None:
    assert disagreement(name, declared, detected) == warning
