"""Reply templates: texts an administrator writes, each in one of the reporters' languages,
that a caseworker starts a message to the reporter from (an acknowledgement, the usual
requests for information). A template is only a starting point: the caseworker edits it
in the reply box and nothing is sent without them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.accounts.administration import AdminRefused
from cases.casework.access import clean_text
from cases.models import ReplyTemplate
from cases.records.audit import record

PURPOSES = ("acknowledgement", "request", "feedback", "other")


def save_template(
    db: Session,
    template: ReplyTemplate | None,
    *,
    languages: tuple[str, ...],
    title: str,
    language: str,
    purpose: str,
    body: str,
    position: int,
    active: bool,
    actor_id: int,
) -> ReplyTemplate:
    """Create (``template`` None) or change a template; AdminRefused with the reason."""
    if language not in languages:
        raise AdminRefused("Choose one of the reporters' languages.")
    if purpose not in PURPOSES:
        raise AdminRefused("Choose what the template is for.")
    if not title.strip() or not body.strip():
        raise AdminRefused("A template needs a title and a text.")
    if template is None:
        template = ReplyTemplate()
        db.add(template)
    template.title = " ".join(title.split())
    template.language = language
    template.purpose = purpose
    template.body = clean_text(body)
    template.position = position
    template.active = active
    db.flush()
    record(db, "reply_template.saved", actor_id=actor_id, template_id=template.id,
           language=language, active=active)
    return template


def templates_for(db: Session, language: str) -> list[ReplyTemplate]:
    """The active templates, those in the reporter's language first, then by position."""
    rows = db.scalars(
        select(ReplyTemplate)
        .where(ReplyTemplate.active)
        .order_by(ReplyTemplate.position, ReplyTemplate.title)
    )
    return sorted(rows, key=lambda t: t.language != language)  # stable: keeps the order


def all_templates(db: Session) -> list[ReplyTemplate]:
    return list(db.scalars(
        select(ReplyTemplate).order_by(ReplyTemplate.language, ReplyTemplate.position,
                                       ReplyTemplate.title)
    ))
