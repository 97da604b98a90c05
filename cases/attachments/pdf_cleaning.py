"""What identifies a PDF's author, removed with pikepdf (over qpdf). Runs only inside the
sandboxed worker (``cases.attachments.cleaner_worker``), never in an app's process: a
hostile file may cost the worker, not the app.

Removed: the document information dictionary (author, title, subject, keywords, creator
and producer software, dates), every XMP metadata stream (the document's and each
object's), embedded files and file attachments, JavaScript and automatic actions (open
and page actions, launch actions, JavaScript name tree), annotations' authors and dates,
page thumbnails, application private data (``/PieceInfo``), the document's identifier
(replaced by a random one), and the Exif, XMP and comments inside JPEG pictures. The file
is written anew, so the earlier revisions an incremental update keeps (old text, old
metadata) are gone. Kept: pages, fonts, images (their pixels), links, bookmarks, and form
field values (they may be the evidence itself) unless the reporter asks for them to go:
then every field's value and rich value, the appearance that shows a text or choice
field's value, and an XFA form's data go, checkboxes are shown unticked, and viewers are
asked to draw the empty fields anew.
"""

from __future__ import annotations

import io
import os

import pikepdf
from pikepdf import Dictionary, Name

from cases.attachments.scrubbing import scrub_picture

# Keys of what was removed; the apps show them in words (cases.attachments.cleaning).
INFO, XMP, EMBEDDED, SCRIPTS, ANNOTATION_AUTHORS = "info", "xmp", "embedded", "scripts", "authors"
THUMBNAILS, PRIVATE_DATA, REVISIONS, DOCUMENT_ID = "thumbnails", "private", "revisions", "id"
IMAGES, FORM_VALUES = "images", "form_values"

_DANGEROUS_ACTIONS = (Name.JavaScript, Name.Launch, Name.ImportData, Name.SubmitForm)


def clean_pdf(data: bytes, clear_form_fields: bool = False) -> tuple[bytes, list[str]]:
    """The cleaned file and the keys of what was removed; pikepdf.PdfError if unreadable.
    With ``clear_form_fields`` (the reporter asked), what was filled in on the form goes
    too."""
    removed: set[str] = set()
    if data.count(b"%%EOF") > 1:
        removed.add(REVISIONS)  # incremental updates: the rewrite below drops them
    with pikepdf.open(io.BytesIO(data)) as pdf:
        _document_level(pdf, removed)
        for obj in pdf.objects:
            _walk(obj, removed)
        if clear_form_fields:
            _empty_form(pdf, removed)
        fresh = os.urandom(16)
        if "/ID" in pdf.trailer:
            removed.add(DOCUMENT_ID)
        pdf.trailer.ID = pikepdf.Array([pikepdf.String(fresh), pikepdf.String(fresh)])
        out = io.BytesIO()
        pdf.save(out, fix_metadata_version=False)
    return out.getvalue(), sorted(removed)


def _document_level(pdf: pikepdf.Pdf, removed: set[str]) -> None:
    if "/Info" in pdf.trailer:
        if len(pdf.trailer.Info.keys()):
            removed.add(INFO)
        del pdf.trailer["/Info"]
    root = pdf.Root
    for key, what in ((Name.Metadata, XMP), (Name.PieceInfo, PRIVATE_DATA),
                      (Name.AF, EMBEDDED), (Name.OpenAction, SCRIPTS), (Name.AA, SCRIPTS)):
        if key in root:
            del root[key]
            removed.add(what)
    names = root.get(Name.Names)
    if isinstance(names, Dictionary):
        for key, what in ((Name.EmbeddedFiles, EMBEDDED), (Name.JavaScript, SCRIPTS)):
            if key in names:
                del names[key]
                removed.add(what)


def _walk(obj: pikepdf.Object, removed: set[str], depth: int = 0) -> None:
    """Clean a dictionary and the direct objects inside it (an annotation written inside
    its page's /Annots array is no object of its own); indirect ones get their own turn."""
    if depth > 64:  # a hostile nesting: the worker's limits bound it anyway
        return
    if isinstance(obj, Dictionary | pikepdf.Stream):
        _object_level(obj, removed)
        children = list(obj.values())
    elif isinstance(obj, pikepdf.Array):
        children = list(obj)
    else:
        return
    for child in children:
        if isinstance(child, pikepdf.Object) and not child.is_indirect:
            _walk(child, removed, depth + 1)


