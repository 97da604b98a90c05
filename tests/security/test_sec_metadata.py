"""Attachment metadata removal (cases.attachments.scrubbing): real JPEG and PNG files made by Pillow
with Exif/GPS, XMP, IPTC, comments and text chunks; the cleaned file must decode to the
same pixels, hold none of the metadata, and come out the same however the upload is cut
into pieces. Then through AttachmentUpload: what is stored (decrypted) is the cleaned
file unless the reporter chose to keep the metadata."""

from __future__ import annotations

import io
import os
import random
import struct

import pytest
from photokit import (
    jpeg_with_metadata,
    jpeg_with_unusual_segments,
    photo,
    pixels,
    png_chunk,
    png_with_metadata,
)
from secutil import marker

from cases.attachments.scrubbing import Kind, MetadataScrubber
from cases.store import Store

Image = pytest.importorskip("PIL.Image", reason="Pillow (test extra) makes the sample images")
PngImagePlugin = pytest.importorskip("PIL.PngImagePlugin")


def scrub(data: bytes, piece: int | None = None, seed: int = 0) -> tuple[bytes, MetadataScrubber]:
    s = MetadataScrubber()
    out = bytearray()
    if piece is None:
        rng = random.Random(seed)
        i = 0
        while i < len(data):
            n = rng.choice([1, 2, 3, 7, 64, 1000, 65536])
            out += s.feed(data[i : i + n])
            i += n
    else:
        for i in range(0, len(data), piece):
            out += s.feed(data[i : i + piece])
    out += s.finish()
    return bytes(out), s


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_loses_exif_gps_xmp_iptc_comment_and_trailer(progressive: bool) -> None:
    secret = marker("jpeg")
    original = jpeg_with_metadata(secret, progressive=progressive)
    assert original.count(secret.encode()) >= 5
    cleaned, s = scrub(original)
    assert s.kind is Kind.JPEG and s.complete
    assert secret.encode() not in cleaned
    assert {"APP1", "APP13", "COM", "trailer"} <= set(s.removed)
    assert pixels(cleaned) == pixels(original)
    with Image.open(io.BytesIO(cleaned)) as im:
        assert not im.getexif() and "comment" not in im.info


def test_png_loses_text_itxt_ztxt_exif_time_and_trailer() -> None:
    secret = marker("png")
    original = png_with_metadata(secret)
    cleaned, s = scrub(original)
    assert s.kind is Kind.PNG and s.complete
    assert secret.encode() not in cleaned and b"tIME" not in cleaned
    assert {"tEXt", "zTXt", "iTXt", "eXIf", "tIME", "trailer"} <= set(s.removed)
    assert pixels(cleaned) == pixels(original)


@pytest.mark.filterwarnings("ignore:Image appears to be a malformed MPO file")
def test_jpeg_is_rebuilt_from_an_allow_list_of_segments() -> None:
    secret = marker("allow")
    original = jpeg_with_unusual_segments(secret)
    assert original.count(secret.encode()) >= 6
    cleaned, s = scrub(original)
    assert s.complete and secret.encode() not in cleaned
    assert {"APP11", "APP12", "APP3", "APP15", "APP2", "JFIF thumbnail"} <= set(s.removed)
    assert pixels(cleaned) == pixels(original)
    with Image.open(io.BytesIO(cleaned)) as im:
        assert im.info.get("icc_profile")  # the colour profile stays
        assert im.info.get("jfif") and "adobe" in im.info
    for piece in (1, 3, 7):
        assert scrub(original, piece=piece)[0] == cleaned


