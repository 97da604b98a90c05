"""Select options in the form WTForms 3.3+ expects (``SelectChoice``), with a fallback
to plain pairs on older WTForms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms < 3.3
    SelectChoice = None


def options(pairs: Iterable[tuple[Any, Any]]) -> list[Any]:
    if SelectChoice is None:
        return [(str(value), label) for value, label in pairs]
    return [SelectChoice(str(value), label) for value, label in pairs]
