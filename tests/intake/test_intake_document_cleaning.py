"""A PDF, a Word file or a video sent with a report through the intake comes out cleaned (the
reporter downloads what is stored and finds no marker), the follow-up page says per file
what was removed, and a reporter who ticks "keep" gets the file exactly as sent."""

from __future__ import annotations

import html
import re

import pdfkit
import pypdfium2 as pdfium
import pytest


@pytest.fixture(scope="module")
def dirty() -> bytes:
    return pdfkit.hidden_everywhere()


def stored_files(browser, receipt: str) -> tuple[str, list[bytes]]:  # type: ignore[no-untyped-def]
    browser.login(receipt)
    page = browser.case_page().get_data(as_text=True)
    links = re.findall(r'href="(/[a-z]{2}/followup/files/[0-9a-f]+)"', page)
    return html.unescape(page), [browser.client.get(link).get_data() for link in links]


def test_a_pdf_is_cleaned_on_the_way_in_and_the_reporter_is_told(browser, dirty) -> None:
    receipt = browser.submit("The budget report was falsified.", files=[("budget.pdf", dirty)])
    page, files = stored_files(browser, receipt)
    assert len(files) == 1 and files[0].startswith(b"%PDF-")
    assert pdfkit.markers_in(files[0]) == []
    document = pdfium.PdfDocument(files[0])  # Chrome's PDF reader: the page itself is intact
    assert document[0].get_textpage().get_text_range() == pdfkit.KEPT.decode()
    assert "Hidden information removed: " in page
    for words in ("author, title and software", "embedded files", "comment authors and dates",
                  "earlier versions of the document"):
        assert words in page


def test_a_reporter_who_keeps_metadata_gets_the_file_as_sent(browser, dirty) -> None:
    review = browser.review("Keep the file as it is.")
    sent = browser.send(review, [("as-sent.pdf", dirty)], keep_metadata="yes")
    receipt = browser.receipt_of(sent)
    page, files = stored_files(browser, receipt)
    assert files == [dirty]
    assert "Kept as you sent it" in page


def test_other_files_are_kept_and_the_reporter_is_told_what_they_can_reveal(browser) -> None:
    receipt = browser.submit("A spreadsheet.", files=[("numbers.csv", b"a,b\n1,2\n")])
    page, files = stored_files(browser, receipt)
    assert files == [b"a,b\n1,2\n"]
    assert "Not cleaned: we cannot clean this kind of file." in page


def test_a_word_file_is_cleaned_too(browser) -> None:
    import officekit

    dirty = officekit.archive(officekit.DOCX_PARTS)
    receipt = browser.submit("The minutes were rewritten.", files=[("minutes.docx", dirty)])
    page, files = stored_files(browser, receipt)
    assert officekit.markers_in(files[0]) == []
    assert "author, title, company, software and template" in page
    assert "editing session identifiers" in page


def test_a_phone_video_loses_its_place_and_device(browser) -> None:
    import mediakit

    dirty = mediakit.FILES["mov"][0]()
    receipt = browser.submit("Filmed at the depot.", files=[("IMG_0042.MOV", dirty)])
    page, files = stored_files(browser, receipt)
    assert mediakit.MARKER not in files[0] and mediakit.PLACE.encode() not in files[0]
    assert mediakit.packets(files[0]) == mediakit.packets(dirty)  # the film itself as sent
    for words in ("the place where it was recorded", "the device that recorded it",
                  "chapters"):
        assert words in page


def test_form_fields_are_emptied_only_when_the_reporter_asks(browser, new_browser) -> None:
    form = pdfkit.filled_form()
    plain = new_browser()
    _page, files = stored_files(plain, plain.submit("A claim form.", files=[("claim.pdf", form)]))
    assert pdfkit.markers_in(files[0])  # by default what was filled in is evidence: kept
    review = browser.review("The same claim form, emptied.")
    assert 'name="clear_form_fields"' in review.get_data(as_text=True)
    sent = browser.send(review, [("claim.pdf", form)], clear_form_fields="yes")
    page, files = stored_files(browser, browser.receipt_of(sent))
    assert pdfkit.markers_in(files[0]) == []
    assert "what was filled in on its form fields" in page