def test_png_is_rebuilt_from_an_allow_list_of_chunks() -> None:
    secret = marker("pngallow").encode()
    buf = io.BytesIO()
    photo().save(buf, "PNG")
    data = buf.getvalue()
    ihdr_end = 8 + 25
    extra = (png_chunk(b"caBX", b"jumb c2pa " + secret) + png_chunk(b"prVt", secret)
             + png_chunk(b"zzZz", secret) + png_chunk(b"gAMA", struct.pack(">I", 45455)))
    original = data[:ihdr_end] + extra + data[ihdr_end:]
    cleaned, s = scrub(original)
    assert s.complete and secret not in cleaned
    assert {"caBX", "prVt", "zzZz"} <= set(s.removed)
    assert b"gAMA" in cleaned
    assert pixels(cleaned) == pixels(original)


@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_result_does_not_depend_on_how_the_stream_is_cut(kind: str) -> None:
    secret = marker(kind)
    original = jpeg_with_metadata(secret) if kind == "jpeg" else png_with_metadata(secret)
    whole, _ = scrub(original, piece=len(original))
    for piece in (1, 2, 3, 5, 4096):
        assert scrub(original, piece=piece)[0] == whole
    for seed in range(5):
        assert scrub(original, seed=seed)[0] == whole


def test_large_jpeg_streams_without_holding_it(tmp_path: object) -> None:
    secret = marker("big")
    buf = io.BytesIO()
    noise = Image.frombytes("RGB", (1600, 1200), os.urandom(1600 * 1200 * 3))
    noise.save(buf, "JPEG", quality=95, comment=secret.encode())
    original = buf.getvalue()
    assert len(original) > 2_000_000
    s = MetadataScrubber()
    out = bytearray()
    for i in range(0, len(original), 65536):
        out += s.feed(original[i : i + 65536])
        assert len(s._buf) < 16  # only a few bytes of a header are ever held back
    out += s.finish()
    assert secret.encode() not in out and pixels(bytes(out)) == pixels(original)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n" + os.urandom(5000),
        os.urandom(10_000),
        b"\xff\xd8",  # too short to be an image
        b"",
        b"\x89PN",
    ],
)
def test_other_files_pass_through_unchanged(data: bytes) -> None:
    assert scrub(data)[0] == data
    assert scrub(data, piece=1)[0] == data


def test_damaged_images_are_kept_not_destroyed() -> None:
    secret = marker("dmg")
    good = jpeg_with_metadata(secret)
    truncated = good[: len(good) // 2]
    out, s = scrub(truncated)
    assert out and not out.startswith(good[:2] + b"\xff\xe1")  # metadata before the cut: gone
    # A comment (dropped), then bytes that are no JPEG marker: from there on, kept as is.
    rest = b"\x00\x00garbage" + good[2:]
    out, s = scrub(good[:2] + b"\xff\xfe\x00\x04ab" + rest)
    assert not s.complete and out == good[:2] + rest


@pytest.mark.parametrize("keep", [False, True])
def test_attachment_upload_stores_the_cleaned_image_unless_kept(store: Store, keep: bool) -> None:
    from cases.content import list_attachments, open_attachment
    from cases.keyring import reporter_thread_key
    from cases.models import Attachment
    from cases.reporting.followup import find_case
    from cases.reporting.submission import Submission, new_submission

    secret = marker("upl")
    original = jpeg_with_metadata(secret)
    with new_submission(store) as draft:
        upload = draft.new_attachment(keep_metadata=keep)
        for i in range(0, len(original), 1000):
            upload.write(original[i : i + 1000])
        draft.attach(upload, "photo.jpg", "image/jpeg")
        receipt = draft.finalize(Submission(report={"text": "see photo"}))
    with store.transaction() as session:
        case, keys = find_case(session, store.settings, receipt)
        assert case is not None
        thread = reporter_thread_key(session, case.id, keys.private_key)
        [meta] = list_attachments(session, case.id, thread)
        row = session.get_one(Attachment, meta.id)
        stored = b"".join(open_attachment(store.blobs, session, row, thread))
    if keep:
        assert stored == original
    else:
        assert secret.encode() not in stored and pixels(stored) == pixels(original)
    assert meta.size == len(stored)
