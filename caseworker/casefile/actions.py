"""Every POST on a case, as one table: which form it takes, which form of the case page
shows its errors, the domain step it runs, what the caseworker is told, and where the page
returns to. One function (:func:`perform`) validates, runs the step inside a savepoint (a
refusal leaves nothing behind) and redirects back to the case, so a reload never repeats
an action; on a refusal or a form error the case page is shown again with the form as
typed and the error next to its field.

The steps themselves, and their audit entries, are in ``cases.casework`` and
``cases.reporting.minutes``; nothing here decides a rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from cases.casework import holders as hd
from cases.casework import identity as ia
from cases.casework import organising, steps, writing
from cases.casework.access import CaseworkRefused
from cases.content import AttachmentUpload
from cases.keyring import Trust
from cases.models import Case, Caseworker
from cases.reporting import minutes as mn
from caseworker import web
from caseworker.casefile import forms as f
from caseworker.casefile.uploads import discard as discard_files
from caseworker.casefile.uploads import message_files
from caseworker.casefile.views import _back, _case, _render, bp


@dataclass(frozen=True)
class Acting:
    """The signed-in caseworker acting on one case in this request."""

    case: Case
    args: dict[str, Any] = field(default_factory=dict)  # the URL's other parts

    @property
    def db(self) -> Any:
        return web.db()

    @property
    def account(self) -> Caseworker:
        return web.account()

    @property
    def key(self) -> bytes:
        """The caseworker's private key, for the steps that unwrap a case key."""
        return web.private_key()

    @property
    def trust(self) -> Trust:
        return Trust.of(web.settings())


@dataclass(frozen=True)
class Action:
    path: str  # under /cases/<case_id>/
    form: Callable[[], FlaskForm]
    errors_in: str  # the form of the case page that shows this action's errors
    apply: Callable[[Acting, Any], object]  # (who acts on which case, the validated form)
    done: Any  # a lazy translated message
    anchor: str  # the section of the case page to return to


def perform(case_id: str, action: Action, **args: Any) -> Response | tuple[str, int]:
    case = _case(case_id)
    form = action.form()
    if not form.validate_on_submit():  # the page's error summary links to each field
        return _render(case, 400, action.anchor, **{action.errors_in: form})
    try:
        with web.db().begin_nested():
            action.apply(Acting(case, args), form)
    except CaseworkRefused as exc:
        discard_files(taken_too=True)  # what the refused step took was rolled back with it
        message = _(str(exc))
        form.form_errors.append(message)
        flash(message, "error")
        return _render(case, 400, action.anchor, **{action.errors_in: form})
    flash(str(action.done), "success")
    return _back(case, action.anchor)


def register(blueprint: Blueprint, actions: dict[str, Action]) -> None:
    """One POST route per action, its endpoint named after its key."""
    for endpoint, action in actions.items():

        def view(case_id: str, _action: Action = action, **args: Any) -> Any:
            return perform(case_id, _action, **args)

        blueprint.add_url_rule(
            f"/<case_id>/{action.path}", endpoint, view, methods=["POST"]
        )


def _files_taken() -> list[tuple[AttachmentUpload, str, str]]:
    """This request's files, for the step to attach; a limit broken refuses the step (nothing
    is kept: the page comes back with the text as typed)."""
    files = message_files()
    problems = files.problems()
    if problems:
        words = " ".join([*problems, _("Nothing was sent: choose the files again.")])
        raise CaseworkRefused(words)
    return files.named()


def _reply(a: Acting, form: f.ReplyForm) -> str:
    return writing.reply(
        a.db, a.case, a.account, a.key, form.text.data or "",
        gives_feedback=bool(form.feedback.data),
        acknowledging=web.store().policy(a.db).deadlines if form.acknowledges.data else None,
        files=_files_taken(),
    )


def _number(value: str | None) -> int:
    return int(value) if value and value.isdigit() else -1


WORKFLOW = {
    "acknowledge": Action(
        "acknowledge", f.AcknowledgeForm, "acknowledge_form",
        lambda a, form: steps.acknowledge_case(
            a.db, web.store().policy(a.db).deadlines, a.case, a.account, a.key,
            form.message.data or "",
        ),
        _l("The report is acknowledged."), "acknowledge",
    ),
    "triage": Action(
        "triage", f.TriageForm, "triage_form",
        lambda a, form: steps.record_triage(
            a.db, a.case, a.account, a.key,
            scope=form.scope.data or "",
            priority=int(form.priority.data or 0),
            completeness=form.completeness.data or "",
            notes=form.notes.data or "",
        ),
        _l("The triage is recorded."), "workflow",
    ),
    "risk": Action(
        "risk", f.RiskForm, "risk_form",
        lambda a, form: steps.record_risk(
            a.db, a.case, a.account, a.key,
            likelihood=form.likelihood.data or "",
            impact=form.impact.data or "",
            measures=form.measures.data or "",
            review_on=form.review_on.data,
        ),
        _l("The risk assessment is recorded."), "workflow",
    ),
    "investigate": Action(
        "investigate", f.PlainForm, "plain_form",
        lambda a, form: steps.start_investigation(a.db, a.case, a.account),
        _l("The investigation has started."), "workflow",
    ),
    "conclude": Action(
        "conclude", f.ConcludeForm, "conclude_form",
        lambda a, form: steps.conclude(
            a.db, a.case, a.account, a.key,
            outcome=form.outcome.data or "",
            protection=form.protection.data or "",
            protection_measures=form.protection_measures.data or "",
            summary=form.summary.data or "",
            feedback=form.feedback.data or "",
        ),
        _l("The case is concluded."), "workflow",
    ),
    "close": Action(
        "close", f.PlainForm, "plain_form",
        lambda a, form: steps.close_case(a.db, a.case, a.account),
        _l("The case is closed."), "workflow",
    ),
    "reopen": Action(
        "reopen", f.ReasonForm, "reopen_form",
        lambda a, form: steps.reopen(a.db, a.case, a.account, a.key, form.reason.data or ""),
        _l("The case is reopened."), "workflow",
    ),
    "review_closure": Action(
        "review-closure", f.PlainForm, "plain_form",
        lambda a, form: hd.review_closure(a.db, a.case, a.account),
        _l("The closure is reviewed: the case is deleted when its retention period ends."),
        "workflow",
    ),
}

