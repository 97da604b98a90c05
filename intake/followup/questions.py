"""How a report's answers name their questions on the follow-up page: a built-in question
translated, the organisation's in the reporter's language where an administrator gave it
(the report stores the default language's label, cases.localized)."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from sqlalchemy import select

from cases.localized import N_, in_language
from cases.models import Question
from intake.i18n import current_language
from intake.report.options import BUILTIN_QUESTIONS
from intake.work import db

_SOURCE_LABELS = frozenset(
    [q.label for q in BUILTIN_QUESTIONS]
    + [N_("When did it happen?"), N_("What would help protect you now?")]
)


def question_words() -> tuple[dict[str, str], dict[str, str]]:
    """The built-in questions' words by their recorded label, and the organisation's
    questions' words by key, in the page's language."""
    language = current_language()
    configured = {
        key: in_language(translations, language, "label", label)
        for key, label, translations in db().execute(
            select(Question.key, Question.label, Question.translations)
        )
    }
    return {label: str(_(label)) for label in _SOURCE_LABELS}, configured


def question_labels() -> Callable[[dict[str, str]], str]:
    """The label of an answer's question (the page script does the same with
    :func:`question_words` in a sealed session)."""
    builtin, configured = question_words()

    def label(answer: dict[str, str]) -> str:
        question = answer.get("question") or answer.get("key", "")
        if question in builtin:
            return builtin[question]
        return str(configured.get(answer.get("key", ""), question))

    return label
