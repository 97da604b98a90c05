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


# Decimal units, largest first: how a size reads in the page's language (babel.units).
_SIZE_UNITS = (("digital-gigabyte", 10**9), ("digital-megabyte", 10**6),
               ("digital-kilobyte", 10**3))


def file_size(size: int, locale: str) -> str:
    """A file's size in the reader's language: "54 bytes", "12,3 ko", "1.5 MB"; one
    decimal at most, never "0 MB" for a small file."""
    from babel.units import format_unit

    for unit, scale in _SIZE_UNITS:
        if size >= scale:
            return str(format_unit(size / scale, unit, length="short", format="#,##0.#",
                                   locale=locale))
    return str(format_unit(size, "digital-byte", length="long", locale=locale))