ORGANISATION = {
    "legal_hold": Action(
        "legal-hold", f.LegalHoldForm, "hold_form",
        lambda a, form: steps.set_legal_hold(a.db, a.case, a.account, form.reason.data or ""),
        _l("The case is on legal hold: it will not be deleted."), "organisation",
    ),
    "release_hold": Action(
        "legal-hold/release", f.PlainForm, "plain_form",
        lambda a, form: steps.release_legal_hold(a.db, a.case, a.account),
        _l("The legal hold is released."), "organisation",
    ),
    "link": Action(
        "link", f.LinkForm, "link_form",
        lambda a, form: organising.link_cases(a.db, a.case, form.other.data or "", a.account),
        _l("The cases are linked."), "organisation",
    ),
    "unlink": Action(
        "unlink", f.UnlinkForm, "plain_form",
        lambda a, form: organising.unlink_cases(a.db, a.case, form.other.data or "", a.account),
        _l("The link is removed."), "organisation",
    ),
    "assign": Action(
        "assign", f.AssignForm, "assign_form",
        lambda a, form: organising.assign(
            a.db, a.case, a.account,
            int(form.assignee.data) if (form.assignee.data or "").isdigit() else None,
        ),
        _l("The assignment is saved."), "organisation",
    ),
    "add_label": Action(
        "labels", f.LabelForm, "label_form",
        lambda a, form: organising.add_label(a.db, a.case, a.account, form.label.data or ""),
        _l("The label is added."), "organisation",
    ),
    "remove_label": Action(
        "labels/remove", f.RemoveLabelForm, "plain_form",
        lambda a, form: organising.remove_label(a.db, a.case, a.account, form.label.data or ""),
        _l("The label is removed."), "organisation",
    ),
}

WRITING = {
    "note": Action(
        "notes", f.NoteForm, "note_form",
        lambda a, form: writing.add_note(a.db, a.case, a.account, a.key, form.text.data or "",
                                         files=_files_taken()),
        _l("The note is saved. Only caseworkers with access can read it."), "internal",
    ),
    "reply": Action(
        "reply", f.ReplyForm, "reply_form", lambda a, form: _reply(a, form),
        _l("Your message is in the reporter's mailbox."), "thread",
    ),
    "minutes": Action(
        "minutes", f.MinutesForm, "minutes_form",
        lambda a, form: writing.revise_minutes(
            a.db, a.case, a.account, a.key, form.text.data or ""
        ),
        _l("The revised minutes are in the reporter's mailbox for agreement."), "thread",
    ),
    "record_in_person": Action(
        "minutes/in-person", f.PlainForm, "plain_form",
        lambda a, form: mn.record_in_person_agreement(a.db, a.case, a.account),
        _l("Recorded: the agreement counts when a second caseworker witnesses it."), "report",
    ),
    "witness_in_person": Action(
        "minutes/in-person/witness", f.PlainForm, "plain_form",
        lambda a, form: mn.witness_in_person_agreement(a.db, a.case, a.account, a.key),
        _l("Witnessed: the minutes are agreed in person."), "report",
    ),
    "withdraw_in_person": Action(
        "minutes/in-person/withdraw", f.PlainForm, "plain_form",
        lambda a, form: mn.withdraw_in_person_agreement(a.db, a.case, a.account),
        _l("The agreement in person is withdrawn."), "report",
    ),
}

ACCESS = {
    "grant": Action(
        "grant", f.GrantForm, "grant_form",
        lambda a, form: hd.grant(
            a.db, web.settings(), a.case, a.account, a.key, _number(form.caseworker.data),
            override_exclusion=bool(form.override.data),
            override_reason=form.override_reason.data or "",
        ),
        _l("Access granted: the case keys are now wrapped to this caseworker."), "access",
    ),
    "revoke": Action(
        "revoke", f.RevokeForm, "plain_form",
        lambda a, form: hd.request_removal(a.db, a.case, a.account, _number(form.caseworker.data)),
        _l(
            "Removal asked for: it applies when another caseworker on the case, or the one "
            "to be removed, agrees."
        ),
        "access",
    ),
    "agree_to_removal": Action(
        "removals/<int:removal_id>/agree", f.PlainForm, "plain_form",
        lambda a, form: hd.agree_to_removal(
            a.db, web.settings(), a.case, a.account, a.args["removal_id"]
        ),
        _l("Access removed: that caseworker's keys to the case are deleted, and they are told."),
        "access",
    ),
    "refuse_removal": Action(
        "removals/<int:removal_id>/refuse", f.PlainForm, "plain_form",
        lambda a, form: hd.refuse_removal(a.db, a.case, a.account, a.args["removal_id"]),
        _l("The request is closed: nobody's access changed."), "access",
    ),
    "request_identity": Action(
        "identity/request", f.IdentityRequestForm, "identity_form",
        lambda a, form: ia.request_identity(
            a.db, web.settings(), a.case, a.account, form.reason.data or ""
        ),
        _l("Your request is with the identity custodians."), "identity",
    ),
}

for _table in (WORKFLOW, ORGANISATION, WRITING, ACCESS):
    register(bp, _table)
