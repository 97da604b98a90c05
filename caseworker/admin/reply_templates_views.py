"""Reply templates (the rule: cases.casework.reply_templates): the list with a form for a
new one, and a page per template to change it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from cases.accounts.administration import AdminRefused
from cases.casework.access import CaseworkRefused
from cases.casework.reply_templates import all_templates, save_template
from cases.models import ReplyTemplate
from caseworker import web
from caseworker.admin import forms as f
from caseworker.admin.views import bp
from caseworker.choices import options
from config.languages import NATIVE_NAMES


def _form(item: ReplyTemplate | None = None) -> f.ReplyTemplateForm:
    form = f.ReplyTemplateForm(obj=item)
    languages = web.settings().languages
    form.language.choices = options((code, NATIVE_NAMES.get(code, code)) for code in languages)
    return form


def _saved(item: ReplyTemplate | None, form: f.ReplyTemplateForm) -> bool:
    """Save from the form; on refusal put the reason on the form and say no."""
    try:
        with web.db().begin_nested():
            save_template(
                web.db(), item, languages=web.settings().languages,
                title=form.title.data or "", language=form.language.data or "",
                purpose=form.purpose.data or "", body=form.body.data or "",
                position=form.position.data or 0, active=bool(form.active.data),
                actor_id=web.account().id,
            )
    except (AdminRefused, CaseworkRefused) as exc:
        form.form_errors.append(_(str(exc)))
        return False
    flash(_("The template is saved."), "success")
    return True


@bp.route("/reply-templates", methods=["GET", "POST"])
def reply_templates() -> str | Response | tuple[str, int]:
    form = _form()
    if form.validate_on_submit() and _saved(None, form):
        return redirect(url_for("admin.reply_templates"))
    status = 400 if form.is_submitted() else 200
    rows = all_templates(web.db())
    return render_template(
        "admin/reply_templates.html", rows=rows, form=form, names=NATIVE_NAMES
    ), status


@bp.route("/reply-templates/<int:template_id>", methods=["GET", "POST"])
def reply_template(template_id: int) -> str | Response | tuple[str, int]:
    item = web.db().get(ReplyTemplate, template_id)
    if item is None:
        abort(404)
    form = _form(item)
    if form.validate_on_submit() and _saved(item, form):
        return redirect(url_for("admin.reply_templates"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/reply_template.html", item=item, form=form), status
