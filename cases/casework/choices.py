"""The fixed choices of casework: what a triage, a risk assessment, a conclusion and an
oral report may record, and which messages form the thread the reporter reads."""

from __future__ import annotations

import re

from cases.models import MessageKind

THREAD_KINDS = (
    MessageKind.REPORT,
    MessageKind.REPORTER_MESSAGE,
    MessageKind.REPLY,
    MessageKind.MINUTES,
)
PRIORITIES = (1, 2, 3)  # low, medium, high
COMPLETENESS = ("complete", "partial", "insufficient")
LEVELS = ("low", "medium", "high")
OUTCOMES = (
    "substantiated",
    "partly_substantiated",
    "not_substantiated",
    "referred",
    "outside_scope",
    "insufficient_information",
    "withdrawn",
)
PROTECTION = ("continue", "end", "not_needed")
MEDIUMS = ("phone", "meeting", "voice_message", "other")
LABEL_PATTERN = re.compile(r"^[\w][\w .\-]{0,39}$")
