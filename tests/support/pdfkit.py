"""PDFs made by the tests with pikepdf, a marker in every place a PDF can betray its
author: the document information, XMP (document and page), an embedded file (name and
content), a file-attachment annotation, JavaScript (open action, name tree, a link's
action), a comment's author and date, a page thumbnail, application private data, the
document identifier, and an earlier revision kept by an incremental update. The page's
own text carries a marker that must survive."""

from __future__ import annotations

import io
import re
import zlib

import pikepdf
from pikepdf import Array, Dictionary, Name, String

KEPT = b"KEEP-THE-EVIDENCE"
SECRET = "MARKER"  # every hidden field's text starts with it


def _page_text(text: bytes) -> bytes:
    return b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"


def hidden_everywhere() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(612, 792))
    page = pdf.pages[0]
    font = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    page.obj.Resources = Dictionary(Font=Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(_page_text(b"MARKER-OLD-TEXT"))
    info = {"/Author": "MARKER-AUTHOR", "/Creator": "MARKER-CREATOR",
            "/Producer": "MARKER-PRODUCER", "/Title": "MARKER-TITLE",
            "/Subject": "MARKER-SUBJECT", "/Keywords": "MARKER-KEYWORDS"}
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["dc:creator"] = ["MARKER-XMP-CREATOR"]
        meta["xmp:CreatorTool"] = "MARKER-XMP-TOOL"
    for key, value in info.items():
        pdf.docinfo[key] = value
    page.obj.Metadata = pdf.make_stream(b"<x:xmpmeta>MARKER-PAGE-XMP</x:xmpmeta>")
    pdf.attachments["MARKER-embedded.txt"] = pikepdf.AttachedFileSpec(
        pdf, b"MARKER-EMBEDDED-CONTENT", filename="MARKER-embedded.txt")
    spec = pikepdf.AttachedFileSpec(pdf, b"MARKER-ANNOT-FILE", filename="MARKER-annot.txt")
    comment = Dictionary(Type=Name.Annot, Subtype=Name.Text, Rect=[10, 10, 30, 30],
                         T=String("MARKER-COMMENT-AUTHOR"), M=String("D:20260101MARKER"),
                         Contents=String("a comment"))
    attached = Dictionary(Type=Name.Annot, Subtype=Name.FileAttachment, Rect=[40, 10, 60, 30],
                          FS=spec.obj)
    link = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[70, 10, 90, 30],
                      A=Dictionary(S=Name.JavaScript, JS=String("app.alert('MARKER-LINK-JS')")))
    page.obj.Annots = pdf.make_indirect(Array([comment, attached, link]))
    pdf.Root.OpenAction = Dictionary(S=Name.JavaScript, JS=String("app.alert('MARKER-OPEN')"))
    js = Dictionary(S=Name.JavaScript, JS=String("app.alert('MARKER-NAMED-JS')"))
    pdf.Root.Names.JavaScript = Dictionary(Names=Array([String("init"), pdf.make_indirect(js)]))
    page.obj.Thumb = pdf.make_stream(b"MARKER-THUMBNAIL")
    pdf.Root.PieceInfo = Dictionary(App=Dictionary(Private=String("MARKER-PIECEINFO")))
    pdf.trailer.ID = Array([String(b"MARKER-ID-0-abcd"), String(b"MARKER-ID-1-abcd")])
    old = io.BytesIO()
    pdf.save(old, compress_streams=False, static_id=True,
             object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return incremental_update(old.getvalue(), _page_text(KEPT))


def incremental_update(data: bytes, new_contents: bytes) -> bytes:
    """The file with its first page's text replaced the way an editor saves in place: new
    objects and a cross-reference section appended, the old ones left in the file."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0].obj
        page_number = page.objgen[0]
        size = int(pdf.trailer.Size)
        root = pdf.Root.objgen[0]
        page_text = page.unparse(resolved=True)
        ids = pdf.trailer.ID.unparse()  # an editor keeps the document's identifier
    page_text = re.sub(rb"/Contents \d+ \d+ R", b"/Contents %d 0 R" % size, page_text)
    previous = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    out = bytearray(data if data.endswith(b"\n") else data + b"\n")
    offsets = {}
    offsets[size] = len(out)
    out += b"%d 0 obj\n<< /Length %d >>\nstream\n" % (size, len(new_contents))
    out += new_contents + b"\nendstream\nendobj\n"
    offsets[page_number] = len(out)
    out += b"%d 0 obj\n" % page_number + page_text + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for number in sorted(offsets):
        out += b"%d 1\n%010d 00000 n \n" % (number, offsets[number])
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d /ID %s >>\nstartxref\n%d\n%%%%EOF\n" % (
        size + 1, root, previous, ids, xref)
    return bytes(out)


def markers_in(data: bytes) -> list[bytes]:
    """Every marker in the file, in its raw bytes and in every stream decompressed."""
    found = _scan(data)
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream):
                    try:
                        found += _scan(obj.read_bytes())
                    except pikepdf.PdfError:
                        found += _scan(obj.read_raw_bytes())
    except pikepdf.PdfError:
        pass
    return found


def _scan(blob: bytes) -> list[bytes]:
    out = []
    for part in (blob, _inflate(blob)):
        start = part.find(SECRET.encode())
        while start != -1:
            out.append(part[start:start + 30])
            start = part.find(SECRET.encode(), start + 1)
    return out


def _inflate(blob: bytes) -> bytes:
    try:
        return zlib.decompress(blob)
    except zlib.error:
        return b""


def filled_form() -> bytes:
    """A one-page form as a reporter fills it in: a text field (a parent field with a
    widget kid, its value drawn in the widget's appearance) and a ticked checkbox, the
    name carrying the marker."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 200))
    page = pdf.pages[0].obj
    drawn = pdf.make_stream(b"BT /Helv 10 Tf 2 5 Td (" + SECRET.encode() + b" J. Doe) Tj ET")
    drawn.update({"/Type": Name.XObject, "/Subtype": Name.Form, "/BBox": [0, 0, 200, 20]})
    name = pdf.make_indirect(pikepdf.Dictionary(
        FT=Name.Tx, T=pikepdf.String("claimant"), V=pikepdf.String(SECRET + " J. Doe")))
    widget = pdf.make_indirect(pikepdf.Dictionary(
        Type=Name.Annot, Subtype=Name.Widget, Rect=[10, 150, 210, 170], Parent=name,
        AP=pikepdf.Dictionary(N=drawn), P=page))
    name.Kids = pikepdf.Array([widget])
    on = pdf.make_stream(b"0 0 10 10 re f")
    box = pdf.make_indirect(pikepdf.Dictionary(
        Type=Name.Annot, Subtype=Name.Widget, FT=Name.Btn, T=pikepdf.String("witnessed"),
        V=Name.Yes, AS=Name.Yes, Rect=[10, 120, 20, 130], P=page,
        AP=pikepdf.Dictionary(N=pikepdf.Dictionary(Yes=on, Off=pdf.make_stream(b"")))))
    page.Annots = pikepdf.Array([widget, box])
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([name, box]))
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()
