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
from typing import Any, Protocol

from babel.numbers import format_decimal
from markupsafe import Markup

_WHOLE_NUMBER_FIELD = re.compile(r"%\((\w+)\)d")


def fill(text: str, variables: dict[str, Any], locale: str, *, autoescape: bool) -> str:
    """``text % variables`` as Jinja's i18n does it (escaping the values into HTML when
    ``autoescape``), whole numbers written for ``locale``."""
    values = {name: format_decimal(value, locale=locale)
              if isinstance(value, int) and not isinstance(value, bool) else value
              for name, value in variables.items()}
    pattern = _WHOLE_NUMBER_FIELD.sub(r"%(\1)s", text)
    # The pattern is our own catalogue's text, as in Jinja's own i18n; Markup's % escapes
    # every value put into it.
    return (Markup(pattern) if autoescape else pattern) % values  # noqa: S704


class Catalogue(Protocol):
    def ugettext(self, string: str) -> str: ...
    def ungettext(self, singular: str, plural: str, num: int) -> str: ...


class Sentences:
    """gettext and ngettext over an app's catalogue and locale (Flask-Babel's
    ``get_translations`` and ``get_locale``, handed in so that this layer knows no Flask)."""

    def __init__(self, catalogue: Callable[[], Catalogue], locale: Callable[[], object]) -> None:
        self._catalogue = catalogue
        self._locale = locale

    def gettext(self, string: str, *, autoescape: bool = False, **variables: Any) -> str:
        text = self._catalogue().ugettext(string)
        return fill(text, variables, str(self._locale() or "en"), autoescape=autoescape)

    def ngettext(self, singular: str, plural: str, num: int, *, autoescape: bool = False,
                 **variables: Any) -> str:
        variables.setdefault("num", num)
        text = self._catalogue().ungettext(singular, plural, num)
        return fill(text, variables, str(self._locale() or "en"), autoescape=autoescape)
