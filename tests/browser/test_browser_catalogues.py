"""Message catalogues are complete: every message a fresh extraction finds in an app's code
and templates (with babel.cfg, as the README's commands do) has a non-fuzzy, non-empty
translation in every language the app offers, with the same placeholders as the source
text, and survives the %-formatting Jinja applies to every translated string. The caseworker
catalogue also holds the refusal messages raised in cases/ (caseworker/babel.cfg).

No browser needed: these tests run in every suite (also `make test-postgres`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from config import Settings

ROOT = Path(__file__).resolve().parents[2]
APPS = {
    "intake": Settings().languages,  # en ar es fr ru zh
    "caseworker": Settings().caseworker_languages,  # the six UN languages
}


@dataclass(frozen=True)
class Sources:
    """Where an app's messages come from: the commands in babel.cfg and caseworker/babel.cfg."""

    config: str
    folder: str
    files: tuple[str, ...] = ()  # messages of cases/ an app shows translated
    keywords: tuple[str, ...] = ()


CLEANING_WORDS = "cases/attachments/cleaning_words.py"  # what file cleaning removed
REFUSALS = ("CaseworkRefused", "AdminRefused", "ApprovalRefused", "KeyRefused")


def refusing_modules() -> tuple[str, ...]:
    """Every module of cases/ that raises a refusal the caseworker app shows translated."""
    pattern = re.compile(rf"\b({'|'.join(REFUSALS)})\(")
    return tuple(
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "cases").rglob("*.py"))
        if pattern.search(path.read_text())
    )


SOURCES = {
    "intake": Sources("babel.cfg", "intake", files=(CLEANING_WORDS,), keywords=("_l",)),
    "caseworker": Sources(
        "caseworker/babel.cfg" if (ROOT / "caseworker" / "babel.cfg").exists() else "babel.cfg",
        "caseworker",
        files=(CLEANING_WORDS, *refusing_modules()),
        keywords=("_l", *REFUSALS),
    ),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)([sdifr])|%([sdifr%])")
LANGUAGE_CASES = [(app, lang) for app, langs in APPS.items() for lang in langs]


def extract(app: str) -> dict[Any, str]:
    """msgid (a tuple for plurals) -> where it was found, from a fresh extraction."""
    source = SOURCES[app]
    keywords = {**DEFAULT_KEYWORDS, **dict.fromkeys(source.keywords)}
    with (ROOT / source.config).open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[Any, str] = {}

    def add(message: Any, where: str) -> None:
        msgid = message if isinstance(message, str) else tuple(message)
        key = msgid if isinstance(msgid, str) else msgid[0]
        if key:
            found.setdefault(msgid, where)

    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT / source.folder), method_map, options_map, keywords=keywords
    ):
        add(message, f"{source.folder}/{filename}:{lineno}")
    for path in source.files:
        for lineno, message, _comments, _context in extract_from_file(
            "python", str(ROOT / path), keywords=keywords
        ):
            add(message, f"{path}:{lineno}")
    return found


def catalogue(app: str, lang: str) -> Catalog:
    path = ROOT / app / "translations" / lang / "LC_MESSAGES" / "messages.po"
    where = path.relative_to(ROOT)
    assert path.exists(), f"{where} is missing: pybabel init -l {lang} (see babel.cfg)"
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def placeholders(text: str) -> set[tuple[str, str]]:
    return {(m.group(1) or "", m.group(2) or m.group(3)) for m in PLACEHOLDER.finditer(text)}


def _forms(value: Any) -> list[str]:
    return list(value) if isinstance(value, tuple | list) else [value]


def sample_values(text: str) -> dict[str, Any]:
    return {name: (3 if kind in "di" else 3.0 if kind == "f" else "x")
            for name, kind in placeholders(text) if name}


@pytest.fixture(scope="module")
def extracted() -> dict[str, dict[Any, str]]:
    return {app: extract(app) for app in APPS}


@pytest.mark.parametrize(("app", "lang"), LANGUAGE_CASES)
def test_every_message_is_translated(
    app: str, lang: str, extracted: dict[str, dict[Any, str]]
) -> None:
    cat = catalogue(app, lang)
    problems = []
    for msgid, where in extracted[app].items():
        key = msgid if isinstance(msgid, str) else msgid[0]
        message = cat.get(key)
        if message is None:
            problems.append(f"missing: {key!r} ({where})")
            continue
        forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {key!r} ({where})")
        if not all(form and form.strip() for form in forms):
            problems.append(f"empty translation: {key!r} ({where})")
        if isinstance(msgid, tuple) != isinstance(message.id, tuple | list):
            problems.append(f"plural forms differ from the source: {key!r} ({where})")
        elif isinstance(msgid, tuple) and len(forms) != cat.num_plurals:
            problems.append(f"{len(forms)} plural forms, not {cat.num_plurals}: {key!r}")
    assert not problems, (
        f"{app}/translations/{lang}: {len(problems)} problem(s); run the extract/update commands "
        "in babel.cfg and translate:\n" + "\n".join(problems)
    )


@pytest.mark.parametrize(("app", "lang"), LANGUAGE_CASES)
def test_placeholders_match(app: str, lang: str) -> None:
    cat = catalogue(app, lang)
    problems = []
    for message in cat:
        if not message.id or not message.string:
            continue
        ids = _forms(message.id)
        forms = _forms(message.string)
        wanted = placeholders(ids[-1]) | placeholders(ids[0])
        for i, form in enumerate(forms):
            got = placeholders(form)
            # A plural form may leave the number out ("one day", "يومين"); the last (most
            # general) form and every singular message must keep all of them.
            plural_form = len(ids) > 1 and i < len(forms) - 1
            if (not got <= wanted) if plural_form else got != wanted:
                problems.append(f"{ids[0]!r}: {sorted(got)} != {sorted(wanted)} in {form!r}")
            try:
                form % sample_values(ids[-1])
            except (KeyError, ValueError, TypeError) as exc:
                problems.append(f"{ids[0]!r}: {form!r} cannot be %-formatted ({exc!r})")
    assert not problems, f"{app}/translations/{lang}:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", APPS["intake"])
def test_receipt_instructions_keep_ascii_digits(lang: str) -> None:
    """Receipts are ASCII digits in every language: instructions that quote digits use them
    too (a reporter copies what they see; input in other digits is accepted anyway)."""
    cat = catalogue("intake", lang)
    for message in cat:
        for form in _forms(message.string):
            odd = [ch for ch in form or "" if ch.isdigit() and not ch.isascii()]
            assert not odd, f"non-ASCII digits {odd} in {form!r}"


def test_each_app_offers_only_languages_it_has_catalogues_for() -> None:
    for app, langs in APPS.items():
        found = (ROOT / app / "translations").glob("*/LC_MESSAGES/messages.po")
        present = {p.parent.parent.name for p in found}
        assert set(langs) <= present, f"{app}: no catalogue for {sorted(set(langs) - present)}"
