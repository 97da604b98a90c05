"""Passages blacked out in a copy of a case that leaves the system (the PDF and the ZIP of
``cases.casework.export``): a caseworker marks the names of third parties or what could
identify the reporter, and every occurrence, whatever its capitals, becomes full blocks in
every text of the copy. The stored case is never touched (EU 2019/1937 Art. 16 and 17), and
the passages themselves are not stored anywhere: the audit entry counts them only."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

BLACKED_OUT = "\u2588"  # a full block per character of a marked passage
MIN_PASSAGE = 2  # a single character marked would black out every occurrence of it


@dataclass(frozen=True)
class Redactions:
    """Passages to black out, matched whatever their case; longer ones first, so a passage
    inside a longer one leaves nothing of the longer one readable."""

    passages: tuple[str, ...] = ()

    @classmethod
    def from_lines(cls, text: str) -> Redactions:
        lines = {line.strip() for line in text.splitlines()}
        return cls(tuple(sorted((p for p in lines if len(p) >= MIN_PASSAGE), key=len,
                                reverse=True)))

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.passages:
            return None
        return re.compile("|".join(re.escape(p) for p in self.passages), re.IGNORECASE)

    def apply(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None:
            return text
        return pattern.sub(lambda m: BLACKED_OUT * len(m.group(0)), text)

    def apply_to(self, value: Any) -> Any:
        """A JSON value with every string in it (keys too) blacked out where marked."""
        if isinstance(value, str):
            return self.apply(value)
        if isinstance(value, list):
            return [self.apply_to(v) for v in value]
        if isinstance(value, dict):
            return {self.apply(str(k)): self.apply_to(v) for k, v in value.items()}
        return value
