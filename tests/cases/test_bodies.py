"""Message bodies and events are defined once (cases/bodies.py); writers and readers use
that definition."""

from __future__ import annotations

import re
from pathlib import Path

from cases import bodies
from cases.bodies import Event
from cases.content import add_message
from cases.models import MessageKind
from cases.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _events_in(template: Path) -> set[Event]:
    return {Event[name] for name in re.findall(r"events\.([A-Z_]+)", template.read_text())}


def test_every_event_is_shown_to_caseworkers_in_the_thread_or_on_the_case_page() -> None:
    shown = _events_in(ROOT / "caseworker/templates/macros/messages.html")
    # The in-person agreement is an internal note the case page lays out by itself
    # (cases.reporting.minutes.agreed_in_person).
    assert shown | {Event.MINUTES_AGREED_IN_PERSON} == set(Event)


def test_no_template_or_module_writes_an_event_name_of_its_own() -> None:
    """As in `"event": "reopened"` or `b.get("event") == "reopened"`, outside cases/bodies.py."""
    names = "|".join(e.value for e in Event)
    found = [
        f"{path.relative_to(ROOT)}: {match}"
        for folder in ("cases", "intake", "caseworker")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in (".py", ".html") and path.name != "bodies.py"
        for match in re.findall(
            rf"""event["']\)?\s*(?:==|:)\s*["']({names})["']""", path.read_text()
        )
    ]
    assert found == []


def test_an_event_reads_back_as_the_same_event(any_store: Store) -> None:
    """Stored as its plain string value in the JSON, it compares equal to the member."""
    from cases.reporting.followup import find_case, reporter_view
    from cases.reporting.submission import Submission, new_submission

    with new_submission(any_store) as draft:
        receipt = draft.finalize(Submission(report=bodies.report("the tender was rigged", [])))
        add_message(
            draft.session, draft.case_id, MessageKind.REPORTER_MESSAGE, draft.keys.thread,
            bodies.thread_event(Event.MINUTES_AGREED, minutes_id="m-1"),
        )
    with any_store.transaction() as session:
        case, keys = find_case(session, any_store.settings, receipt)
        assert case is not None
        thread = reporter_view(session, case, keys.private_key).messages
    assert [m.body for m in thread] == [
        {"text": "the tender was rigged", "answers": []},
        {"text": "", "event": "minutes_agreed", "minutes_id": "m-1"},
    ]
    assert thread[1].body["event"] is not Event.MINUTES_AGREED  # a str from JSON...
    assert thread[1].body["event"] == Event.MINUTES_AGREED  # ...equal to the member
