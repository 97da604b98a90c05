"""What a file is, by its content (ASVS 5.2: "type by content"), not by its name.

No Flask, one pass: :class:`TypeSniffer` sits in ``cases.content.AttachmentUpload`` and
keeps only the first :data:`HEAD_BYTES` of the plaintext, in memory, while the file streams
through to the encryption; nothing is read twice and nothing readable reaches the disk.
The detected type is stored in the attachment's encrypted metadata beside the name and the
type the browser declared, so the caseworker app can warn when they disagree ("named .pdf,
content is a ZIP archive"). Nothing is refused on this ground: a mislabelled file can
still be evidence, and the caseworker decides.

Archives (ZIP, 7z, RAR, gzip) are recognised but never expanded on the server: only their
first bytes are looked at (for ZIP, the names of the first entries, to tell an Office or
OpenDocument file from a plain archive).

Types are short keys (``"pdf"``, ``"zip"``, ``"docx"``...); :data:`LABELS` says each in
words, :func:`disagreement` decides whether a name and a declared type fit the content.
"""

from __future__ import annotations

from pathlib import PurePosixPath

HEAD_BYTES = 8192  # enough for every signature below and the first entries of a ZIP

UNKNOWN = "unknown"
EMPTY = "empty"
TEXT = "text"

# English, for the caseworker's page (which translates them on display).
LABELS: dict[str, str] = {
    "pdf": "a PDF document",
    "zip": "a ZIP archive",
    "docx": "a Word document (.docx)",
    "xlsx": "an Excel workbook (.xlsx)",
    "pptx": "a PowerPoint presentation (.pptx)",
    "ooxml": "a Microsoft Office document",
    "odt": "an OpenDocument text",
    "ods": "an OpenDocument spreadsheet",
    "odp": "an OpenDocument presentation",
    "odf": "an OpenDocument file",
    "epub": "an e-book (EPUB)",
    "cfb": "an old-style Office file (.doc, .xls, .ppt or .msg)",
    "rtf": "an RTF document",
    "jpeg": "a JPEG image",
    "png": "a PNG image",
    "gif": "a GIF image",
    "webp": "a WebP image",
    "tiff": "a TIFF image",
    "heic": "a HEIC/HEIF image",
    "avif": "an AVIF image",
    "mp4": "an MP4 video or audio file",
    "mov": "a QuickTime video",
    "m4a": "an MP4 audio file",
    "3gp": "a 3GP video",
    "mp3": "an MP3 audio file",
    "ogg": "an Ogg audio or video file",
    "wav": "a WAV audio file",
    "avi": "an AVI video",
    "flac": "a FLAC audio file",
    "matroska": "a Matroska video (.mkv)",
    "webm": "a WebM video",
    "7z": "a 7-Zip archive",
    "rar": "a RAR archive",
    "gzip": "a gzip-compressed file",
    "exe": "a Windows program",
    "elf": "a Linux program",
    TEXT: "plain text",
    "html": "a web page (HTML)",
    "svg": "an SVG image (it can contain scripts)",
    UNKNOWN: "not a format we recognise",
    EMPTY: "empty",
}

_ISO_MEDIA = frozenset({"mp4", "mov", "m4a", "3gp"})
_OOXML = frozenset({"docx", "xlsx", "pptx", "ooxml", "zip"})
_ODF = frozenset({"odt", "ods", "odp", "odf", "zip"})

# File name extension -> the detected types that fit it. Lenient within a family (an
# iPhone .mov and an .mp4 are the same container; a .docx is a ZIP underneath).
_BY_EXTENSION: dict[str, frozenset[str]] = {}


def _fits(types: frozenset[str] | set[str], *extensions: str) -> None:
    for ext in extensions:
        _BY_EXTENSION[ext] = frozenset(types)


