"""The landing page: what this channel is, how anonymity works and its limits, deadlines,
external reporting, and the two ways in."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale

from intake.limits import via_onion
from intake.work import db, settings, store

bp = Blueprint("main", __name__)


def external_authorities() -> list[tuple[str, str]]:
    """(name, URL or contact) of each configured authority ("Name | URL or contact"), as
    given for the page's language, else as given for all."""
    instance = settings()
    entries = (instance.external_authorities_in.get(str(get_locale() or ""))
               or instance.external_authorities)
    pairs = [entry.partition("|") for entry in entries]
    return [(name.strip(), contact.strip()) for name, _bar, contact in pairs]


@bp.get("/")
def index() -> str:
    policy = store().policy(db())
    return render_template(
        "main/index.html",
        onion=via_onion(),
        policy=policy,
        authorities=external_authorities(),
    )
