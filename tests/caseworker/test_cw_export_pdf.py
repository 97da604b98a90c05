"""A case as one PDF (cases.casework.case_pdf through /cases/<id>/export.pdf): the details,
the report and the messages in any of the six scripts, the files listed, the audit trail;
marked passages blacked out in the copy and nowhere stored; the internal record only when
asked for; audited; nothing written to disk; a clear page where the fonts are missing."""

from __future__ import annotations

import json
import os
import unicodedata
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from cases.casework.case_pdf import PdfUnavailable, find_fonts
from cases.models import AuditEntry, Caseworker
from cases.store import Store

REPORT = "Отчёт: the depot manager Jo Bloggs sells fuel. 部长收受贿赂。 أخذ الوزير رشوة"
THIRD_PARTY = "Jo Bloggs"


def _fonts_or_skip(store: Store) -> None:
    try:
        find_fonts(store.settings.pdf_fonts_dir)
    except PdfUnavailable as exc:
        if os.environ.get("SEALBOX_REQUIRE_PDF_FONTS"):
            raise  # CI installs the fonts (make pdf-deps): missing there is a failure
        pytest.skip(f"the PDF fonts are not installed (make pdf-deps): {exc}")


def pdf_export(b, case_id: str, redactions: str = "", internal: bool = True):  # type: ignore[no-untyped-def]
    data = {"redactions": redactions, **({"include_internal": "y"} if internal else {})}
    return b.post(f"/cases/{case_id}/export.pdf", data, prefix="export")


def text_of(document: bytes) -> str:
    pdf = pdfium.PdfDocument(document)
    return unicodedata.normalize("NFKC", "\n".join(
        pdf[i].get_textpage().get_text_range() for i in range(len(pdf))))


def test_the_pdf_holds_the_case_in_every_script_with_marked_passages_blacked_out(  # type: ignore[no-untyped-def]
    store, person, signed_in, h, tmp_path: Path
) -> None:
    _fonts_or_skip(store)
    alice = person("alice")
    case_id, _ = h.submit(store, REPORT, files={"ledger.xlsx": b"x" * 2048})
    b = signed_in(alice)
    b.post(f"/cases/{case_id}/reply", {"text": f"Did {THIRD_PARTY} sign?"}, prefix="reply")
    b.post(f"/cases/{case_id}/notes", {"text": "internal: call the auditor"}, prefix="note")
    response = pdf_export(b, case_id, redactions=f"{THIRD_PARTY.lower()}\n\nx\n")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="sealbox-case-{case_id}')
    assert response.headers["Cache-Control"].startswith("no-store")
    text = text_of(response.data)
    assert f"Case {case_id}" in text
    assert "the depot manager" in text and "Отчёт" in text and "部长收受贿赂" in text
    assert any(unicodedata.name(ch, "").startswith("ARABIC") for ch in text)
    assert "Did" in text and "sign?" in text and "internal: call the auditor" in text
    assert THIRD_PARTY not in text and "Bloggs" not in text  # blacked out, whatever the case
    assert "\u2588" * len(THIRD_PARTY) in text  # "x" alone was too short to black out
    assert "ledger.xlsx" in text and "Exported the case as a PDF" not in text
    with store.transaction() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "case.exported_pdf")).one()
        detail = json.loads(entry.detail)
        assert detail["redacted_passages"] == 1 and detail["internal"] is True
        assert entry.case_id == case_id
        assert "Bloggs" not in entry.detail.lower()  # which passages: never stored


def test_without_the_internal_record_it_leaves_the_notes_out(  # type: ignore[no-untyped-def]
    store, person, signed_in, h
) -> None:
    _fonts_or_skip(store)
    alice = person("alice")
    case_id, _ = h.submit(store, "the report text")
    b = signed_in(alice)
    b.post(f"/cases/{case_id}/notes", {"text": "internal: call the auditor"}, prefix="note")
    text = text_of(pdf_export(b, case_id, internal=False).data)
    assert "the report text" in text and "call the auditor" not in text


def test_without_the_fonts_the_page_says_so_and_nothing_is_audited(  # type: ignore[no-untyped-def]
    store, app, person, signed_in, h, tmp_path: Path
) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store, "the report text")
    settings = replace(store.settings, pdf_fonts_dir=str(tmp_path / "no-fonts"))
    object.__setattr__(store, "settings", settings)
    app.config["SEALBOX_SETTINGS"] = settings
    b = signed_in(alice)
    response = pdf_export(b, case_id, redactions="secret passage")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "cannot make PDFs yet" in page and "secret passage" in page  # the form as typed
    with store.transaction() as db:
        exported = select(AuditEntry).where(AuditEntry.action == "case.exported_pdf")
        assert not db.scalars(exported).all()


def test_the_pdf_needs_a_post_with_csrf_and_access(  # type: ignore[no-untyped-def]
    store, person, signed_in, h
) -> None:
    alice, mallory = person("alice"), person("mallory")
    case_id, _ = h.submit(store, "the report text", excluded_caseworker_ids=[mallory.id])
    b = signed_in(alice)
    assert b.get(f"/cases/{case_id}/export.pdf").status_code == 405
    forged = b.client.post(f"/cases/{case_id}/export.pdf", data={"export-include_internal": "y"})
    assert forged.status_code == 400
    assert pdf_export(signed_in(mallory), case_id).status_code == 404


def _catalogue_text(lang: str, msgid: str) -> str:
    path = Path(__file__).resolve().parents[2] / "caseworker" / "translations" / lang
    with (path / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        found = read_po(fh).get(msgid)
    assert found is not None and found.string, f"{msgid!r} has no {lang} translation"
    return str(found.string)


@pytest.mark.parametrize("lang", ["ar", "es", "ru", "zh"])
def test_the_pdf_speaks_the_caseworkers_language(  # type: ignore[no-untyped-def]
    store, person, signed_in, h, lang: str
) -> None:
    _fonts_or_skip(store)
    alice = person("alice")
    with store.transaction() as db:
        db.get(Caseworker, alice.id).language = lang  # type: ignore[union-attr]
    case_id, _ = h.submit(store, "the report text")
    document = pdf_export(signed_in(alice), case_id).data
    text = _letters(text_of(document))
    # Headings, then recorded codes (words whose Arabic has no marks: see _letters).
    for msgid in ("Details and deadlines", "Files", "Audit trail", "Web report", "Not set"):
        assert _letters(_catalogue_text(lang, msgid)) in text, msgid
    assert "Details" not in text and "received" not in text and "thereporttext" in text
    # Lines start on the language's side: Arabic headings sit on the right of the page.
    left, right, width = _box_of(document, _catalogue_text(lang, "Files"))
    assert (left > width / 2) if lang == "ar" else (right < width / 2)


def _box_of(document: bytes, words: str) -> tuple[float, float, float]:
    """The left and right of ``words`` on the first page, and the page's width."""
    page = pdfium.PdfDocument(document)[0]
    textpage = page.get_textpage()
    found = textpage.search(words).get_next()
    assert found is not None, words
    first, count = found
    boxes = [textpage.get_charbox(i) for i in range(first, first + count)]
    return min(b[0] for b in boxes), max(b[2] for b in boxes), page.get_width()


def _letters(text: str) -> str:
    """Text without spaces, line breaks or combining marks. pdfium gives an Arabic mark
    placed above its letter as a line of its own, and may move the letters after it, so
    the words checked have none."""
    return "".join(ch for ch in text if not ch.isspace() and not unicodedata.combining(ch))
