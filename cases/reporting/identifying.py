"""What in a reporter's own text could identify them, found in memory while the review page
is built and never stored: e-mail addresses, phone numbers (Google's libphonenumber, through
``phonenumbers``), account and ID numbers (IBANs, long runs of digits), the names of the
organisation's sites or units the operator lists (``identifying_names``), and caseworkers'
display names.

Digits of any script count (Arabic-Indic, Persian, full-width…: ``unicodedata.decimal``),
and names are matched case-insensitively after NFKC, so full-width letters match too. The
findings are spans of the text, each with a kind the page words in the reporter's language.
No Flask here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

EMAIL = "email"
PHONE = "phone"
ACCOUNT = "account"
NUMBER = "number"
PLACE = "place"
PERSON = "person"

# An address starts where a run of its characters starts (the look-behind): without it
# the engine tried a match from every position of a long run with no "@" in it, each
# scanning to the run's end, and 50,000 letters in a row took seconds of CPU per review.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b")
# Eight digits or more, spaces, dots, dashes or slashes between them allowed: an ID card,
# a passport, a payroll or account number.
_LONG_NUMBER = re.compile(r"\d(?:[ .\-/]?\d){7,}")
MIN_NAME_CHARS = 3


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    kind: str

    def overlaps(self, other: Finding) -> bool:
        return self.start < other.end and other.start < self.end


def _ascii_digits(text: str) -> str:
    """The same text, each decimal digit of any script as its ASCII digit (same length, so
    positions stay those of the original)."""
    return "".join(
        str(unicodedata.decimal(ch)) if unicodedata.decimal(ch, None) is not None else ch
        for ch in text
    )


def _fold(text: str) -> str:
    """For comparing names: NFKC per character (full-width letters become plain), lower
    case; one character in, one out, so positions are kept."""
    return "".join((unicodedata.normalize("NFKC", ch).casefold() or ch)[:1] for ch in text)


def _names(text: str, names: Iterable[str], kind: str) -> list[Finding]:
    folded = _fold(text)
    found = []
    for name in {n.strip() for n in names if len(n.strip()) >= MIN_NAME_CHARS}:
        pattern = re.compile(r"(?<!\w)" + re.escape(_fold(name)) + r"(?!\w)")
        found += [Finding(m.start(), m.end(), kind) for m in pattern.finditer(folded)]
    return found


def find_identifying(
    text: str, *, places: Iterable[str] = (), people: Iterable[str] = (), region: str | None = None
) -> list[Finding]:
    """Every span of ``text`` that could identify its writer, in order, none overlapping
    (the most specific kind wins: e-mail, phone, account, then a bare long number)."""
    digits = _ascii_digits(text)
    candidates = [Finding(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(text)]
    candidates += [
        Finding(m.start, m.end, PHONE)
        for m in phonenumbers.PhoneNumberMatcher(text, region or "ZZ")
    ]
    candidates += [Finding(m.start(), m.end(), ACCOUNT) for m in _IBAN.finditer(digits)]
    candidates += [Finding(m.start(), m.end(), NUMBER) for m in _LONG_NUMBER.finditer(digits)]
    candidates += _names(text, places, PLACE) + _names(text, people, PERSON)
    kept: list[Finding] = []
    for finding in candidates:  # in order of preference
        if not any(finding.overlaps(k) for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


def segments(text: str, findings: list[Finding]) -> list[tuple[str, str | None]]:
    """The text cut at the findings: (piece, kind or None), for marking them on a page."""
    out: list[tuple[str, str | None]] = []
    at = 0
    for f in findings:
        if f.start > at:
            out.append((text[at:f.start], None))
        out.append((text[f.start:f.end], f.kind))
        at = f.end
    if at < len(text):
        out.append((text[at:], None))
    return out