_fits({"pdf"}, "pdf")
_fits({"zip", "docx", "xlsx", "pptx", "ooxml", "odt", "ods", "odp", "odf", "epub"}, "zip")
_fits(_OOXML, "docx", "docm", "dotx", "xlsx", "xlsm", "xltx", "pptx", "pptm", "ppsx", "potx")
_fits(_ODF, "odt", "ott", "ods", "ots", "odp", "otp", "odg")
_fits({"epub", "zip"}, "epub")
_fits({"cfb", "rtf", "html", TEXT}, "doc")  # Word opens RTF and HTML saved as .doc
_fits({"cfb", "html", TEXT}, "xls")  # and spreadsheets exported as HTML or CSV
_fits({"cfb"}, "dot", "xlt", "ppt", "pps", "pot", "msg", "vsd", "pub")
_fits({"rtf"}, "rtf")
_fits({"jpeg"}, "jpg", "jpeg", "jpe", "jfif")
_fits({"png"}, "png")
_fits({"gif"}, "gif")
_fits({"webp"}, "webp")
_fits({"tiff"}, "tif", "tiff", "dng", "nef", "cr2", "arw")
_fits({"heic", "avif"}, "heic", "heif", "hif", "avif")
_fits(_ISO_MEDIA, "mp4", "m4v", "mov", "qt", "m4a", "3gp", "3g2")
_fits({"mp3"}, "mp3")
_fits({"ogg"}, "ogg", "oga", "ogv", "opus")
_fits({"wav"}, "wav")
_fits({"avi"}, "avi")
_fits({"flac"}, "flac")
_fits({"matroska", "webm"}, "mkv", "mka", "webm")
_fits({"7z"}, "7z")
_fits({"rar"}, "rar")
_fits({"gzip"}, "gz", "tgz")
_fits({"exe"}, "exe", "dll", "scr", "com")
_fits({TEXT}, "txt", "text", "csv", "tsv", "md", "log", "json", "eml", "ics", "vcf", "srt")
_fits({TEXT}, "yaml", "yml", "ini")
_fits({TEXT, "html"}, "html", "htm", "xhtml", "mht", "mhtml")
_fits({TEXT, "svg"}, "svg", "xml")

# The browser's declared type, used only when the name has no extension we know.
_BY_DECLARED: dict[str, frozenset[str]] = {
    "application/pdf": _BY_EXTENSION["pdf"],
    "application/zip": _BY_EXTENSION["zip"],
    "application/msword": _BY_EXTENSION["doc"],
    "application/rtf": _BY_EXTENSION["rtf"],
    "image/jpeg": _BY_EXTENSION["jpg"],
    "image/png": _BY_EXTENSION["png"],
    "image/gif": _BY_EXTENSION["gif"],
    "image/webp": _BY_EXTENSION["webp"],
    "image/tiff": _BY_EXTENSION["tif"],
    "image/heic": _BY_EXTENSION["heic"],
    "image/heif": _BY_EXTENSION["heic"],
    "video/mp4": _ISO_MEDIA,
    "video/quicktime": _ISO_MEDIA,
    "audio/mp4": _ISO_MEDIA,
    "audio/mpeg": _BY_EXTENSION["mp3"],
    "audio/ogg": _BY_EXTENSION["ogg"],
    "audio/wav": _BY_EXTENSION["wav"],
    "audio/flac": _BY_EXTENSION["flac"],
    "video/webm": _BY_EXTENSION["webm"],
    "video/x-matroska": _BY_EXTENSION["mkv"],
    "text/plain": _BY_EXTENSION["txt"],
    "text/csv": _BY_EXTENSION["csv"],
    "text/html": _BY_EXTENSION["html"],
}

_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EBML = b"\x1a\x45\xdf\xa3"
_SEVEN_ZIP = b"7z\xbc\xaf\x27\x1c"
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
    b"application/epub+zip": "epub",
}
# Control bytes that plain text does not contain (tab, LF, VT, FF, CR and ESC are allowed).
_NOT_TEXT = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])


class TypeSniffer:
    """Feed the file's bytes in order; read :attr:`detected` at the end."""

    def __init__(self) -> None:
        self._head = bytearray()

    def feed(self, data: bytes) -> None:
        room = HEAD_BYTES - len(self._head)
        if room > 0:  # after the head, nothing is kept or copied
            self._head += data[:room]

    @property
    def detected(self) -> str:
        return detect(bytes(self._head))


