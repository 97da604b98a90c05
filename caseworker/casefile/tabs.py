"""The case page's sections, as tabs that are plain links (they work without JavaScript).

A case was one long page with a dozen forms; each tab is now a page of its own holding a
few sections (``casefile/view/<section>.html``). An action returns to the section it came
from, so this table is the one place that says which tab shows which section.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


@dataclass(frozen=True)
class Tab:
    key: str  # in the URL: /cases/<id>/<key>, except the first tab, at /cases/<id>
    title: LazyString
    sections: tuple[str, ...]  # the includes, in the order they show


TABS = (
    Tab("thread", _l("Report and messages"), ("acknowledge", "report", "thread")),
    Tab("workflow", _l("Triage and risk"), ("workflow", "internal")),
    Tab("people", _l("People and access"), ("organisation", "access", "identity")),
    Tab("history", _l("History and export"), ("history", "export")),
)
FIRST = TABS[0].key
KEYS = tuple(tab.key for tab in TABS)


def tab_named(key: str) -> Tab:
    return next(tab for tab in TABS if tab.key == key)


def tab_of(section: str) -> Tab:
    """The tab that shows this section (an action's ``anchor``); the first if none does."""
    return next((tab for tab in TABS if section in tab.sections), TABS[0])
