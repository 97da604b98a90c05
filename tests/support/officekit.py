"""Office Open XML and OpenDocument files made by the tests as ZIP archives of XML parts,
with a marker in every place that can betray an author: properties, comment and
tracked-change authors and dates, revision-session ids, the people list, thumbnails,
printer settings, custom XML parts. The text itself carries a marker that must survive."""

from __future__ import annotations

import io
import zipfile

KEPT = "KEEP-THE-EVIDENCE"
RSID = "00A1B2C3"  # a revision-session id: it links files edited on the same machine
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

DOCX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="jpeg" ContentType="image/jpeg"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxml'
        'formats-officedocument.wordprocessingml.document.main+xml"/>'
        '<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxml'
        'formats-officedocument.custom-properties+xml"/>'
        '<Override PartName="/word/people.xml" ContentType="application/vnd.openxml'
        'formats-officedocument.wordprocessingml.people+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
        'formats.org/officeDocument/2006/relationships/officeDocument" Target="word/'
        'document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
        'package/2006/relationships/metadata/thumbnail" Target="docProps/thumbnail.jpeg"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/custom-properties" Target="docProps/custom.xml"/>'
        '</Relationships>'),
    "word/_rels/document.xml.rels": (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId9" Type="http://schemas.'
        'microsoft.com/office/2011/relationships/people" Target="people.xml"/>'
        '<Relationship Id="rId8" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/printerSettings" Target="printerSettings/printerSettings1.bin"/>'
        '</Relationships>'),
    "word/document.xml": (
        f'<?xml version="1.0"?><w:document {W}><w:body><w:p w:rsidR="{RSID}" '
        f'w:rsidRDefault="{RSID}"><w:r><w:t>{KEPT}</w:t></w:r><w:ins w:id="1" '
        'w:author="MARKER-TRACKED" w:date="2026-01-01T10:00:00Z"><w:r><w:t> and more</w:t>'
        '</w:r></w:ins></w:p></w:body></w:document>'),
    "word/comments.xml": (
        f'<?xml version="1.0"?><w:comments {W}><w:comment w:id="0" '
        'w:author="MARKER-COMMENTER" w:initials="MKR" w:date="2026-01-02T10:00:00Z">'
        '<w:p><w:r><w:t>check this</w:t></w:r></w:p></w:comment></w:comments>'),
    "word/people.xml": '<w15:people><w15:person w15:author="MARKER-PERSON"/></w15:people>',
    "word/settings.xml": (
        f'<?xml version="1.0"?><w:settings {W}><w:attachedTemplate r:id="rId1"/>'
        f'<w:rsids><w:rsidRoot w:val="{RSID}"/></w:rsids></w:settings>'),
    "word/_rels/settings.xml.rels": (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
        'formats.org/officeDocument/2006/relationships/attachedTemplate" Target="file:///C:'
        '/Users/MARKER-USERNAME/AppData/Roaming/Microsoft/Templates/Normal.dotm" '
        'TargetMode="External"/></Relationships>'),
    "docProps/core.xml": (
        '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
        'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/"><dc:creator>MARKER-CREATOR</dc:creator>'
        '<cp:lastModifiedBy>MARKER-EDITOR</cp:lastModifiedBy><cp:revision>7</cp:revision>'
        '<dc:title>MARKER-TITLE</dc:title><cp:keywords>MARKER-KW</cp:keywords>'
        '<dcterms:created>2026-01-01T09:00:00MARKER</dcterms:created></cp:coreProperties>'),
    "docProps/app.xml": (
        '<?xml version="1.0"?><Properties><Application>MARKER-APP</Application>'
        '<Company>MARKER-COMPANY</Company><Manager>MARKER-MANAGER</Manager></Properties>'),
    "docProps/custom.xml": "<Properties><property>MARKER-CUSTOM</property></Properties>",
    "docProps/thumbnail.jpeg": "MARKER-THUMBNAIL",
    "customXml/item1.xml": "<item>MARKER-CUSTOMXML</item>",
    "word/printerSettings/printerSettings1.bin": "MARKER-PRINTER",
}

ODT_PARTS = {
    "mimetype": "application/vnd.oasis.opendocument.text",
    "META-INF/manifest.xml": (
        '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
        'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/><manifest:file-entry'
        ' manifest:full-path="Thumbnails/thumbnail.png" manifest:media-type="image/png"/>'
        '</manifest:manifest>'),
    "meta.xml": (
        '<?xml version="1.0"?><office:document-meta><office:meta><meta:initial-creator>'
        'MARKER-INITIAL</meta:initial-creator><dc:creator>MARKER-CREATOR</dc:creator>'
        '<meta:creation-date>2026-01-01MARKER</meta:creation-date><meta:editing-cycles>9'
        '</meta:editing-cycles><meta:generator>MARKER-GENERATOR</meta:generator>'
        '<meta:user-defined meta:name="Client">MARKER-USER-FIELD</meta:user-defined>'
        '</office:meta></office:document-meta>'),
    "content.xml": (
        '<?xml version="1.0"?><office:document-content><office:body><office:text><text:p>'
        f'{KEPT}<office:annotation><dc:creator>MARKER-ANNOTATOR</dc:creator><dc:date>'
        '2026-01-01MARKER</dc:date><text:p>a note</text:p></office:annotation></text:p>'
        '</office:text></office:body></office:document-content>'),
    "settings.xml": (
        '<?xml version="1.0"?><office:document-settings><config:config-item '
        'config:name="PrinterName" config:type="string">MARKER-PRINTER</config:config-item>'
        '</office:document-settings>'),
    "Thumbnails/thumbnail.png": "MARKER-THUMBNAIL",
}


def archive(parts: dict[str, str] | dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            stored = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            z.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 10, 0, 0)), text, compress_type=stored)
    return out.getvalue()


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def markers_in(data: bytes) -> list[str]:
    return [f"{name}: {body[:60]!r}" for name, body in entries(data).items()
            if b"MARKER" in body or RSID.encode() in body]
