"""The plaintext of each kind of message, defined once: what its JSON holds, the events a
message can record, and one constructor per body that the writers call.

Bodies are stored as compact JSON (docs/CRYPTO.md) and decrypted into plain dicts, so
templates and the export read them with ordinary keys; these TypedDicts are the one
place those keys are named, and mypy holds every writer to them. An event is a message
that records a step rather than carrying words of its own (the reporter agreed the
minutes, an exclusion was overridden): its ``event`` is one of :class:`Event`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypedDict


class Event(StrEnum):
    AUTOMATIC_ACKNOWLEDGEMENT = "automatic_acknowledgement"
    MINUTES_AGREED = "minutes_agreed"
    MINUTES_AGREED_IN_PERSON = "minutes_agreed_in_person"
    REOPENED = "reopened"
    EXCLUSION_OVERRIDDEN = "exclusion_overridden"


class Answer(TypedDict):
    """One answered question of the report form: ``question`` is the label the reporter
    saw (built-in labels are stored untranslated and translated for each reader)."""

    key: str
    question: str
    answer: str


class ReportBody(TypedDict, total=False):
    """``report``: the reporter's account (web form or retaliation report)."""

    text: str
    answers: list[Answer]
    retaliation: bool
    # The language the reporter wrote in (a code of config.languages), sealed with the
    # report so the caseworker can answer in it and the database does not know it.
    language: str


class MinutesBody(TypedDict, total=False):
    """``minutes``: a caseworker's minutes of an oral report; ``revision`` on corrections."""

    text: str
    medium: str  # cases.casework.choices.MEDIUMS
    held_on: str  # ISO date of the call or meeting
    revision: bool


class ThreadBody(TypedDict, total=False):
    """``reporter_message`` and ``reply``: words one way or the other, or an event."""

    text: str
    feedback: bool  # a reply that gives the reporter feedback (EU 2019/1937 Art. 9(1)(f))
    event: Event
    minutes_id: str  # with MINUTES_AGREED: the exact version agreed


class NoteBody(TypedDict, total=False):
    """``note``: internal text, or an event with the reason as its text."""

    text: str
    event: Event
    minutes_id: str
    recorded_by: int  # MINUTES_AGREED_IN_PERSON: who recorded it, who witnessed it
    witnessed_by: int


class TriageBody(TypedDict):
    scope: str
    priority: int
    completeness: str
    notes: str


class RiskBody(TypedDict):
    likelihood: str
    impact: str
    measures: str
    review_on: str | None


class ConclusionBody(TypedDict):
    outcome: str
    continued_protection: str
    protection_measures: str
    summary: str


Body = ReportBody | MinutesBody | ThreadBody | NoteBody | TriageBody | RiskBody | ConclusionBody

# Keys the message templates lay out themselves; any other key is shown as a field.
LAID_OUT = frozenset({"text", "answers", "event", "feedback", "revision", "minutes_id",
                      "language"})
_TEXTS = ("text", "event", "minutes_id", "language")  # each a string where present


def well_formed(body: Any) -> bool:
    """Whether a decrypted body has the shape every reader relies on: an object whose laid-
    out fields have their types. The server makes no other; a report sealed in a browser
    (cases.reporting.sealed) could be anything, and is then shown as damaged."""
    if not isinstance(body, dict):
        return False
    if any(not isinstance(body.get(name, ""), str) for name in _TEXTS):
        return False
    answers = body.get("answers", [])
    return isinstance(answers, list) and all(
        isinstance(a, dict) and all(isinstance(v, str) for v in a.values()) for a in answers
    )


def report(
    text: str, answers: list[Answer], *, retaliation: bool = False, language: str = ""
) -> ReportBody:
    body: ReportBody = {"text": text, "answers": answers}
    if retaliation:
        body["retaliation"] = True
    if language:
        body["language"] = language
    return body


def minutes(text: str, *, medium: str, held_on: str) -> MinutesBody:
    return {"text": text, "medium": medium, "held_on": held_on}


def revised_minutes(text: str) -> MinutesBody:
    return {"text": text, "revision": True}


def message(text: str, *, feedback: bool = False) -> ThreadBody:
    body: ThreadBody = {"text": text}
    if feedback:
        body["feedback"] = True
    return body


def thread_event(event: Event, text: str = "", *, minutes_id: str | None = None) -> ThreadBody:
    body: ThreadBody = {"text": text, "event": event}
    if minutes_id is not None:
        body["minutes_id"] = minutes_id
    return body


def note(text: str) -> NoteBody:
    return {"text": text}


def note_event(event: Event, reason: str = "") -> NoteBody:
    return {"text": reason, "event": event}


def agreed_in_person(minutes_id: str, *, recorded_by: int, witnessed_by: int) -> NoteBody:
    return {
        "text": "",
        "event": Event.MINUTES_AGREED_IN_PERSON,
        "minutes_id": minutes_id,
        "recorded_by": recorded_by,
        "witnessed_by": witnessed_by,
    }
