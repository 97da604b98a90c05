"""The optional automatic acknowledgement of receipt (policy ``auto_acknowledge``).

When the administrator switches it on, every new report gets a message in the reporter's
mailbox at once, saying it was received. It is *not* a human acknowledgement: the case
stays ``received`` and is flagged when no person acknowledges it by its deadline
(``cases.casework.workflow.no_human_acknowledgement``). No audit entry is written: it would record
the time of day the reporter submitted.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from cases.bodies import Event, ThreadBody, thread_event
from cases.content import add_message
from cases.models import Message, MessageKind

# The reporter's app shows its own translation for the event; this English text is the
# fallback and what the caseworkers see.
AUTO_ACK_TEXT = (
    "Your report has been received. This is an automatic acknowledgement: a caseworker "
    "will read your report and reply in this mailbox."
)


def automatic_acknowledgement() -> ThreadBody:
    """The acknowledgement's body: sealed here, or in the reporter's browser from the
    bytes the intake gives it (cases.reporting.sealed), so the server knows its size."""
    return thread_event(Event.AUTOMATIC_ACKNOWLEDGEMENT, AUTO_ACK_TEXT)


def send_automatic_acknowledgement(
    session: Session, case_id: str, thread_key: bytes, on: dt.date
) -> Message:
    return add_message(
        session, case_id, MessageKind.REPLY, thread_key, automatic_acknowledgement(), on=on
    )
