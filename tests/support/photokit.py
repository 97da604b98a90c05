"""Photos made by Pillow for the metadata tests: Exif with camera, artist and GPS, XMP,
IPTC, a comment and a trailer, each carrying the test's secret."""

from __future__ import annotations

import io
import struct

from PIL import Image


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB").tobytes()


def photo(size: tuple[int, int] = (64, 48)) -> Image.Image:
    im = Image.new("RGB", size)
    im.putdata([((x * 7) % 256, (y * 5) % 256, (x * y) % 256) for y in range(size[1])
                for x in range(size[0])])
    return im


def app_segment(marker_byte: int, payload: bytes) -> bytes:
    return b"\xff" + bytes([marker_byte]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with_metadata(secret: str, *, progressive: bool = False) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = f"CameraMaker {secret}"  # Make
    exif[0x013B] = f"Artist {secret}"  # Artist
    exif[0x8825] = {2: (51.0, 30.0, 0.0), 1: "N"}  # GPS IFD: latitude
    buf = io.BytesIO()
    photo().save(buf, "JPEG", exif=exif, quality=90, progressive=progressive,
                 comment=f"comment {secret}".encode())
    data = buf.getvalue()
    xmp = app_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>" + secret.encode()
                      + b"</x:xmpmeta>")
    iptc = app_segment(0xED, b"Photoshop 3.0\08BIM\x04\x04" + secret.encode())
    trailer = b"SAMSUNG-TRAILER " + secret.encode()
    return data[:2] + xmp + iptc + data[2:] + trailer


def exif_jpeg(secret: str) -> bytes:
    """A plain camera JPEG: Exif only (camera maker, artist, full GPS position)."""
    im = Image.new("RGB", (48, 32))
    im.putdata([((x * 9) % 256, (y * 7) % 256, 90) for y in range(32) for x in range(48)])
    exif = Image.Exif()
    exif[0x010F] = f"CameraMaker {secret}"  # Make
    exif[0x013B] = f"Artist {secret}"  # Artist
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "E", 4: (0.0, 7.0, 40.0)}  # GPS
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif, quality=92)
    return buf.getvalue()
