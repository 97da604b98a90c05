"""The layers of docs/ARCHITECTURE.md, checked on the source: crypto → config → cases → the
two apps, no web framework below the apps, the apps never importing each other, and a
docstring on every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("crypto", "config", "cases", "intake", "caseworker")
# What each layer may import of ours, and the libraries it must not use.
MAY_IMPORT = {
    "crypto": set(),
    "config": {"crypto"},
    "cases": {"crypto", "config"},
    "intake": {"crypto", "config", "cases"},
    "caseworker": {"crypto", "config", "cases"},
}
NO_WEB = {"flask", "flask_babel", "flask_wtf", "flask_limiter", "werkzeug", "jinja2", "wtforms"}
FORBIDDEN_LIBRARIES = {
    "crypto": NO_WEB | {"sqlalchemy", "alembic"},
    "config": NO_WEB | {"sqlalchemy", "alembic"},
    "cases": NO_WEB,
}


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "translations" not in p.parts)


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_each_layer_imports_only_what_is_below_it(package: str) -> None:
    wrong = {}
    for path in _modules(package):
        imported = _imported(path)
        ours = imported & set(PACKAGES) - {package}
        libraries = imported & FORBIDDEN_LIBRARIES.get(package, set())
        bad = (ours - MAY_IMPORT[package]) | libraries
        if bad:
            wrong[str(path.relative_to(ROOT))] = sorted(bad)
    assert wrong == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_says_what_it_is_for(package: str) -> None:
    missing = [str(p.relative_to(ROOT)) for p in _modules(package)
               if p.stat().st_size and ast.get_docstring(ast.parse(p.read_text())) is None]
    assert missing == []


# Plain declarations, not logic: the table definitions and Alembic's generated migrations.
SIZE_EXEMPT = ("cases/models.py", "cases/migrations/versions/")
MAX_FILE_LINES, MAX_FUNCTION_LINES = 400, 60


def _sized_modules() -> list[Path]:
    return [
        p for package in PACKAGES for p in _modules(package)
        if not str(p.relative_to(ROOT)).startswith(SIZE_EXEMPT)
    ]


def test_no_module_is_longer_than_a_reader_can_hold() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _sized_modules()
        if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES
    }
    assert long == {}


def test_no_function_is_longer_than_a_screen() -> None:
    long = {
        f"{p.relative_to(ROOT)}:{node.name}": length
        for p in _sized_modules()
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (length := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
    }
    assert long == {}
