"""Reporters read the organisation's categories and questions in their language where an
administrator gave it, in the default language where not; the report records the default
language's question and choice, whatever the reporter read."""

from __future__ import annotations

import pytest

from cases.accounts.translations import save_category_texts, save_question_texts
from cases.models import Category, Question
from cases.reporting.followup import find_case, reporter_view
from cases.store import Store
from crypto import normalize_receipt

OTHERS = ("ar", "es", "fr", "ru", "zh")


@pytest.fixture
def configured(store: Store) -> None:
    with store.transaction() as db:
        category = Category(slug="fraud", name="Fraud", position=0)
        question = Question(key="where", label="Where did it happen?", kind="choice",
                            choices="Head office\nA branch", position=0)
        db.add_all([category, question])
        db.flush()
        save_category_texts(db, category, "ar", languages=OTHERS, name="احتيال",
                            description="", actor_id=1)
        save_question_texts(db, question, "ar", languages=OTHERS, label="أين حدث ذلك؟",
                            help_text="", choices="المقر الرئيسي\nفرع", actor_id=1)
        save_question_texts(db, question, "fr", languages=OTHERS, label="Où cela s’est-il passé ?",
                            help_text="", choices="", actor_id=1)  # choices not given


def test_the_form_speaks_the_reporters_language(new_browser, configured) -> None:
    arabic = new_browser("ar").open_form().get_data(as_text=True)
    assert "احتيال" in arabic and "أين حدث ذلك؟" in arabic and "المقر الرئيسي" in arabic
    assert ">Fraud<" not in arabic and ">Head office<" not in arabic  # (values stay)
    french = new_browser("fr").open_form().get_data(as_text=True)
    assert "Où cela s’est-il passé ?" in french
    assert ">Fraud<" in french and ">Head office<" in french  # not given: default language
    spanish = new_browser("es").open_form().get_data(as_text=True)
    assert "Where did it happen?" in spanish


def test_the_report_records_the_default_languages_texts(new_browser, configured,
                                                         store: Store) -> None:
    browser = new_browser("ar")
    receipt = browser.submit("تقرير عن الاحتيال في المشتريات.", category="fraud",
                             q_where="Head office")
    with store.transaction() as db:
        case, keys = find_case(db, store.settings, normalize_receipt(receipt))
        assert case is not None and case.category_id is not None
        body = reporter_view(db, case, keys.private_key).messages[0].body
    assert {"key": "where", "question": "Where did it happen?",
            "answer": "Head office"} in body["answers"]


def test_the_follow_up_shows_the_question_in_the_reporters_language(new_browser, configured
                                                                    ) -> None:
    browser = new_browser("ar")
    receipt = browser.submit("تقرير عن الاحتيال في المشتريات.", q_where="A branch")
    page = browser.login(receipt)
    assert page.status_code == 303  # to the case page
    text = browser.case_page().get_data(as_text=True)
    assert "أين حدث ذلك؟" in text and "Where did it happen?" not in text
