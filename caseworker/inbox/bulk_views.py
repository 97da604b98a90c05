"""One step on the cases ticked in the inbox (the rule: cases.casework.bulk). Each case
refused is named with its reason; the others are done."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from cases.casework.access import CaseworkRefused
from cases.casework.bulk import BulkAction, BulkStep, apply_to_cases
from caseworker import web
from caseworker.inbox.forms import BulkForm
from caseworker.inbox.views import bp


@bp.route("/bulk", methods=["POST"])
def bulk() -> Response:
    form = BulkForm()
    back = redirect(_back_to())
    if not form.validate():
        flash(_("The form has expired or is incomplete: nothing was changed."), "error")
        return back
    colleague = form.colleague.data or ""
    step = BulkStep(
        BulkAction(form.action.data),
        colleague_id=int(colleague) if colleague.isdigit() else None,
        label=form.label.data or "",
    )
    db = web.db()
    try:
        result = apply_to_cases(
            db, web.settings(), web.account(), web.private_key(), form.case.data or [], step
        )
    except CaseworkRefused as exc:
        flash(_(str(exc)), "error")
        return back
    if result.done:
        flash(ngettext("Done for %(num)d case.", "Done for %(num)d cases.", len(result.done)),
              "success")
    for case_id, reason in result.refused.items():
        flash(_("Case %(case)s: %(reason)s", case=case_id, reason=_(reason)), "error")
    return back


def _back_to() -> str:
    """The inbox page the form was sent from, with its filters (a local path only)."""
    page = request.form.get("bulk-back", "")
    local = page.startswith("/") and not page.startswith("//") and "\\" not in page
    return page if local else url_for("inbox.index")
