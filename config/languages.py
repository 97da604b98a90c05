"""The languages both apps know: each one's name in itself (a speaker must recognise it
in a language switch) and which are written right to left. One table, so the two apps
can never disagree on a page's direction."""

from __future__ import annotations

NATIVE_NAMES = {
    "en": "English",
    "ar": "العربية",
    "es": "Español",
    "fr": "Français",
    "ru": "Русский",
    "zh": "中文",
    "fa": "فارسی",
    "he": "עברית",
    "ur": "اردو",
    "pt": "Português",
    "de": "Deutsch",
    "tr": "Türkçe",
    "uk": "Українська",
}

# Scripts written right to left: Arabic (ar, fa, ur, ps, ku's Sorani, sd, ug),
# Hebrew (he, yi) and Thaana (dv).
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur", "ps", "yi", "dv", "ku", "sd", "ug"})


def text_direction(code: str) -> str:
    """``"rtl"`` or ``"ltr"`` for a language code, a region or script suffix allowed
    (``ar``, ``ar-EG``, ``fa_IR``)."""
    return "rtl" if code.replace("_", "-").split("-")[0].lower() in RIGHT_TO_LEFT else "ltr"
