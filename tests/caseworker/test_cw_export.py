"""Export of one case as a ZIP streamed on demand."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from cases.models import AuditEntry
from cases.records.audit import verify_chain


def export(b, case_id: str, internal: bool = True):  # type: ignore[no-untyped-def]
    data = {"include_internal": "y"} if internal else {}
    return b.post(f"/cases/{case_id}/export", data, prefix="export")


def test_zip_holds_report_thread_internal_attachments_and_audit(
    store, person, signed_in, h
) -> None:
    alice = person("alice")
    data = bytes(range(256)) * 1000
    case_id, _ = h.submit(
        store, "the report text", files={"ledger.xlsx": data, "../x.txt": b"tiny"}
    )
    b = signed_in(alice)
    b.post(f"/cases/{case_id}/reply", {"text": "a reply"}, prefix="reply")
    b.post(f"/cases/{case_id}/notes", {"text": "an internal note"}, prefix="note")
    response = export(b, case_id)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="sealbox-case-{case_id}'
    )
    assert response.headers["Cache-Control"].startswith("no-store")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    names = archive.namelist()
    assert {
        "README.txt",
        "case.json",
        "thread.json",
        "thread.txt",
        "internal.json",
        "audit.json",
    } <= set(names)
    thread = json.loads(archive.read("thread.json"))
    assert [m["body"]["text"] for m in thread] == ["the report text", "a reply"]
    assert thread[1]["author"] == "alice"
    internal = json.loads(archive.read("internal.json"))
    assert internal[0]["body"]["text"] == "an internal note"
    files = {n: archive.read(n) for n in names if n.startswith("attachments/")}
    assert sorted(files.values(), key=len) == [b"tiny", data]
    assert all(".." not in n.split("/", 1)[1] and n.count("/") == 1 for n in files)
    meta = json.loads(archive.read("case.json"))
    assert meta["case"] == case_id and meta["exported_by"] == "alice"
    trail = json.loads(archive.read("audit.json"))
    assert [e["action"] for e in trail][-1] == "case.exported"
    assert all(len(e["entry_hash"]) == 64 for e in trail)
    with store.transaction() as db:
        assert verify_chain(db).ok
        detail = db.scalar(select(AuditEntry.detail).where(AuditEntry.action == "case.exported"))
    exported = json.loads(detail)
    assert exported.pop("content").startswith("5:")  # the case's content as exported
    assert exported == {"internal": True, "redacted_passages": 0}


def test_export_without_internal_records(store, person, signed_in, h) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store)
    b = signed_in(alice)
    b.post(f"/cases/{case_id}/notes", {"text": "an internal note"}, prefix="note")
    archive = zipfile.ZipFile(io.BytesIO(export(b, case_id, internal=False).data))
    assert "internal.json" not in archive.namelist()
    assert b"an internal note" not in b"".join(archive.read(n) for n in archive.namelist())


def test_marked_passages_are_blacked_out_in_every_text_of_the_archive(  # type: ignore[no-untyped-def]
    store, person, signed_in, h
) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store, "Jo Bloggs signed the invoices.",
                          files={"bloggs-invoices.pdf": b"%PDF-1.7 Jo Bloggs inside"})
    b = signed_in(alice)
    b.post(f"/cases/{case_id}/reply", {"text": "Did JO BLOGGS sign them all?"}, prefix="reply")
    b.post(f"/cases/{case_id}/notes", {"text": "call jo bloggs's manager"}, prefix="note")
    response = b.post(f"/cases/{case_id}/export",
                      {"include_internal": "y", "redactions": "Jo Bloggs\nbloggs"},
                      prefix="export")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    texts = {n: archive.read(n).decode() for n in archive.namelist()
             if n.endswith((".json", ".txt"))}
    assert all("bloggs" not in t.lower() for t in texts.values())
    assert "\u2588" * 9 + " signed the invoices." in texts["thread.txt"]
    assert "call " + "\u2588" * 9 + "'s manager" in texts["internal.txt"]
    assert "Passages blacked out in this copy: 2" in texts["README.txt"]
    (name,) = [n for n in archive.namelist() if n.startswith("attachments/")]
    assert "bloggs" not in name.lower()
    assert archive.read(name) == b"%PDF-1.7 Jo Bloggs inside"  # inside the files: as sent
    with store.transaction() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "case.exported")).one()
        assert json.loads(entry.detail)["redacted_passages"] == 2
        assert "bloggs" not in entry.detail.lower()


def test_export_writes_nothing_to_the_instance_folder(store, person, signed_in, h) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store, files={"a.bin": b"z" * 300_000})
    root = store.settings.instance_path
    before = {p for p in root.rglob("*") if p.is_file() and "sealbox.db" not in p.name}
    b = signed_in(alice)
    assert len(export(b, case_id).data) > 1000
    after = {p for p in root.rglob("*") if p.is_file() and "sealbox.db" not in p.name}
    assert after == before


def test_export_needs_a_post_with_csrf(store, person, signed_in, h) -> None:
    alice = person("alice")
    case_id, _ = h.submit(store)
    b = signed_in(alice)
    assert b.get(f"/cases/{case_id}/export").status_code == 405
    assert (
        b.post(
            f"/cases/{case_id}/export", {"include_internal": "y"}, prefix="export", csrf=False
        ).status_code
        == 400
    )