def _object_level(obj: pikepdf.Object, removed: set[str]) -> None:
    if isinstance(obj, pikepdf.Stream) and obj.get(Name.Subtype) == Name.Image:
        _picture(obj, removed)
    if Name.Type not in obj and any(k in obj for k in (Name.Author, Name.Creator, Name.Producer)):
        removed.add(INFO)  # an earlier revision's information dictionary: not written again
    for key, what in ((Name.Metadata, XMP), (Name.PieceInfo, PRIVATE_DATA),
                      (Name.Thumb, THUMBNAILS), (Name.AA, SCRIPTS), (Name.AF, EMBEDDED),
                      (Name.LastModified, PRIVATE_DATA)):
        if key in obj:
            del obj[key]
            removed.add(what)
    annotation = obj.get(Name.Type) == Name.Annot or (Name.Subtype in obj and Name.Rect in obj)
    # A widget's /T is its form field's name, not an author: widgets keep it.
    if annotation and obj.get(Name.Subtype) != Name.Widget:
        for key in (Name.T, Name.M, Name.CreationDate):
            if key in obj:
                del obj[key]
                removed.add(ANNOTATION_AUTHORS)
        if obj.get(Name.Subtype) == Name.FileAttachment and Name.FS in obj:
            del obj[Name.FS]
            removed.add(EMBEDDED)
    action = obj.get(Name.A)
    if isinstance(action, Dictionary) and action.get(Name.S) in _DANGEROUS_ACTIONS:
        del obj[Name.A]
        removed.add(SCRIPTS)
    if obj.get(Name.S) in _DANGEROUS_ACTIONS and (Name.JS in obj or Name.F in obj):
        for key in (Name.JS, Name.F):
            if key in obj:
                del obj[key]
        removed.add(SCRIPTS)


def _picture(image: pikepdf.Stream, removed: set[str]) -> None:
    """A JPEG stored whole in the PDF (``/DCTDecode``) carries the camera's Exif and XMP as
    it was taken; the same allow-list as an uploaded photo rebuilds it, pixels untouched."""
    filters = image.get(Name.Filter)
    if filters != Name.DCTDecode and not (
            isinstance(filters, pikepdf.Array) and list(filters) == [Name.DCTDecode]):
        return
    cleaned = scrub_picture(image.read_raw_bytes())
    if cleaned is None:
        return
    parms = image.get(Name.DecodeParms)  # e.g. /ColorTransform, which the pixels need
    if isinstance(parms, pikepdf.Array) and len(parms) == 1:
        parms = parms[0]
    image.write(cleaned, filter=Name.DCTDecode,
                decode_parms=parms if isinstance(parms, Dictionary) else None)
    removed.add(IMAGES)


def _empty_form(pdf: pikepdf.Pdf, removed: set[str]) -> None:
    """Every field's value, and what shows it, gone; the form itself (names, layout, the
    form author's defaults) stays."""
    form = pdf.Root.get(Name.AcroForm)
    if not isinstance(form, Dictionary):
        return
    if Name.XFA in form:  # XML forms keep their data in a stream of their own
        del form[Name.XFA]
        removed.add(FORM_VALUES)
    for obj in pdf.objects:
        if not isinstance(obj, Dictionary):
            continue
        for key in (Name.V, Name.RV):
            if key in obj:
                del obj[key]
                removed.add(FORM_VALUES)
        if _field_type(obj) == Name.Btn:
            if obj.get(Name.AS, Name.Off) != Name.Off:
                obj.AS = Name.Off  # a ticked box, shown unticked
                removed.add(FORM_VALUES)
        elif obj.get(Name.Subtype) == Name.Widget and Name.AP in obj:
            del obj[Name.AP]  # the drawn value of a text or choice field
    form.NeedAppearances = True  # viewers draw the empty fields anew


def _field_type(obj: Dictionary) -> pikepdf.Object | None:
    """A field's type, which a widget inherits from the field it belongs to."""
    for _ in range(16):
        if Name.FT in obj:
            return obj.FT
        parent = obj.get(Name.Parent)
        if not isinstance(parent, Dictionary):
            return None
        obj = parent
    return None
