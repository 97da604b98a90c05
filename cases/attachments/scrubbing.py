"""Streaming removal of identifying metadata from attachments (STANDARDS.md, ASVS 14.2.8:
"Attachment metadata is removed unless the reporter consents to keep it").

No Flask, no whole-file buffering: :class:`MetadataScrubber` sits in front of the
encryption in ``cases.content.AttachmentUpload`` and sees each piece as it streams in,
holding back at most a segment header and an identifier. The file type is recognised by
content (the first bytes), never by the name or the declared type.

The image is rebuilt from an **allow-list** of what a decoder needs to show it; every
other segment or chunk goes, known or not, so that a kind of metadata nobody has heard of
yet (as C2PA content credentials were once) is removed too:

* **JPEG** keeps the frame and scan headers, the quantisation, Huffman and arithmetic
  tables, the restart interval and the entropy-coded data; of the application segments
  only APP2 ``ICC_PROFILE`` and APP14 ``Adobe`` (colour decoding needs them) and APP0
  ``JFIF``, which is rewritten without its thumbnail (a thumbnail can show what the
  picture was before it was cropped). Everything else goes: Exif and XMP (APP1), MPF
  previews and depth maps (APP2), JUMBF/C2PA (APP11), APP12, IPTC (APP13), every other
  APPn, comments, extension markers, and anything after the end of the image.
* **PNG** keeps the critical chunks and the ancillary ones that change how it looks
  (transparency, gamma, chromaticities, colour space and ICC profile, significant bits,
  background, pixel size, HDR metadata, animation frames); text, Exif, time, C2PA
  (``caBX``), private and unknown chunks go, and anything after IEND.
* **Anything else** passes through untouched (documents, archives, video: the landing
  page tells reporters to clean those themselves).

What stays can still say something: an ICC profile names the colour space and sometimes
the device family; a JFIF header keeps its pixel density (docs/THREAT_MODEL.md).

A file whose structure breaks the rules part-way (a truncated or damaged image) is not
"repaired": from that point the rest passes through unchanged, so evidence is never
destroyed, and :attr:`MetadataScrubber.complete` is False.
"""

from __future__ import annotations

