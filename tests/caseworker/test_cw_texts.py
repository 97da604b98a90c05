"""An administrator gives a category and a question in the reporters' other languages,
through the admin pages: one form per language, empty fields fall back, the choices line
for line with the default language's, each save audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from cases.models import AuditEntry, Category, Question


@pytest.fixture
def items(store, person, signed_in):  # type: ignore[no-untyped-def]
    with store.transaction() as db:
        category = Category(slug="fraud", name="Fraud", position=0)
        question = Question(key="where", label="Where did it happen?", kind="choice",
                            choices="Head office\nA branch", position=0)
        db.add_all([category, question])
        db.flush()
        ids = category.id, question.id
    return signed_in(person("root", caseworker=False, admin=True)), *ids


def test_one_form_per_other_language(items) -> None:
    admin, category_id, _question_id = items
    page = admin.get(f"/admin/categories/{category_id}/languages").get_data(as_text=True)
    for code in ("ar", "es", "fr", "ru", "zh"):
        assert f'id="texts-{code}"' in page and f'name="{code}-name"' in page
    assert 'id="texts-en"' not in page  # the default language is the category's own


def test_a_category_in_french_and_arabic(store, items) -> None:
    admin, category_id, _q = items
    url = f"/admin/categories/{category_id}/languages"
    saved = admin.post(url, {"language": "fr", "fr-name": "Fraude", "fr-description": "",
                             "fr-csrf_token": admin.token}, csrf=False)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("#texts-fr")
    admin.post(url, {"language": "ar", "ar-name": "احتيال", "ar-csrf_token": admin.token},
               csrf=False)
    page = admin.get(url).get_data(as_text=True)
    assert 'value="Fraude"' in page and 'value="احتيال"' in page
    with store.transaction() as db:
        stored = json.loads(db.get_one(Category, category_id).translations)
        audited = db.scalars(select(AuditEntry).where(
            AuditEntry.action == "category.translated")).all()
    assert stored == {"ar": {"name": "احتيال"}, "fr": {"name": "Fraude"}}
    assert len(audited) == 2


def test_question_choices_must_match_line_for_line(store, items) -> None:
    admin, _c, question_id = items
    url = f"/admin/questions/{question_id}/languages"
    wrong = admin.post(url, {"language": "es", "es-label": "¿Dónde ocurrió?",
                             "es-choices": "Sede central", "es-csrf_token": admin.token},
                       csrf=False)
    assert wrong.status_code == 400
    assert "as many as the question has" in wrong.get_data(as_text=True)
    assert "¿Dónde ocurrió?" in wrong.get_data(as_text=True)  # kept as typed
    right = admin.post(url, {"language": "es", "es-label": "¿Dónde ocurrió?",
                             "es-choices": "Sede central\nUna sucursal",
                             "es-csrf_token": admin.token}, csrf=False)
    assert right.status_code == 302
    with store.transaction() as db:
        stored = json.loads(db.get_one(Question, question_id).translations)
    assert stored["es"]["choices"] == "Sede central\nUna sucursal"


def test_only_another_reporters_language_and_only_admins(items, person, signed_in) -> None:
    admin, category_id, _q = items
    url = f"/admin/categories/{category_id}/languages"
    refused = admin.post(url, {"language": "en", "en-name": "x", "en-csrf_token": admin.token},
                         csrf=False)
    assert refused.status_code == 400
    assert signed_in(person("alice")).get(url).status_code == 403
