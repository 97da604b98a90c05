"""A case as one PDF document, for a file, a court or an authority: its details and
deadlines, the report and every message, the internal record when asked for, the list of
its files and its audit trail. Made in memory (fpdf2, which shapes Arabic and joins it right
to left with HarfBuzz) from what ``cases.casework.export`` reads for the ZIP, and handed to
the caller whole: nothing is written to the server's disk.

Passages a caseworker marks (the names of third parties, what could identify the reporter)
are blacked out in every text of the copy (:class:`Redactions`); the stored case is not
touched (EU 2019/1937 Art. 16 and 17). The words of the document are the caller's, in the
caseworker's language (:class:`PdfWords`): no web framework here.

The fonts are Noto (Debian's fonts-noto-core and fonts-noto-cjk), which together cover the
six UN languages' scripts; without them :class:`PdfUnavailable` says which file is missing.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from sqlalchemy.orm import Session

from cases.casework.export import ExportContents, ExportKeys, body_lines, read_export_contents
from cases.casework.redaction import Redactions
from cases.content import DecryptedMessage

FONT_FILES = {  # family: file, under the fonts folder (settings.pdf_fonts_dir)
    "sans": "NotoSans-Regular.ttf",
    "sans-bold": "NotoSans-Bold.ttf",
    "arabic": "NotoNaskhArabic-Regular.ttf",
    "cjk": "NotoSansCJK-Regular.ttc",
}
CJK_FACE = 2  # the collection's Simplified Chinese face (Noto Sans CJK SC)


class PdfUnavailable(Exception):
    """The fonts the document needs are not installed (the message names the file)."""


@functools.lru_cache(maxsize=4)
def find_fonts(root: str) -> dict[str, Path]:
    """Each family's font file under ``root`` (searched once per process)."""
    found: dict[str, Path] = {}
    for family, name in FONT_FILES.items():
        match = next(Path(root).rglob(name), None) if Path(root).is_dir() else None
        if match is None:
            raise PdfUnavailable(f"{name} not found under {root}")
        found[family] = match
    return found


@dataclass(frozen=True)
class PdfWords:
    """The document's words, in the caseworker's language (``%(...)s`` filled here)."""

    title: str  # "Case %(case)s"
    exported: str  # "Exported on %(date)s by %(name)s"
    confidential: str
    redacted: str  # said when passages were blacked out
    details: str
    thread: str
    internal: str
    files: str
    no_files: str
    audit: str
    fields: dict[str, str] = field(default_factory=dict)  # case.json's keys
    kinds: dict[str, str] = field(default_factory=dict)  # message kinds
    actions: Callable[[str], str] = str  # an audit action's words
    people: dict[str, str] = field(default_factory=dict)  # "reporter", "caseworker", "system"
    # A recorded code's words (field key, value): "received" is "Reçu" in French.
    values: Callable[[str, object], str] = lambda _key, value: str(value)
    right_to_left: bool = False  # lines start on the right (Arabic, Hebrew, ...)


class _Document(FPDF):
    def __init__(self, fonts: dict[str, Path], footer_text: str, right_to_left: bool) -> None:
        super().__init__(format="A4")
        self._footer_text = footer_text
        self.align = "R" if right_to_left else "L"
        self.set_auto_page_break(auto=True, margin=18)
        self.add_font("sans", fname=str(fonts["sans"]))
        self.add_font("sans", style="B", fname=str(fonts["sans-bold"]))
        self.add_font("arabic", fname=str(fonts["arabic"]))
        self.add_font("cjk", fname=str(fonts["cjk"]), collection_font_number=CJK_FACE)
        self.set_fallback_fonts(["arabic", "cjk"], exact_match=False)
        self.set_text_shaping(True)
        self.set_title(footer_text)
        self.set_creator("Sealbox")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("sans", size=8)
        self.cell(0, 6, f"{self._footer_text} · {self.page_no()}", align="C")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("sans", style="B", size=13)
        self.line_of(7, text)
        self.set_font("sans", size=10)

    def paragraph(self, text: str, size: float = 10) -> None:
        self.set_font("sans", size=size)
        self.line_of(size * 0.5, text or " ")

    def line_of(self, height: float, text: str) -> None:
        """Text across the page, wrapped, starting on the side the language starts on."""
        self.multi_cell(0, height, text, align=self.align, new_x="LMARGIN", new_y="NEXT")


