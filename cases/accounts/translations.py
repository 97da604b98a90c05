"""Administrators giving the categories and questions in the reporters' other languages
(the texts themselves: cases.localized). Audited per item and language."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cases.accounts.administration import AdminRefused
from cases.localized import with_language
from cases.models import Category, Question
from cases.records.audit import record

MAX_TEXT = 2000


def save_category_texts(
    db: Session,
    category: Category,
    language: str,
    *,
    languages: tuple[str, ...],
    name: str,
    description: str,
    actor_id: int,
) -> None:
    _check(language, languages, name, description)
    category.translations = with_language(
        category.translations, language, {"name": name, "description": description}
    )
    db.flush()
    record(db, "category.translated", actor_id=actor_id, category_id=category.id,
           language=language)


def save_question_texts(
    db: Session,
    question: Question,
    language: str,
    *,
    languages: tuple[str, ...],
    label: str,
    help_text: str,
    choices: str,
    actor_id: int,
) -> None:
    _check(language, languages, label, help_text, choices)
    given = [line.strip() for line in choices.splitlines() if line.strip()]
    wanted = [line for line in question.choices.splitlines() if line.strip()]
    if given and len(given) != len(wanted):
        raise AdminRefused("Give one choice per line, as many as the question has.")
    question.translations = with_language(question.translations, language, {
        "label": label, "help_text": help_text, "choices": "\n".join(given),
    })
    db.flush()
    record(db, "question.translated", actor_id=actor_id, question_id=question.id,
           language=language)


def _check(language: str, languages: tuple[str, ...], *texts: str) -> None:
    """``languages``: the reporters' languages but the default one (the item's own)."""
    if language not in languages:
        raise AdminRefused("Choose one of the reporters' languages.")
    if any(len(text) > MAX_TEXT for text in texts):
        raise AdminRefused("This text is too long.")
