"""Reply templates, through the app: an administrator writes them in the reporters'
languages; a caseworker starts a reply from one (the reporter's language offered first),
then edits and sends it as any reply."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cases.models import AuditEntry, ReplyTemplate

ASK = "Could you tell us when the payments started, and who else knew of them?"
DEMANDE = "Pourriez-vous nous dire quand les paiements ont commencé ?"


@pytest.fixture
def admin(person, signed_in):  # type: ignore[no-untyped-def]
    return signed_in(person("root", caseworker=False, admin=True))


def new_template(admin, **fields: str):  # type: ignore[no-untyped-def]
    data = {"title": "Ask for dates", "language": "en", "purpose": "request", "body": ASK,
            "position": "0", "active": "y"} | fields
    return admin.post("/admin/reply-templates", data)


def test_an_admin_writes_templates_in_the_reporters_languages(store, admin) -> None:
    assert new_template(admin).status_code == 302
    assert new_template(admin, title="Demander des dates", language="fr",
                        body=DEMANDE).status_code == 302
    page = admin.get("/admin/reply-templates").get_data(as_text=True)
    assert "Ask for dates" in page and "Demander des dates" in page and "Français" in page
    with store.transaction() as db:
        rows = db.scalars(select(ReplyTemplate).order_by(ReplyTemplate.id)).all()
        saved = db.scalars(select(AuditEntry).where(
            AuditEntry.action == "reply_template.saved")).all()
    assert [(t.language, t.body) for t in rows] == [("en", ASK), ("fr", DEMANDE)]
    assert len(saved) == 2
    change = admin.post(f"/admin/reply-templates/{rows[0].id}", {
        "title": "Ask for dates", "language": "en", "purpose": "request",
        "body": ASK + " Thank you.", "position": "1"})  # unticked: no longer offered
    assert change.status_code == 302
    with store.transaction() as db:
        first = db.get_one(ReplyTemplate, rows[0].id)
        assert first.body.endswith("Thank you.") and first.active is False


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"language": "de"}, "Choose one of the reporters&#39; languages."),
        ({"body": ""}, "This field is required."),
        ({"purpose": "threat"}, "Not a valid choice"),
    ],
)
def test_a_bad_template_is_refused_and_nothing_saved(store, admin, fields, message) -> None:
    response = new_template(admin, **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with store.transaction() as db:
        assert db.scalars(select(ReplyTemplate)).all() == []


def test_only_admins_write_templates(person, signed_in) -> None:
    alice = signed_in(person("alice"))
    assert alice.get("/admin/reply-templates").status_code == 403


def test_a_caseworker_starts_a_reply_from_a_template(store, admin, person, signed_in, h) -> None:
    new_template(admin)
    new_template(admin, title="Demander des dates", language="fr", body=DEMANDE)
    new_template(admin, title="Old text", body="Retired.", active="")
    alice = person("alice")
    case_id, _ = h.submit(store, {"text": "Des paiements en espèces.", "language": "fr"})
    a = signed_in(alice)
    page = a.get(f"/cases/{case_id}").get_data(as_text=True)
    offered = re.findall(r'<option value="(\d+)">([^<]+)</option>', page[page.index(
        'id="template-choice"'):])
    assert [title.split(" — ")[0] for _id, title in offered] == [
        "Demander des dates", "Ask for dates"]  # the reporter's language first; none retired
    chosen = a.get(f"/cases/{case_id}?template={offered[0][0]}").get_data(as_text=True)
    box = chosen[chosen.index('name="reply-text"'):]
    assert DEMANDE in box[: box.index("</textarea>")]
    with store.transaction() as db:
        retired = db.scalar(select(ReplyTemplate.id).where(ReplyTemplate.title == "Old text"))
    unchanged = a.get(f"/cases/{case_id}?template={retired}").get_data(as_text=True)
    assert "Retired." not in unchanged
    sent = a.post(f"/cases/{case_id}/reply", {"text": DEMANDE + " Merci."}, prefix="reply")
    assert sent.status_code == 302  # sent as any reply, after the caseworker's edit
