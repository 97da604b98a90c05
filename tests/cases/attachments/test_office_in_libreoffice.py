"""Office files written by a real office suite come out of the cleaning with no marker and
still open in it: LibreOffice (headless) writes docx, xlsx, pptx, odt, ods and odp from
flat OpenDocument sources with a marker in every property and comment author; the
cleaned files are converted back to PDF by LibreOffice, and the PDF's text (read by PDFium)
still holds the document's own words.

Skips where LibreOffice is not installed (CI installs it: .ci/run)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from cases.attachments.sandbox import Cleaned, clean_in_sandbox

pytestmark = pytest.mark.slow

KEPT = "KEEP-THE-EVIDENCE"
NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3"'
)
META = (
    "<office:meta><dc:creator>MARKER-CREATOR</dc:creator>"
    "<meta:initial-creator>MARKER-INITIAL</meta:initial-creator><dc:title>MARKER-TITLE</dc:title>"
    "<dc:subject>MARKER-SUBJECT</dc:subject><dc:description>MARKER-DESCRIPTION</dc:description>"
    "<meta:keyword>MARKER-KEYWORD</meta:keyword><meta:printed-by>MARKER-PRINTER</meta:printed-by>"
    '<meta:user-defined meta:name="Reviewer">MARKER-USER</meta:user-defined>'
    "<meta:creation-date>2021-03-04T05:06:07</meta:creation-date></office:meta>"
)
NOTE = ("<office:annotation><dc:creator>MARKER-COMMENTER</dc:creator>"
        "<dc:date>2021-03-04T05:06:07</dc:date><text:p>a note</text:p></office:annotation>")
SOURCES = {
    "text.fodt": ("text", f"<office:text><text:p>{KEPT}{NOTE}</text:p></office:text>"),
    "sheet.fods": ("spreadsheet", (
        '<office:spreadsheet><table:table table:name="Sheet1"><table:table-row>'
        f'<table:table-cell office:value-type="string">{NOTE}<text:p>{KEPT}</text:p>'
        "</table:table-cell></table:table-row></table:table></office:spreadsheet>")),
    "slides.fodp": ("presentation", (
        '<office:presentation><draw:page draw:name="p1"><draw:frame svg:x="2cm" svg:y="2cm" '
        f'svg:width="20cm" svg:height="4cm"><draw:text-box><text:p>{KEPT}</text:p>'
        "</draw:text-box></draw:frame></draw:page></office:presentation>")),
}
TARGETS = {"text.fodt": ("docx", "odt"), "sheet.fods": ("xlsx", "ods"),
           "slides.fodp": ("pptx", "odp")}


def _office(tmp: Path) -> list[str]:
    program = shutil.which("soffice")
    if program is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-writer-nogui)")
    profile = (tmp / "profile").as_uri()  # a throwaway profile: no user's settings
    return [program, "--headless", "--norestore", f"-env:UserInstallation={profile}"]


def _convert(office: list[str], target: str, sources: list[Path], outdir: Path) -> None:
    subprocess.run([*office, "--convert-to", target, "--outdir", str(outdir),
                    *map(str, sources)], check=True, capture_output=True, timeout=180,
                   env={**os.environ, "HOME": str(outdir.parent)})


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Each format as LibreOffice writes it, from the marked sources."""
    tmp = tmp_path_factory.mktemp("office")
    office = _office(tmp)
    made: dict[str, bytes] = {}
    for name, (kind, body) in SOURCES.items():
        source = tmp / name
        source.write_text(
            f'<?xml version="1.0" encoding="UTF-8"?><office:document {NS} office:mimetype='
            f'"application/vnd.oasis.opendocument.{kind}">{META}<office:body>{body}'
            "</office:body></office:document>", encoding="utf-8")
        for target in TARGETS[name]:
            _convert(office, target, [source], tmp / "written")
            made[target] = (tmp / "written" / f"{source.stem}.{target}").read_bytes()
    return made


def _markers(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [info.filename for info in archive.infolist()
                if b"MARKER" in archive.read(info)]


def test_libreoffice_files_lose_every_marker_and_still_open(
        written: dict[str, bytes], tmp_path: Path) -> None:
    assert all(_markers(data) for data in written.values())  # the corpus can fail the test
    cleaned_dir = tmp_path / "cleaned"
    cleaned_dir.mkdir()
    for target, data in written.items():
        result = clean_in_sandbox("office", data)
        assert isinstance(result, Cleaned), target
        assert _markers(result.data) == [], target
        assert "properties" in result.removed, target
        (cleaned_dir / f"cleaned-{target}.{target}").write_bytes(result.data)
    _convert(_office(tmp_path), "pdf", sorted(cleaned_dir.iterdir()), tmp_path / "pdf")
    for target in written:
        pdf = pdfium.PdfDocument((tmp_path / "pdf" / f"cleaned-{target}.pdf").read_bytes())
        text = "".join(page.get_textpage().get_text_range() for page in pdf)
        assert KEPT in text, target
