"""What the case page tells a caseworker about each file's hidden information: what was
removed on intake, or why it was not (the cleaning itself: cases.attachments.cleaning)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from cases.attachments.cleaning import outcome
from cases.attachments.cleaning_words import removed_words


def cleaning_note(report: dict[str, Any]) -> str:
    """One sentence for the file, or "" for a file stored before files were reported on."""
    what, removed = outcome(report)
    if what == "removed":
        words = [_(word) for word in removed_words(removed)]
        return str(_("Hidden information removed: %(what)s.", what=", ".join(words)))
    notes = {  # built per call: the words follow the request's language
        "kept": _("Kept as sent: the reporter chose to keep its hidden information."),
        "none_found": _("No hidden information was found in it."),
        "too_large": _(
            "Not cleaned: too large to clean on intake. It may identify the reporter: clean "
            "it offline before sharing it."
        ),
        "unreadable": _(
            "Not cleaned: its structure could not be read (damaged or hostile). Open it only "
            "on a computer set aside for untrusted files."
        ),
        "unsupported": _(
            "Not cleaned: this kind of file is stored as sent. It may hold the reporter's "
            "name, device or place."
        ),
        "browser": _(
            "Not cleaned: sealed in the reporter's browser, which cleans only JPEG and PNG "
            "pictures. It may hold the reporter's name, device or place."
        ),
    }
    return str(notes.get(what, ""))
