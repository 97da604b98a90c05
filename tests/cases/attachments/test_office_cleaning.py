"""Office Open XML and OpenDocument cleaning in the sandboxed worker: files made by the
test with a marker in every place that can betray an author come out with none, every XML
part still parses, no relationship, content type or manifest entry points at a part that
is gone, ODF's "mimetype" stays first and stored; a ZIP bomb is contained and a ZIP that is
no document is stored as sent.

Not yet checked here: opening the result in LibreOffice or Word (no office suite on the
test machine); docs/THREAT_MODEL.md says so."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile

import officekit
import pytest

from cases.attachments.cleaning import AttachmentCleaner, outcome
from cases.attachments.sandbox import Cleaned, NotCleaned, clean_in_sandbox


@pytest.mark.parametrize("parts", [officekit.DOCX_PARTS, officekit.ODT_PARTS],
                         ids=["docx", "odt"])
def test_every_marker_is_gone_and_the_parts_hold_together(parts: dict[str, str]) -> None:
    dirty = officekit.archive(parts)
    assert len(officekit.markers_in(dirty)) >= 4  # parts carrying a marker
    result = clean_in_sandbox("office", dirty)
    assert isinstance(result, Cleaned)
    assert officekit.markers_in(result.data) == []
    kept = officekit.entries(result.data)
    assert any(officekit.KEPT.encode() in body for body in kept.values())
    for name, body in kept.items():
        if name.endswith((".xml", ".rels")) and body.startswith(b"<?xml"):
            ET.fromstring(re.sub(rb"(</?)\w+:", rb"\1", body))  # noqa: S314 (made here)
        for target in re.findall(rb'(?:Target|PartName|manifest:full-path)="/?([^"]+)"', body):
            path = target.decode()
            if path != "/" and "://" not in path:
                base = name.rsplit("/", 2)[0] + "/" if "/_rels/" in name else ""
                assert path in kept or base + path in kept, (name, path)
    with zipfile.ZipFile(io.BytesIO(result.data)) as z:
        infos = z.infolist()
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)  # no edit times
        if "mimetype" in kept:
            assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
    assert {"properties", "authors", "thumbnails", "printer"} <= set(result.removed)


def test_a_zip_bomb_is_contained() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (64 * 1024 * 1024))
    assert clean_in_sandbox("office", out.getvalue()) == NotCleaned("failed")


def test_a_zip_that_is_no_document_is_kept_as_sent() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("photos/list.txt", "a list")
    data = out.getvalue()
    cleaner = AttachmentCleaner()
    assert cleaner.feed(data) + cleaner.finish() == data
    assert outcome(cleaner.report()) == ("unsupported", [])


def test_the_upload_cleaner_sends_office_files_to_the_worker() -> None:
    dirty = officekit.archive(officekit.DOCX_PARTS)
    cleaner = AttachmentCleaner()
    out = cleaner.feed(dirty[:100]) + cleaner.feed(dirty[100:]) + cleaner.finish()
    assert officekit.markers_in(out) == [] and outcome(cleaner.report())[0] == "removed"
