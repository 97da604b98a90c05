"""The ``sealbox`` command line: one module per group of commands, each registering its
commands on ``main`` (caseworker.cli.base, whose docstring is the usage)."""

from __future__ import annotations

from caseworker.cli import (  # noqa: F401  (registers)
    accounts,
    audit,
    instance,
    notify,
    recovery,
    serve,
)
from caseworker.cli.base import main

__all__ = ["main"]
