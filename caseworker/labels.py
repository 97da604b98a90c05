"""The words the back office shows for the domain's codes (statuses, priorities, outcomes,
levels, protection decisions, how an oral report was made), shared by every blueprint and
the templates. The codes themselves are defined in cases/."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "received": _l("Received"),
    "acknowledged": _l("Acknowledged"),
    "triaged": _l("Triaged"),
    "investigating": _l("Investigating"),
    "concluded": _l("Concluded"),
    "closed": _l("Closed"),
}
PRIORITY_LABELS = {0: _l("Not set"), 1: _l("Low"), 2: _l("Medium"), 3: _l("High")}
# Which deadline is next (cases.casework.workflow.next_deadline).
KIND_LABELS = {  # where a search found its words
    "report": _l("In the report"),
    "reporter_message": _l("In a message from the reporter"),
    "reply": _l("In a reply to the reporter"),
    "minutes": _l("In the minutes"),
    "note": _l("In an internal note"),
    "triage": _l("In the triage"),
    "risk": _l("In the risk assessment"),
    "conclusion": _l("In the conclusion"),
}
DEADLINE_LABELS = {"acknowledgement": _l("Acknowledgement"), "feedback": _l("Feedback")}
COMPLETENESS_LABELS = {
    "complete": _l("Complete: enough to act on"),
    "partial": _l("Partial: more information needed"),
    "insufficient": _l("Insufficient: cannot be acted on as it stands"),
}
LEVEL_LABELS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}
OUTCOME_LABELS = {
    "substantiated": _l("Substantiated"),
    "partly_substantiated": _l("Partly substantiated"),
    "not_substantiated": _l("Not substantiated"),
    "referred": _l("Referred to a competent authority"),
    "outside_scope": _l("Outside the scope of this channel"),
    "insufficient_information": _l("Closed for lack of information"),
    "withdrawn": _l("Withdrawn by the reporter"),
}
PROTECTION_LABELS = {
    "continue": _l("Continue protective measures"),
    "end": _l("End protective measures"),
    "not_needed": _l("No protective measures needed"),
}
MEDIUM_LABELS = {
    "phone": _l("Telephone call"),
    "meeting": _l("Meeting in person"),
    "voice_message": _l("Voice message"),
    "other": _l("Other"),
}
