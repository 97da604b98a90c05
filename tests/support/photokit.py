"""Photos made by Pillow for the metadata tests: Exif with camera, artist and GPS, XMP,
IPTC, a comment and a trailer, each carrying the test's secret."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, PngImagePlugin


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


def png_with_metadata(secret: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", f"author {secret}")
    info.add_text("Comment", f"compressed {secret}" * 20, zip=True)
    info.add_itxt("XML:com.adobe.xmp", f"<x:xmpmeta>{secret}</x:xmpmeta>", lang="en")
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x013B] = f"Artist {secret}"
    photo().save(buf, "PNG", pnginfo=info, exif=exif)
    data = buf.getvalue()
    # A tIME chunk before IEND, and data after IEND.
    payload = struct.pack(">HBBBBB", 2026, 11, 23, 7, 15, 0)
    chunk = struct.pack(">I", len(payload)) + b"tIME" + payload
    chunk += struct.pack(">I", zlib.crc32(b"tIME" + payload))
    iend = data.rindex(b"IEND") - 4
    return data[:iend] + chunk + data[iend:] + b"after-iend " + secret.encode()


def jpeg_with_unusual_segments(secret: str) -> bytes:
    """Metadata a deny-list missed: C2PA/JUMBF (APP11), APP12, APP3, APP15, an MPF preview
    (APP2 that is no ICC profile), a JFIF thumbnail; and what must stay: ICC and Adobe."""
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    photo().save(buf, "JPEG", quality=90, icc_profile=icc)
    data = buf.getvalue()
    assert data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\0"
    jfif_end = 4 + struct.unpack(">H", data[4:6])[0]
    token = secret.encode()
    thumb = app_segment(0xE0, b"JFIF\0\x01\x01\x00\x00\x01\x00\x01"
                        + bytes([len(token), 1]) + token * 3)
    extra = b"".join([
        app_segment(0xEB, b"JP\0\0" + b"jumb" + b"c2pa " + token),  # C2PA content credentials
        app_segment(0xEC, b"Ducky\0" + token),
        app_segment(0xE3, b"META\0" + token),
        app_segment(0xEF, b"vendor " + token),
        app_segment(0xE2, b"MPF\0" + token),  # multi-picture: previews, depth maps
        app_segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01"),  # colour transform: kept
    ])
    return data[:2] + thumb + extra + data[jfif_end:]


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))