def case_pdf(session: Session, fonts_dir: str, case_id: str, keys: ExportKeys,
             words: PdfWords, *, exported_by: str, on: dt.date, redactions: Redactions) -> bytes:
    """The whole document (its bytes: a case's PDF is small beside its files), read in the
    caller's session."""
    fonts = find_fonts(fonts_dir)
    contents = read_export_contents(session, case_id, keys, exported_by=exported_by, on=on)
    if contents is None:
        raise LookupError(case_id)
    title = words.title % {"case": case_id}
    pdf = _Document(fonts, title, words.right_to_left)
    pdf.add_page()
    black = redactions.apply
    _front(pdf, words, title, contents, black, redactions)
    _messages(pdf, words.thread, contents.thread, contents.names, words, black)
    if keys.internal is not None:
        _messages(pdf, words.internal, contents.internal, contents.names, words, black)
    _files(pdf, words, contents, black)
    _trail(pdf, words, contents, black)
    return bytes(pdf.output())


def _front(pdf: _Document, words: PdfWords, title: str, contents: ExportContents,
           black: Callable[[str], str], redactions: Redactions) -> None:
    meta = contents.metadata
    pdf.set_font("sans", style="B", size=18)
    pdf.line_of(9, title)
    pdf.paragraph(words.exported % {"date": meta["exported_on"], "name": meta["exported_by"]})
    pdf.paragraph(words.confidential, size=9)
    if redactions.passages:
        pdf.paragraph(words.redacted, size=9)
    pdf.heading(words.details)
    for key, label in words.fields.items():
        value = meta.get(key)
        if value in (None, "", []):
            continue
        shown = (", ".join(map(str, value)) if isinstance(value, list)
                 else words.values(key, value))
        pdf.paragraph(f"{label}: {black(shown)}")


def _messages(pdf: _Document, heading: str, messages: Iterable[DecryptedMessage],
              names: dict[int, str], words: PdfWords, black: Callable[[str], str]) -> None:
    pdf.heading(heading)
    for m in messages:
        kind = m.kind.value
        if m.author_id:
            author = names.get(m.author_id, words.people.get("caseworker", ""))
        else:
            author = words.people.get(
                "reporter" if kind in ("report", "reporter_message") else "system", "")
        when = m.created_on.isoformat()
        pdf.set_font("sans", style="B", size=10)
        pdf.line_of(5, black(f"{when} · {words.kinds.get(kind, kind)} · {author}"))
        for line in body_lines(m.body):
            pdf.paragraph(black(line))
        pdf.ln(2)


def _files(pdf: _Document, words: PdfWords, contents: ExportContents,
           black: Callable[[str], str]) -> None:
    pdf.heading(words.files)
    if not contents.attachments:
        pdf.paragraph(words.no_files)
    for _row, meta in contents.attachments:
        source = words.people.get("reporter" if meta.from_reporter else "caseworker", "")
        pdf.paragraph(black(f"{meta.name} · {meta.size:,} B · {source} · "
                            f"{meta.created_on.isoformat()}"))


def _trail(pdf: _Document, words: PdfWords, contents: ExportContents,
           black: Callable[[str], str]) -> None:
    pdf.heading(words.audit)
    for entry in contents.trail:
        actor = str(entry.get("actor") or "")
        pdf.paragraph(black(f"{entry['at']} · {actor} · {words.actions(str(entry['action']))}"),
                      size=8)
