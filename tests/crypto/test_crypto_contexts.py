"""The registry of contexts (crypto/contexts.py) and the table of docs/CRYPTO.md are one
list: a context added, renamed or dropped in one and not the other fails here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from crypto import Context, contexts

DOC = Path(__file__).resolve().parents[2] / "docs" / "CRYPTO.md"
# The wrapped-key row is one function for four documented labels.
WRAPPED_KEYS = {"thread": "", "internal": "", "identity": "<record_id>", "request": "<request_id>"}


def _documented() -> set[str]:
    text = DOC.read_text()
    table = text[text.index("Every context is `Context(owner_id, purpose)`"):]
    table = table[: table.index("\n\n", table.index("| --- |"))]
    cells = [row.rsplit("|", 2)[-2].strip() for row in table.splitlines() if row.startswith("| ")]
    return {c.strip("`") for c in cells if c.startswith("`(")}


def _render(context: Context) -> str:
    """As the doc writes it: a bare owner name, or a quoted owner with placeholders."""
    owner = context.owner_id
    shown = owner[1:-1] if re.fullmatch(r"<\w+>", owner) else f'"{owner}"'
    return f'({shown}, "{context.purpose}")'


def _registered() -> set[str]:
    rendered = {
        _render(contexts.wrapped_key("<case_id>", purpose, record))
        for purpose, record in WRAPPED_KEYS.items()
    }
    for name, function in inspect.getmembers(contexts, inspect.isfunction):
        if function.__module__ != contexts.__name__ or name == "wrapped_key":
            continue
        parameters = inspect.signature(function).parameters
        rendered.add(_render(function(*(f"<{p}>" for p in parameters))))
    return rendered


def test_every_context_in_the_registry_is_documented_and_every_documented_one_registered() -> None:
    documented = _documented()
    assert len(documented) >= 13  # the table was found and read
    assert _registered() == documented


def test_no_package_builds_a_context_of_its_own() -> None:
    root = DOC.parents[1]
    builders = [
        f"{path.relative_to(root)}:{n}"
        for package in ("crypto", "config", "cases", "intake", "caseworker")
        for path in sorted((root / package).rglob("*.py"))
        if path.name not in ("contexts.py", "envelopes.py") or path.parent.name != "crypto"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bContext\(", line) and "MigrationContext" not in line
    ]
    assert builders == []
