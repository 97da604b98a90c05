"""A category's or a question's texts in each of the reporters' other languages (the rule:
cases.accounts.translations). One form per language, each under its language's prefix;
a form sent saves that language only."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from cases.accounts.administration import AdminRefused
from cases.accounts.translations import save_category_texts, save_question_texts
from cases.localized import translations_of
from cases.models import Category, Question
from caseworker import web
from caseworker.admin import forms as f
from caseworker.admin.views import bp


def other_languages() -> tuple[str, ...]:
    """The reporters' languages but the default one, in which the item itself is written."""
    s = web.settings()
    return tuple(code for code in s.languages if code != s.default_language)


def _forms(item: Category | Question, form_class: type[FlaskForm]) -> dict[str, FlaskForm]:
    """A form per language, filled with what is saved (the one sent: as it was typed)."""
    saved = translations_of(item.translations)
    sent = request.form.get("language", "") if request.method == "POST" else ""
    return {
        code: form_class(prefix=code) if code == sent
        else form_class(formdata=None, prefix=code, data=saved.get(code, {}))
        for code in other_languages()
    }


def _page(item: Category | Question, kind: str, form_class: type[FlaskForm],
          back: str) -> str | Response | tuple[str, int]:
    forms = _forms(item, form_class)
    if request.method == "GET":
        return render_template("admin/texts.html", item=item, kind=kind, forms=forms,
                               back=back)
    sent = request.form.get("language", "")
    form = forms.get(sent)
    if form is None:
        abort(400)
    if form.validate_on_submit():
        try:
            with web.db().begin_nested():
                _save(item, sent, form)
        except AdminRefused as exc:
            form.form_errors.append(_(str(exc)))
        else:
            flash(_("The texts are saved."), "success")
            return redirect(request.path + f"#texts-{sent}")
    return render_template("admin/texts.html", item=item, kind=kind, forms=forms,
                           back=back), 400


def _save(item: Category | Question, language: str, form: FlaskForm) -> None:
    actor_id = web.account().id
    data = {name: (field.data or "") for name, field in form._fields.items()
            if name != "csrf_token"}
    if isinstance(item, Category):
        save_category_texts(web.db(), item, language, languages=other_languages(),
                            name=data["name"], description=data["description"],
                            actor_id=actor_id)
    else:
        save_question_texts(web.db(), item, language, languages=other_languages(),
                            label=data["label"], help_text=data["help_text"],
                            choices=data["choices"], actor_id=actor_id)


@bp.route("/categories/<int:category_id>/languages", methods=["GET", "POST"])
def category_texts(category_id: int) -> str | Response | tuple[str, int]:
    item = web.db().get(Category, category_id)
    if item is None:
        abort(404)
    back = url_for("admin.category", category_id=item.id)
    return _page(item, "category", f.CategoryTextsForm, back)


@bp.route("/questions/<int:question_id>/languages", methods=["GET", "POST"])
def question_texts(question_id: int) -> str | Response | tuple[str, int]:
    item = web.db().get(Question, question_id)
    if item is None:
        abort(404)
    back = url_for("admin.question", question_id=item.id)
    return _page(item, "question", f.QuestionTextsForm, back)
