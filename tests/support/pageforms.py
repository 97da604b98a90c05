"""The forms of a page as a browser with JavaScript off sees them: one HTML parser for the
test suites and the benchmarks, which post real forms with their real CSRF tokens.

Each form is a dict: ``action``, ``method``, ``enctype`` and ``controls``, every named
control in document order (its attributes plus ``tag``; a textarea's ``value`` is its
text, without the newline that may follow the opening tag). What a helper sends back is
its own choice: :func:`values` picks the controls of the given kinds.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
_CSRF_EITHER_ORDER = (
    re.compile(r'name="csrf_token"[^>]*value="([^"]+)"'),
    re.compile(r'value="([^"]+)"[^>]*name="csrf_token"'),
)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._textarea: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append({
                "action": a.get("action", ""),
                "method": a.get("method", "get"),
                "enctype": a.get("enctype", ""),
                "controls": [],
            })
        elif tag in ("input", "select", "textarea", "button") and self.forms and a.get("name"):
            control = {"tag": tag, **a}
            if tag == "textarea":
                control["value"] = ""
                self._textarea = control
            self.forms[-1]["controls"].append(control)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self._textarea["value"] = self._textarea["value"].removeprefix("\n")
            self._textarea = None


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_to(html: str, action_part: str) -> dict[str, Any]:
    """The first form whose action contains ``action_part``."""
    for form in forms_of(html):
        if action_part in form["action"]:
            return form
    raise AssertionError(f"no form posting to {action_part!r} in:\n{html[:3000]}")


def kind_of(control: dict[str, str]) -> str:
    """``hidden``, ``text``, ``password``, ``checkbox``... for inputs; the tag otherwise."""
    return control.get("type", "text") if control["tag"] == "input" else control["tag"]


def values(form: dict[str, Any], *kinds: str) -> list[tuple[str, str]]:
    """(name, value) of the form's controls of these kinds, in document order."""
    return [(c["name"], c.get("value", "")) for c in form["controls"] if kind_of(c) in kinds]


def names(form: dict[str, Any]) -> set[str]:
    return {c["name"] for c in form["controls"]}


def csrf_of(html: str) -> str:
    """The page's CSRF token, whichever order its input's attributes come in."""
    for pattern in _CSRF_EITHER_ORDER:
        if match := pattern.search(html):
            return match.group(1)
    raise AssertionError("page has no CSRF token")
