"""The landing page: what this channel is, how anonymity works and its limits, deadlines,
external reporting, and the two ways in."""

from __future__ import annotations

from flask import Blueprint, render_template

from intake.limits import via_onion
from intake.work import db, store

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> str:
    policy = store().policy(db())
    return render_template("main/index.html", onion=via_onion(), policy=policy)
