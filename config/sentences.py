"""Numbers in translated sentences, written as the reader's language writes them:
"1 500 jours", "1,500 days", "50.000 caracteres".

Flask-Babel's gettext and ngettext fill ``%(num)d`` as Python does, with no grouping.
:func:`fill` puts every whole number in with Babel's ``format_decimal`` for the reader's
locale instead, so the message ids and catalogues stay as they are. :class:`Sentences`
makes gettext and ngettext of it for an app's catalogue; each app hands them to its
templates (``intake.i18n``, ``caseworker.templating``: the few lines that know Jinja).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Protocol

from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from markupsafe import Markup

_WHOLE_NUMBER_FIELD = re.compile(r"%\((\w+)\)d")
_CACHED = "_sealbox_sentences"  # the request's (catalogue, locale), on its scope


def fill(text: str, variables: dict[str, Any], locale: str, *, autoescape: bool) -> str:
    """``text % variables`` as Jinja's i18n does it (escaping the values into HTML when
    ``autoescape``), whole numbers written for ``locale``."""
    values = {name: _number(value, locale)
              if isinstance(value, int) and not isinstance(value, bool) else value
              for name, value in variables.items()}
    pattern = _pattern(text)
    # The pattern is our own catalogue's text, as in Jinja's own i18n; Markup's % escapes
    # every value put into it.
    return (Markup(pattern) if autoescape else pattern) % values  # noqa: S704


# A page puts a hundred sentences through ``fill``: each catalogue text's pattern, and
# each small number in each locale, is worked out once per process (both are bounded:
# the catalogues' texts, and counts and limits the pages state).
@lru_cache(maxsize=4096)
def _pattern(text: str) -> str:
    return _WHOLE_NUMBER_FIELD.sub(r"%(\1)s", text)


@lru_cache(maxsize=4096)
def _number(value: int, locale: str) -> str:
    return format_decimal(value, locale=locale)


class Catalogue(Protocol):
    def ugettext(self, string: str) -> str: ...
    def ungettext(self, singular: str, plural: str, num: int) -> str: ...


class Sentences:
    """gettext and ngettext over an app's catalogue and locale (Flask-Babel's
    ``get_translations`` and ``get_locale``, handed in so that this layer knows no Flask).

    ``scope`` is an object that lives as long as one request (Flask's ``g``), which raises
    RuntimeError outside one: the catalogue and locale are looked up once per request
    there, not once per sentence (each look-up walks several context-local proxies). So a
    request speaks one language throughout (the apps never switch it mid-request, e.g.
    with Flask-Babel's ``force_locale``)."""

    def __init__(self, catalogue: Callable[[], Catalogue], locale: Callable[[], object],
                 scope: object = None) -> None:
        self._catalogue = catalogue
        self._locale = locale
        self._scope = scope

    def _current(self) -> tuple[Catalogue, str]:
        try:
            current: tuple[Catalogue, str] | None = getattr(self._scope, _CACHED, None)
        except RuntimeError:  # no request: nothing to keep it in
            return self._look_up()
        if current is None:
            current = self._look_up()
            if self._scope is not None:
                setattr(self._scope, _CACHED, current)
        return current

    def _look_up(self) -> tuple[Catalogue, str]:
        return self._catalogue(), str(self._locale() or "en")

    def gettext(self, string: str, *, autoescape: bool = False, **variables: Any) -> str:
        catalogue, locale = self._current()
        return fill(catalogue.ugettext(string), variables, locale, autoescape=autoescape)

    def ngettext(self, singular: str, plural: str, num: int, *, autoescape: bool = False,
                 **variables: Any) -> str:
        variables.setdefault("num", num)
        catalogue, locale = self._current()
        text = catalogue.ungettext(singular, plural, num)
        return fill(text, variables, locale, autoescape=autoescape)


@lru_cache(maxsize=64)
def catalogue(directory: str, domain: str, locale: str) -> NullTranslations:
    """A gettext catalogue read from disk once per process."""
    return Translations.load(directory, [locale], domain=domain)


class LazyCatalogue:
    """A catalogue in the request's locale, found when a text is first asked for.

    For WTForms' own messages ("This field is required."): Flask-WTF reads and parses its
    catalogue again in every request that builds a form, unless the request already
    carries one (``request.wtforms_translations``, which each app sets to this before its
    views). The locale is looked up at the first message, not when the request starts:
    whatever decides it (in the back office, the signed-in caseworker's language) has run
    by then, whatever the order of the hooks, and a request with no form never asks."""

    def __init__(self, directory: str, domain: str, locale: Callable[[], str]) -> None:
        self._directory, self._domain, self._locale = directory, domain, locale

    def _now(self) -> NullTranslations:
        return catalogue(self._directory, self._domain, self._locale())

    def ugettext(self, string: str) -> str:
        return self._now().ugettext(string)

    def ungettext(self, singular: str, plural: str, num: int) -> str:
        return self._now().ungettext(singular, plural, num)
