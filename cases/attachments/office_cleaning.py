"""What identifies the author of an Office Open XML (docx, xlsx, pptx) or OpenDocument
(odt, ods, odp) file, removed inside the sandboxed worker (``cleaner_worker``), the way
``pdf_cleaning`` does for PDFs.

Both formats are ZIP archives of XML parts. The archive is read in memory, checked against
a decompression bomb (entry count, total and per-entry sizes, compression ratio), and
written anew with:

* **dropped parts**: custom properties, thumbnails, printer settings, custom XML parts,
  the list of people who edited (``people.xml``), and the relationships and content types
  that pointed at them;
* **emptied fields**: the core and extended properties (creator, last editor, title,
  subject, description, keywords, category, status, dates, revision, application,
  company, manager, template, hyperlink base, editing time), OpenDocument's ``meta.xml``
  (the same, and initial creator, editing cycles and duration, generator, printed by,
  user-defined fields), and Word's link to its template (a path that names the user);
* **attributes cleared** in every XML part: comment and tracked-change authors, initials
  and dates (``w:author``, ``w:initials``, ``w:date``, ``dc:creator`` and ``dc:date`` in
  annotations and changes), Word's revision-session ids (``w:rsid*``, which link files
  edited on the same machine), and spreadsheet and presentation comment authors;
* **pictures inside** (JPEG and PNG under ``media/`` or ``Pictures/``) rebuilt from the
  same allow-list as an uploaded photo (``scrubbing``): a photo pasted into a report
  keeps its camera, place and time otherwise.

The canonical prefixes are matched as text (``w:``, ``dc:``, ``cp:``...), not parsed and
re-serialised: Office refuses a file whose prefixes were renamed (its ``mc:Ignorable``
lists them by name), so the XML is otherwise left byte for byte.
"""

from __future__ import annotations

import io
import re
import zipfile

from cases.attachments.scrubbing import scrub_picture

MAX_ENTRIES = 10_000
MAX_TOTAL = 512 * 1024 * 1024  # uncompressed
MAX_RATIO = 500  # uncompressed / compressed, per entry above 1 MiB (real XML: 5-50)

# Keys of what was removed, shown in words by the apps (cases.attachments.cleaning).
PROPERTIES, AUTHORS, EDIT_IDS, THUMBNAILS, PRINTER, CUSTOM, IMAGES = (
    "properties", "authors", "edit_ids", "thumbnails", "printer", "custom", "images")

_DROP = (
    (re.compile(r"^docProps/custom\.xml$"), CUSTOM),
    (re.compile(r"^docProps/thumbnail\.[a-z]+$", re.I), THUMBNAILS),
    (re.compile(r"^Thumbnails/"), THUMBNAILS),
    (re.compile(r"(^|/)printerSettings/"), PRINTER),
    (re.compile(r"^customXml/"), CUSTOM),
    (re.compile(r"^word/people\.xml$"), AUTHORS),
)
_EMPTY_ELEMENTS = re.compile(
    rb"<(dc:creator|cp:lastModifiedBy|dcterms:created|dcterms:modified|cp:revision|"
    rb"cp:lastPrinted|Application|AppVersion|Company|Manager|Template|TotalTime|"
    rb"meta:initial-creator|meta:creation-date|dc:date|meta:editing-cycles|"
    rb"meta:editing-duration|meta:generator|meta:printed-by|meta:print-date|"
    rb"meta:user-defined|meta:template|dc:title|dc:subject|dc:description|cp:keywords|"
    rb"cp:category|cp:contentStatus|meta:keyword|HyperlinkBase)(\s[^>]*)?>.*?</\1>", re.S)
_SELF_CLOSED = re.compile(rb"<(meta:template|meta:user-defined)\b[^>]*/>")
# Word's template link, a path on the author's computer (C:\Users\<name>\...\Normal.dotm).
_TEMPLATE_LINK = re.compile(rb"<Relationship\b[^>]*/attachedTemplate\"[^>]*/>")
_TEMPLATE_SETTING = re.compile(rb"<w:attachedTemplate\b[^>]*/>")
_AUTHOR_ATTRIBUTES = re.compile(rb'\s(w:author|w:initials|w:date)="[^"]*"')
_PPTX_AUTHORS = re.compile(rb'\s(name|initials)="[^"]*"')
_RSID = re.compile(rb'\sw:rsid[A-Za-z]*="[^"]*"')
_RSIDS_ELEMENT = re.compile(rb"<w:rsids>.*?</w:rsids>", re.S)
_XLSX_AUTHORS = re.compile(rb"<author>[^<]*</author>")
_PRINTER_CONFIG = re.compile(
    rb'<config:config-item config:name="(PrinterName|PrinterSetup|PrinterPaperFromSetup)"'
    rb"[^>]*>[^<]*</config:config-item>")


