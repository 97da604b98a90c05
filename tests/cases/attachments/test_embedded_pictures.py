"""A photo pasted into a document keeps its camera's Exif (maker, artist, GPS) inside the
document: the Office and PDF cleaners rebuild every JPEG and PNG inside from the same
allow-list as an uploaded photo, pixels untouched."""

from __future__ import annotations

import io

import officekit
import pikepdf
from photokit import exif_jpeg, pixels

from cases.attachments.sandbox import Cleaned, clean_in_sandbox

SECRET = "MARKER-IN-THE-PHOTO"


def test_pictures_inside_office_files_lose_their_exif() -> None:
    photo = exif_jpeg(SECRET)
    for parts, where in ((officekit.DOCX_PARTS, "word/media/image1.jpeg"),
                         (officekit.ODT_PARTS, "Pictures/photo.jpg")):
        dirty = officekit.archive({**parts, where: photo})
        result = clean_in_sandbox("office", dirty)
        assert isinstance(result, Cleaned)
        inside = officekit.entries(result.data)[where]
        assert SECRET.encode() not in inside and b"Exif" not in inside
        assert pixels(inside) == pixels(photo)
        assert "images" in result.removed


def test_jpeg_pictures_inside_a_pdf_lose_their_exif() -> None:
    photo = exif_jpeg(SECRET)
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, photo)
    image.update({"/Type": pikepdf.Name.XObject, "/Subtype": pikepdf.Name.Image,
                  "/Width": 48, "/Height": 32, "/ColorSpace": pikepdf.Name.DeviceRGB,
                  "/BitsPerComponent": 8, "/Filter": pikepdf.Name.DCTDecode})
    page = pdf.add_blank_page(page_size=(48, 32))
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pdf.make_stream(b"q 48 0 0 32 0 0 cm /Im0 Do Q")
    out = io.BytesIO()
    pdf.save(out)
    dirty = out.getvalue()
    assert SECRET.encode() in dirty
    result = clean_in_sandbox("pdf", dirty)
    assert isinstance(result, Cleaned)
    assert SECRET.encode() not in result.data and "images" in result.removed
    with pikepdf.open(io.BytesIO(result.data)) as cleaned:
        kept = cleaned.pages[0].Resources.XObject.Im0
        assert kept.Filter == pikepdf.Name.DCTDecode
        assert pixels(kept.read_raw_bytes()) == pixels(photo)
