"""One step on many cases: assign them, label them, or grant them to a colleague.

Each case goes through the same rule as on its own page (``organising``, ``holders``),
in a savepoint of its own, so a case that refuses (the colleague is excluded from it, the
assignee holds no key) is listed with its reason and leaves nothing behind, while the
others are done. Each step writes its own audit entry, as it does from the case page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.orm import Session

from cases.casework import holders, organising
from cases.casework.access import CaseworkRefused, case_for
from cases.keyring import NoAccess
from cases.models import Case, Caseworker
from config import Settings

MAX_CASES = 100  # two pages of the inbox


class BulkAction(StrEnum):
    ASSIGN = "assign"
    LABEL = "label"
    GRANT = "grant"


@dataclass(frozen=True)
class BulkStep:
    action: BulkAction
    colleague_id: int | None = None  # whom to assign or grant to
    label: str = ""


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # case id -> the refusal (English)


def apply_to_cases(
    db: Session,
    settings: Settings,
    actor: Caseworker,
    private_key: bytes,
    case_ids: list[str],
    step: BulkStep,
) -> BulkResult:
    """Apply ``step`` to each case the actor holds; a case they do not hold is refused
    as "not found", exactly as its page would answer."""
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        raise CaseworkRefused("Select at least one case.")
    if len(ids) > MAX_CASES:
        raise CaseworkRefused("Select at most 100 cases at a time.")
    run = _runner(db, settings, actor, private_key, step)
    result = BulkResult()
    for case_id in ids:
        try:
            with db.begin_nested():
                run(case_for(db, case_id, actor))
        except NoAccess:
            result.refused[case_id] = "No case with that reference that you have access to."
        except CaseworkRefused as exc:
            result.refused[case_id] = str(exc)
        else:
            result.done.append(case_id)
    return result


def _runner(
    db: Session, settings: Settings, actor: Caseworker, private_key: bytes, step: BulkStep
) -> Callable[[Case], None]:
    if step.action is BulkAction.LABEL:
        label = organising.normalize_label(step.label)  # refused once, not once per case
        return lambda case: organising.add_label(db, case, actor, label)
    if step.colleague_id is None:
        raise CaseworkRefused("Choose a colleague.")
    colleague = step.colleague_id
    if step.action is BulkAction.ASSIGN:
        return lambda case: organising.assign(db, case, actor, colleague)
    return lambda case: holders.grant(db, settings, case, actor, private_key, colleague)
