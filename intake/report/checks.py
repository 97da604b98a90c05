"""The review page's check of what could identify the reporter: each text they wrote (the
account, then each free-text answer) cut where something could point to them
(cases.reporting.identifying), with the instance's site names and the caseworkers'
display names. Computed while the page is built, never stored."""

from __future__ import annotations

from flask_babel import gettext as _

from cases.reporting import identifying
from intake.report.forms import ReportForm
from intake.work import settings

Segments = list[tuple[str, str | None]]


def identifying_texts(form: ReportForm) -> list[tuple[str, Segments]]:
    """(label, segments) for each text with a finding."""
    instance = settings()
    people = [cw.display_name for cw in form.options.caseworkers if cw.display_name]
    texts = [(str(form.description.label.text), form.description.data or "")]
    texts += [(str(fld.label.text), str(fld.data)) for spec, fld in form.question_fields()
              if fld.data and spec.kind != "choice"]
    out = []
    for label, text in texts:
        found = identifying.find_identifying(
            text, places=instance.identifying_names, people=people,
            region=instance.phone_region or None,
        )
        if found:
            out.append((label, identifying.segments(text, found)))
    return out


def reasons() -> dict[str, str]:
    """Why each kind of finding could identify the reporter, in their language."""
    return {
        identifying.EMAIL: _("an e-mail address"),
        identifying.PHONE: _("a phone number"),
        identifying.ACCOUNT: _("a bank account number"),
        identifying.NUMBER: _("a long number, such as an ID card, staff or account number"),
        identifying.PLACE: _("the name of one of our sites or units"),
        identifying.PERSON: _("the name of one of our staff"),
    }