from enum import Enum

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Segments a decoder needs: SOF0-15 (but JPG, 0xC8), DHT (0xC4) and DAC (0xCC) among them;
# DQT, DNL, DRI, DHP, EXP; and SOS, after which the entropy-coded data follows.
JPEG_DECODING = frozenset({*range(0xC0, 0xC8), *range(0xC9, 0xD0), 0xDB, 0xDC, 0xDD, 0xDE, 0xDF})
JPEG_APP0, JPEG_SOS, JPEG_EOI = 0xE0, 0xDA, 0xD9
# Application segments kept, by their identifier: colour decoding needs these.
JPEG_APP_KEEP = {0xE2: b"ICC_PROFILE\0", 0xEE: b"Adobe"}
JFIF_ID = b"JFIF\0"
JFIF_HEADER = 14  # identifier 5, version 2, units 1, densities 2 + 2, thumbnail size 1 + 1
APP_ID_BYTES = max(JFIF_HEADER, *(len(i) for i in JPEG_APP_KEEP.values()))
# Markers without a length field: TEM, RST0-7, SOI, EOI.
JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8), 0xD8, 0xD9})
PNG_KEEP = frozenset(
    {
        *(b"IHDR", b"PLTE", b"IDAT", b"IEND"),  # critical
        *(b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD", b"pHYs"),
        *(b"cICP", b"mDCV", b"cLLI"),  # HDR colour
        *(b"acTL", b"fcTL", b"fdAT"),  # APNG animation
    }
)
PNG_MAX_CHUNK = 2**31 - 1


class Kind(Enum):
    UNKNOWN = "unknown"  # still sniffing
    JPEG = "jpeg"
    PNG = "png"
    OTHER = "other"


class _State(Enum):
    SNIFF = 1
    JPEG_MARKER = 2
    JPEG_ENTROPY = 3
    PNG_CHUNK = 4
    COPY = 5  # copy ``_remaining`` bytes, then go to ``_then``
    SKIP = 6  # drop ``_remaining`` bytes, then go to ``_then``
    TRAILER = 7  # after the end of the image: drop everything
    PASS = 8  # not an image we clean, or damaged: copy everything


class MetadataScrubber:
    """Feed the file's bytes in order; write what :meth:`feed` and :meth:`finish` return."""

    def __init__(self) -> None:
        self.kind = Kind.UNKNOWN
        self.complete = True  # False once a damaged structure made us stop cleaning
        self.removed: list[str] = []  # what was dropped, e.g. ["APP1", "COM", "tEXt"]
        self._state = _State.SNIFF
        self._then = _State.PASS
        self._remaining = 0
        self._buf = bytearray()

    def feed(self, data: bytes) -> bytes:
        if self._state is _State.PASS and not self._buf:
            return data  # not an image we clean: no copy on the common path
        self._buf += data
        out = bytearray()
        self._run(out)
        return bytes(out)

    def finish(self) -> bytes:
        """The bytes still held back. A file that ends inside a segment keeps its tail."""
        out = bytearray()
        self._run(out)
        if self._state in (_State.SKIP, _State.TRAILER):
            self._buf.clear()
        else:
            if self._buf and self._state is not _State.SNIFF and self._state is not _State.PASS:
                self.complete = False  # truncated mid-header: kept as it is
            out += self._buf
            self._buf.clear()
        return bytes(out)

    # -- the state machine ------------------------------------------------------------

    def _damaged(self) -> None:
        self.complete = False
        self._state = _State.PASS

    def _run(self, out: bytearray) -> None:
        buf = self._buf
        while True:
            state = self._state
            if state is _State.PASS:
                out += buf
                buf.clear()
                return
            if state is _State.TRAILER:
                if buf:
                    if "trailer" not in self.removed:
                        self.removed.append("trailer")
                    buf.clear()
                return
            if state in (_State.COPY, _State.SKIP):
                n = min(self._remaining, len(buf))
                if state is _State.COPY:
                    out += buf[:n]
                del buf[:n]
                self._remaining -= n
                if self._remaining:
                    return
                self._state = self._then
                continue
            if state is _State.SNIFF:
                if not self._sniff(out):
                    return
                continue
            if state is _State.JPEG_MARKER:
                if not self._jpeg_marker(out):
                    return
                continue
            if state is _State.JPEG_ENTROPY:
                if not self._jpeg_entropy(out):
                    return
                continue
            if state is _State.PNG_CHUNK and not self._png_chunk(out):
                return

    def _sniff(self, out: bytearray) -> bool:
        buf = self._buf
        if buf[: len(JPEG_MAGIC)] == JPEG_MAGIC[: len(buf)] and len(buf) < len(JPEG_MAGIC):
            return False
        if buf[: len(PNG_MAGIC)] == PNG_MAGIC[: len(buf)] and len(buf) < len(PNG_MAGIC):
            return False
        if buf.startswith(JPEG_MAGIC):
            self.kind = Kind.JPEG
            out += buf[:2]  # SOI
            del buf[:2]
            self._state = _State.JPEG_MARKER
        elif buf.startswith(PNG_MAGIC):
            self.kind = Kind.PNG
            out += buf[: len(PNG_MAGIC)]
            del buf[: len(PNG_MAGIC)]
            self._state = _State.PNG_CHUNK
        else:
            self.kind = Kind.OTHER
            self._state = _State.PASS
        return True

    def _jpeg_marker(self, out: bytearray) -> bool:
        buf = self._buf
        if len(buf) < 2:
            return False
        if buf[0] != 0xFF:
            self._damaged()
            return True
        marker = buf[1]
        if marker == 0xFF:  # fill byte before a marker
            del buf[0]
            return True
        if marker in JPEG_STANDALONE:
            out += buf[:2]
            del buf[:2]
            if marker == JPEG_EOI:
                self._state = _State.TRAILER
            return True
        if len(buf) < 4:
            return False
        length = (buf[2] << 8) | buf[3]
        if length < 2:
            self._damaged()
            return True
        keep: bool | bytes = marker in JPEG_DECODING or marker == JPEG_SOS
        if 0xE0 <= marker <= 0xEF:
            wanted = min(length - 2, APP_ID_BYTES)
            if len(buf) < 4 + wanted:
                return False  # the identifier decides
            keep = self._app_segment(marker, bytes(buf[4 : 4 + wanted]))
        self._remaining = length - 2
        if isinstance(keep, bytes):  # a rewritten segment: write it, skip the original
            out += keep
            del buf[:4]
            self._state, self._then = _State.SKIP, _State.JPEG_MARKER
        elif keep:
            out += buf[:4]
            del buf[:4]
            after = _State.JPEG_ENTROPY if marker == JPEG_SOS else _State.JPEG_MARKER
            self._state, self._then = _State.COPY, after
        else:
            self.removed.append(_jpeg_name(marker))
            del buf[:4]
            self._state, self._then = _State.SKIP, _State.JPEG_MARKER
        return True

    def _app_segment(self, marker: int, head: bytes) -> bool | bytes:
        """Keep (True), drop (False) or rewrite (the new segment) an APPn segment."""
        if marker == JPEG_APP0 and head.startswith(JFIF_ID) and len(head) >= JFIF_HEADER:
            if head[12] or head[13]:
                self.removed.append("JFIF thumbnail")
            # The same header with a 0 x 0 thumbnail: length 16 = 2 + 14.
            return b"\xff\xe0\x00\x10" + head[:12] + b"\x00\x00"
        identifier = JPEG_APP_KEEP.get(marker)
        return identifier is not None and head.startswith(identifier)

    def _jpeg_entropy(self, out: bytearray) -> bool:
        """Entropy-coded data after SOS: runs until a marker other than a stuffed 0xFF00
        or a restart marker."""
        buf = self._buf
        at = buf.find(b"\xff")
        if at < 0:
            out += buf
            buf.clear()
            return False
        out += buf[:at]
        del buf[:at]
        if len(buf) < 2:
            return False
        follower = buf[1]
        if follower == 0x00 or 0xD0 <= follower <= 0xD7:
            out += buf[:2]
            del buf[:2]
        elif follower == 0xFF:
            out += buf[:1]  # fill byte: keep it, look again from the next 0xFF
            del buf[:1]
        else:
            self._state = _State.JPEG_MARKER
        return True

    def _png_chunk(self, out: bytearray) -> bool:
        buf = self._buf
        if len(buf) < 8:
            return False
        length = int.from_bytes(buf[:4], "big")
        kind = bytes(buf[4:8])
        if length > PNG_MAX_CHUNK or not kind.isalpha():
            self._damaged()
            return True
        self._remaining = length + 4  # data and CRC
        after = _State.TRAILER if kind == b"IEND" else _State.PNG_CHUNK
        if kind in PNG_KEEP:
            out += buf[:8]
            del buf[:8]
            self._state, self._then = _State.COPY, after
        else:
            self.removed.append(kind.decode("ascii"))
            del buf[:8]
            self._state, self._then = _State.SKIP, after
        return True


def _jpeg_name(marker: int) -> str:
    if 0xE0 <= marker <= 0xEF:
        return f"APP{marker - 0xE0}"
    return "COM" if marker == 0xFE else f"marker 0x{marker:02X}"


def scrub_picture(data: bytes) -> bytes | None:
    """A whole JPEG or PNG held in memory (a picture inside a PDF or an Office file) with
    its metadata removed, or None when there was nothing to remove, it is no JPEG or PNG,
    or it is damaged (then it stays exactly as it is)."""
    scrubber = MetadataScrubber()
    cleaned = scrubber.feed(data) + scrubber.finish()
    if scrubber.kind not in (Kind.JPEG, Kind.PNG) or not scrubber.complete:
        return None
    return cleaned if scrubber.removed else None
