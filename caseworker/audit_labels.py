"""The audit log in words people read: a name for every action the code records, and each
entry's details as labelled values with account ids shown as names.

``tests/caseworker/test_cw_audit_page.py`` finds every action recorded anywhere in the code
and checks it has its name here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

ACTION_LABELS: dict[str, LazyString] = {
    "admin.change_approved": _l("Approved an administrator's change"),
    "admin.change_requested": _l("Asked for an administrator's change"),
    "attachment.downloaded": _l("Downloaded a file"),
    "audit.viewed": _l("Looked at the audit log"),
    "case.access_denied": _l("Tried to open a case without access"),
    "case.access_granted": _l("Gave a colleague access to a case"),
    "case.access_revoked": _l("Took a colleague's access away"),
    "case.assigned": _l("Assigned a case"),
    "case.closure_reviewed": _l("Reviewed a closure"),
    "case.conflict_declared": _l("Stepped away from a case (conflict of interest)"),
    "case.exported": _l("Exported a case"),
    "case.exported_pdf": _l("Exported the case as a PDF"),
    "case.handed_over": _l("Handed a case over"),
    "case.label_added": _l("Added a label"),
    "case.label_removed": _l("Removed a label"),
    "case.legal_hold_released": _l("Released a legal hold"),
    "case.legal_hold_set": _l("Put a case on legal hold"),
    "case.linked": _l("Linked two cases"),
    "case.minutes_in_person_recorded": _l("Recorded minutes agreed in person"),
    "case.minutes_in_person_withdrawn": _l("Withdrew minutes agreed in person"),
    "case.minutes_in_person_witnessed": _l("Witnessed minutes agreed in person"),
    "case.minutes_revised": _l("Sent revised minutes"),
    "case.note_added": _l("Wrote an internal note"),
    "case.oral_report_recorded": _l("Recorded an oral report"),
    "case.purged": _l("Deleted a case at the end of its retention"),
    "case.removal_refused": _l("Refused a colleague's removal"),
    "case.removal_requested": _l("Asked to remove a colleague from a case"),
    "case.removal_withdrawn": _l("Withdrew a removal request"),
    "case.replied": _l("Wrote to the reporter"),
    "case.reply_file_attached": _l("Attached a file to a message to the reporter"),
    "case.note_file_attached": _l("Attached a file to an internal note"),
    "case.risk_assessed": _l("Assessed the risk of retaliation"),
    "case.status_changed": _l("Changed a case's status"),
    "case.triaged": _l("Recorded the triage"),
    "case.unlinked": _l("Removed a link between cases"),
    "case.viewed": _l("Opened a case"),
    "cases.left_unheld": _l("Cases were left with no holder"),
    "caseworker.created": _l("Created an account"),
    "caseworker.credentials_reset": _l("Reset an account's credentials"),
    "caseworker.disabled": _l("Disabled an account"),
    "caseworker.enrolled": _l("Finished enrolment"),
    "caseworker.key_certified": _l("Certified an account's key"),
    "caseworker.language_changed": _l("Changed their language"),
    "caseworker.notices_changed": _l("Changed their notices"),
    "caseworker.passphrase_change_refused": _l("Gave a wrong passphrase to change it"),
    "caseworker.passphrase_changed": _l("Changed their passphrase"),
    "caseworker.profile_changed": _l("Changed an account's profile"),
    "caseworker.recovery_codes_refused": _l("Gave a wrong passphrase for new recovery codes"),
    "caseworker.recovery_codes_renewed": _l("Renewed their recovery codes"),
    "caseworker.roles_changed": _l("Changed an account's roles"),
    "caseworker.second_factor_enrolled": _l("Set up their second factor"),
    "caseworker.security_key_added": _l("Added a security key"),
    "caseworker.security_key_removed": _l("Removed a security key"),
    "caseworker.second_factor_reset": _l("Reset a second factor"),
    "caseworker.second_factor_reset_refused": _l("Gave a wrong passphrase to reset 2FA"),
    "caseworker.unlocked": _l("Unlocked an account"),
    "category.members_set": _l("Changed who receives a category"),
    "category.saved": _l("Saved a category"),
    "category.translated": _l("Gave a category in another language"),
    "content.sealed": _l("Sealed a case's content chain (nightly)"),
    "dashboard.viewed": _l("Looked at the dashboard"),
    "identity.approved": _l("Approved an identity request"),
    "identity.denied": _l("Denied an identity request"),
    "identity.requested": _l("Asked for the reporter's identity"),
    "identity.viewed": _l("Read the reporter's identity"),
    "inbox.previewed": _l("Saw report previews in the inbox"),
    "inbox.searched": _l("Searched the content of their cases"),
    "indicators.exported": _l("Exported the indicators"),
    "login.failed": _l("Failed to sign in"),
    "login.key_unwrap_failed": _l("Signed in but their key did not open"),
    "login.passphrase_accepted": _l("Gave the right passphrase"),
    "login.recovery_code_used": _l("Signed in with a recovery code"),
    "login.refused_locked": _l("Was refused: the account is locked"),
    "login.second_factor_failed": _l("Gave a wrong second-factor code"),
    "login.succeeded": _l("Signed in"),
    "maintenance.failed": _l("Nightly maintenance failed"),
    "policy.changed": _l("Changed the policy"),
    "question.saved": _l("Saved a question"),
    "question.translated": _l("Gave a question in another language"),
    "reply_template.saved": _l("Saved a reply template"),
    "recovery.access_granted": _l("Gave access with the recovery key"),
    "recovery.copies_adopted": _l("Adopted recovery copies"),
    "recovery.key_rotated": _l("Replaced the recovery key"),
}

# Entries people rarely need when tracing who did what: the audit page can leave them out.
VIEWS = ("case.viewed", "inbox.previewed", "inbox.searched", "audit.viewed", "dashboard.viewed")

# Detail fields that hold an account id: shown as that account's name.
PERSON_FIELDS = frozenset({
    "assignee_id", "author_id", "caseworker_id", "grantee_id", "requested_by_id",
    "requester_id", "successor_id", "target_id",
})


def action_label(action: str) -> str:
    """The action's name, or its code when this version has no name for it."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def describe(detail: str, names: Mapping[int, str]) -> list[tuple[str, str]]:
    """An entry's details as (field, value) pairs, account ids as names."""
    try:
        values: Any = json.loads(detail or "{}")
    except ValueError:
        return [("detail", detail)]
    if not isinstance(values, dict):
        return [("detail", str(values))]
    return [(_field(key), _value(key, value, names)) for key, value in values.items()]


def _field(key: str) -> str:
    return key.removesuffix("_id").replace("_", " ")


def _value(key: str, value: Any, names: Mapping[int, str]) -> str:
    if key in PERSON_FIELDS and isinstance(value, int):
        return names.get(value, f"#{value}")
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)
