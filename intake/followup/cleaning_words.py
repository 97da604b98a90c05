"""What the follow-up page tells a reporter about each file's hidden information: what
was removed, or why it was not (the cleaning itself: cases.attachments.cleaning)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from cases.attachments.cleaning import outcome
from cases.attachments.cleaning_words import REMOVED_WORDS, removed_words


def cleaning_note(report: dict[str, Any]) -> str:
    """One sentence for the file, or "" for a file stored before files were reported on."""
    what, removed = outcome(report)
    if what == "removed":
        words = [_(word) for word in removed_words(removed)]
        return str(_("Hidden information removed: %(what)s.", what=", ".join(words)))
    return _notes().get(what, "")


def cleaning_words() -> dict[str, Any]:
    """The same words for the page script of a sealed session, which opens each file's
    metadata itself: a note per outcome ("removed" with ``%(what)s``), and each removed
    thing's words in display order."""
    return {
        "notes": {**_notes(), "removed": str(_("Hidden information removed: %(what)s."))},
        "removed": [[key, str(_(word))] for key, word in REMOVED_WORDS.items()],
    }


def _notes() -> dict[str, str]:
    notes = {  # built per call: the words follow the request's language
        "kept": _("Kept as you sent it: you chose to keep its hidden information."),
        "none_found": _("We found no hidden information in it."),
        "too_large": _(
            "Not cleaned: it is too large to clean here. It may still hold names and other "
            "hidden information."
        ),
        "unreadable": _(
            "Not cleaned: we could not read its structure. It may still hold hidden "
            "information."
        ),
        "unsupported": _(
            "Not cleaned: we cannot clean this kind of file. Such files can hold names, "
            "devices and places."
        ),
        "browser": _(
            "Sent as it was: it was sealed in your browser, which cleans only JPEG and PNG "
            "pictures. It may still hold names and other hidden information."
        ),
    }
    return {what: str(note) for what, note in notes.items()}