def detect(head: bytes) -> str:
    """The type of a file that starts with ``head`` (its first bytes, or all of it)."""
    if not head:
        return EMPTY
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte order mark
        return TEXT
    if b"%PDF-" in head[:1024]:  # readers accept junk before the header
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and len(head) >= 12:
        return {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}.get(head[8:12], UNKNOWN)
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"PK\x03\x04"):
        return _zip(head)
    if head.startswith((b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if head.startswith(_CFB):
        return "cfb"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(_SEVEN_ZIP):
        return "7z"
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(_EBML):  # Matroska's header names its document type
        return "webm" if b"\x42\x82\x84webm" in head[:64] else "matroska"
    if head.startswith(b"ID3") or _mp3_frame(head):
        return "mp3"
    if head.startswith(b"MZ"):
        return "exe"
    if head.startswith(b"\x7fELF"):
        return "elf"
    return _text(head)


def _iso_media(head: bytes) -> str:
    """ISO base media (MP4, QuickTime, HEIF...): the ``ftyp`` box lists brands."""
    size = int.from_bytes(head[:4], "big")
    major = head[8:12]
    brands = {major} | {head[i : i + 4] for i in range(16, min(size, len(head), 64) - 3, 4)}
    if brands & _HEIF_BRANDS and major != b"qt  ":
        return "heic"
    if major in (b"avif", b"avis"):
        return "avif"
    if major == b"qt  ":
        return "mov"
    if major in (b"M4A ", b"M4B ", b"M4P "):
        return "m4a"
    if major.startswith((b"3gp", b"3g2")):
        return "3gp"
    return "mp4"


def _zip(head: bytes) -> str:
    """Tell an Office or OpenDocument file from a plain ZIP by its first entries' names."""
    name_length = int.from_bytes(head[26:28], "little")
    first_name = head[30 : 30 + name_length]
    if first_name == b"mimetype":
        extra = int.from_bytes(head[28:30], "little")
        start = 30 + name_length + extra
        for mimetype, kind in _ODF_MIMETYPES.items():
            if head[start : start + len(mimetype)] == mimetype:
                return kind
        return "odf" if head[start:].startswith(b"application/vnd.oasis.") else "zip"
    if b"[Content_Types].xml" in head or b"_rels/.rels" in head:
        for folder, kind in ((b"word/", "docx"), (b"xl/", "xlsx"), (b"ppt/", "pptx")):
            if folder in head:
                return kind
        return "ooxml"
    return "zip"


def _mp3_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a layer, bit rate and sample rate that are
    not "reserved" or "bad"."""
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer != 0 and bitrate != 0xF and rate != 3


def _text(head: bytes) -> str:
    if len(head.translate(None, _NOT_TEXT)) != len(head):
        return UNKNOWN
    # Text in UTF-8 or a legacy 8-bit encoding: no control bytes is the test; only look for
    # markup that a browser would run.
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:256].lower()
    if start.startswith((b"<!doctype html", b"<html", b"<head", b"<script", b"<body")):
        return "html"
    if start.startswith(b"<svg") or (start.startswith(b"<?xml") and b"<svg" in head.lower()):
        return "svg"
    return TEXT


def expected_types(name: str, declared: str = "") -> frozenset[str] | None:
    """The detected types a file of this name (or, without a known extension, this
    declared type) should have; None when neither says anything we know."""
    suffix = PurePosixPath(name.lower()).suffix.lstrip(".")
    if suffix in _BY_EXTENSION:
        return _BY_EXTENSION[suffix]
    return _BY_DECLARED.get(declared.split(";", 1)[0].strip().lower())


def disagreement(name: str, declared: str, detected: str) -> str | None:
    """The words for the content when the name or declared type says otherwise, else None.

    Files stored before detection existed (no ``detected``) and empty files never warn;
    content we cannot recognise warns only where the name promises a format we would."""
    if not detected or detected == EMPTY:
        return None
    expected = expected_types(name, declared)
    if expected is None:
        return LABELS[detected] if detected in ("exe", "elf") else None
    if detected in expected:
        return None
    if detected == UNKNOWN and TEXT in expected:
        return None  # e.g. UTF-16 without a byte order mark, or an unusual encoding
    return LABELS.get(detected, LABELS[UNKNOWN])