class NotAnOfficeFile(ValueError):
    """Not a ZIP, or a ZIP that is neither Office nor OpenDocument: nothing to clean."""


class ZipBomb(ValueError):
    """An archive that would decompress to far more than a document does."""


def clean_office(data: bytes) -> tuple[bytes, list[str]]:
    """The cleaned archive and the keys of what was removed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise NotAnOfficeFile("not a ZIP archive") from exc
    entries = archive.infolist()
    _check_bomb(entries)
    names = {e.filename for e in entries}
    if "[Content_Types].xml" not in names and "mimetype" not in names:
        raise NotAnOfficeFile("neither Office Open XML nor OpenDocument")
    removed: set[str] = set()
    dropped = {e.filename for e in entries if _dropped(e.filename, removed)}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as cleaned:
        for entry in entries:  # "mimetype" stays first and stored, as ODF requires
            if entry.filename in dropped:
                continue
            body = archive.read(entry)
            if entry.filename.endswith((".xml", ".rels")):
                body = _clean_xml(entry.filename, body, dropped, removed)
            elif (picture := scrub_picture(body)) is not None:
                body = picture  # a photo pasted into the document keeps its camera's Exif
                removed.add(IMAGES)
            info = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = entry.compress_type  # no file times: they date the edit
            cleaned.writestr(info, body)
    return out.getvalue(), sorted(removed)


def _check_bomb(entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > MAX_ENTRIES:
        raise ZipBomb("too many entries")
    if sum(e.file_size for e in entries) > MAX_TOTAL:
        raise ZipBomb("too large once decompressed")
    for e in entries:
        if e.file_size > 1024 * 1024 and e.file_size > MAX_RATIO * max(e.compress_size, 1):
            raise ZipBomb("compressed too well to be a document")


def _dropped(name: str, removed: set[str]) -> bool:
    for pattern, what in _DROP:
        if pattern.search(name):
            removed.add(what)
            return True
    return False


def _clean_xml(name: str, body: bytes, dropped: set[str], removed: set[str]) -> bytes:
    if name.endswith(".rels") or name == "[Content_Types].xml" or name.endswith("manifest.xml"):
        unlinked = _unlink(body, dropped)
        if (untemplated := _TEMPLATE_LINK.sub(b"", unlinked)) != unlinked:
            removed.add(PROPERTIES)
        return untemplated
    if name == "word/settings.xml" and (plain := _TEMPLATE_SETTING.sub(b"", body)) != body:
        removed.add(PROPERTIES)
        body = plain
    if name.startswith("docProps/") or name == "meta.xml":
        emptied = _EMPTY_ELEMENTS.sub(lambda m: b"<%s></%s>" % (m.group(1), m.group(1)), body)
        emptied = _SELF_CLOSED.sub(b"", emptied)
        if emptied != body:
            removed.add(PROPERTIES)
        return emptied
    cleaned = _AUTHOR_ATTRIBUTES.sub(lambda m: b' %s=""' % m.group(1), body)
    if name == "ppt/commentAuthors.xml":
        cleaned = _PPTX_AUTHORS.sub(lambda m: b' %s=""' % m.group(1), cleaned)
    cleaned = _XLSX_AUTHORS.sub(b"<author></author>", cleaned)
    cleaned = re.sub(rb"<dc:(creator|date)>[^<]*</dc:\1>", rb"<dc:\1></dc:\1>", cleaned)
    if cleaned != body:
        removed.add(AUTHORS)
    ids = _RSIDS_ELEMENT.sub(b"", _RSID.sub(b"", cleaned))
    if ids != cleaned:
        removed.add(EDIT_IDS)
    printer = _PRINTER_CONFIG.sub(b"", ids)
    if printer != ids:
        removed.add(PRINTER)
    return printer


def _unlink(body: bytes, dropped: set[str]) -> bytes:
    """Relationships, content types and manifest entries that named a dropped part."""
    for name in dropped:
        leaf = re.escape(name.rsplit("/", 1)[-1].encode())
        body = re.sub(rb"<Relationship\b[^>]*Target=\"[^\"]*" + leaf + rb"\"[^>]*/>", b"", body)
        body = re.sub(rb"<Override\b[^>]*PartName=\"/" + re.escape(name.encode())
                      + rb"\"[^>]*/>", b"", body)
        body = re.sub(rb"<manifest:file-entry\b[^>]*manifest:full-path=\""
                      + re.escape(name.encode()) + rb"\"[^>]*/>", b"", body)
    return body
