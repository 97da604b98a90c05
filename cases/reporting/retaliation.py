"""Retaliation reports: a new case linked to the original, under the same receipt.

Retaliation is a matter of its own (ISO 37002 8.4.3, UNCAC art. 33): it gets its own
acknowledgement and feedback deadlines and its own status, and it must not vanish when the
original case is closed and later purged. So it is a new case, not a message:

* linked to the original both ways (``Case.linked_case_id`` and a ``CaseLink`` row), and
  labelled ``retaliation`` so the inbox can put it first;
* readable by the caseworkers who hold the original case (they know the context), minus
  everyone excluded from it (the exclusions are copied), and by the recovery key;
* its thread key wrapped to the *same* reporter public key, under the same look-up hash:
  the reporter's one receipt opens both (no second receipt exists to lose), and still
  opens the retaliation case once the original is purged.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import bodies
from cases.bodies import ReportBody
from cases.keyring import Trust, holders
from cases.models import (
    Case,
    CaseExclusion,
    CaseLabel,
    CaseLink,
    Caseworker,
    KeyPurpose,
    MessageKind,
    new_id,
    public_accounts,
    today,
)
from cases.reporting.followup import touch
from cases.reporting.submission import CaseRow, Opening, open_case, routed_caseworkers
from cases.store import Policy
from crypto import new_case_keys

LABEL = "retaliation"


def report_retaliation(
    session: Session,
    original: Case,
    reporter_public_key: bytes,
    body: ReportBody,
    policy: Policy,
    trust: Trust,
    on: dt.date | None = None,
) -> Case:
    """Open the linked case and store the reporter's account in it; the caller commits.

    The reporter writes it in the web follow-up, so its channel is ``web`` even when the
    original was an oral report (it has no minutes to agree and no receipt to take over)."""
    on = on or today()
    if original.reporter_public_key != reporter_public_key:
        raise ValueError("only the original reporter can report retaliation on a case")
    excluded = frozenset(
        session.scalars(
            select(CaseExclusion.caseworker_id).where(CaseExclusion.case_id == original.id)
        )
    )
    opening = Opening(
        CaseRow(
            case_id=new_id(),
            lookup_hash=original.lookup_hash,
            reporter_public_key=reporter_public_key,
            category_id=original.category_id,
            channel="web",
            excluded=excluded,
            linked_case_id=original.id,
        ),
        keys=new_case_keys(),
        kind=MessageKind.REPORT,
        body=bodies.report(body["text"], body.get("answers", []), retaliation=True),
    )
    case, _ = open_case(
        session, opening, retaliation_recipients(session, original, excluded), policy, trust,
        on,
    )
    link_retaliation(session, original, case, on)
    session.flush()
    return case


def link_retaliation(session: Session, original: Case, case: Case, on: dt.date) -> None:
    """Label the new case and link it to the original both ways (a report sealed on the
    server or in the browser: cases.reporting.sealed_followup)."""
    session.add(CaseLabel(case_id=case.id, label=LABEL))
    first, second = sorted((original.id, case.id))
    session.add(CaseLink(case_id=first, other_case_id=second, created_on=on))
    touch(original, on)


def retaliation_recipients(
    session: Session, original: Case, excluded: frozenset[int]
) -> list[Caseworker]:
    """The original's active holders, or, when none is left, whoever a new report in its
    category would reach."""
    holder_ids = holders(session, original.id, KeyPurpose.THREAD) - excluded
    if holder_ids:
        found = list(
            session.scalars(
                public_accounts().where(Caseworker.id.in_(holder_ids), Caseworker.active)
            )
        )
        if found:
            return found
    return routed_caseworkers(session, original.category_id, excluded)
