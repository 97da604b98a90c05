"""The organisation's own texts (categories, questions) in the reporters' languages.

An item's columns hold its text in the instance's default language; its ``translations``
column holds the others as JSON ``{language: {field: text}}``. A reporter reads the text in
their language where an administrator gave one, else the default language's: never an
empty label.
"""

from __future__ import annotations

import json
from typing import Any


def N_(text: str) -> str:
    """Mark a string for extraction; it is kept untranslated and translated on display."""
    return text


def translations_of(stored: str) -> dict[str, dict[str, str]]:
    """The stored JSON as a dictionary; anything malformed reads as no translation."""
    try:
        value: Any = json.loads(stored or "{}")
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {
        lang: {k: v for k, v in texts.items() if isinstance(v, str)}
        for lang, texts in value.items()
        if isinstance(lang, str) and isinstance(texts, dict)
    }


def in_language(stored: str, language: str, field: str, default: str) -> str:
    """The field's text in ``language``, or ``default`` (the default language's)."""
    text = translations_of(stored).get(language, {}).get(field, "").strip()
    return text or default


def with_language(stored: str, language: str, texts: dict[str, str]) -> str:
    """The JSON with ``language``'s texts replaced (empty texts dropped: they fall back)."""
    value = translations_of(stored)
    kept = {field: text.strip() for field, text in texts.items() if text.strip()}
    if kept:
        value[language] = kept
    else:
        value.pop(language, None)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def choice_labels(stored: str, language: str, choices: list[str]) -> list[str]:
    """The labels of a question's choices in ``language``, line for line with the default
    language's; any line missing falls back to the default language's choice."""
    given = in_language(stored, language, "choices", "").splitlines()
    return [
        (given[i].strip() if i < len(given) and given[i].strip() else choice)
        for i, choice in enumerate(choices)
    ]
